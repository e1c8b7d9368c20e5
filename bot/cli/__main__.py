"""`python -m bot.cli`: the `evalbot` command (HF Jobs and the tests run it this way)."""

from bot.cli import main

raise SystemExit(main())
