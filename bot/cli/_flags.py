"""Flags several CLI commands share, declared once (entry point layer).

Every command that can write has the same three modes: a dry run (the default: the full diff,
nothing written), `--create-pr`, and a direct commit (`--apply`, or `--push` for `run`/`scan`).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from bot.core.card import FORMATS


def add_output_formats(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output-formats",
        default="model-index,eval-results",
        help=f"comma-separated, from {', '.join(FORMATS)} (default: model-index,eval-results)",
    )


def add_report_format(parser: argparse.ArgumentParser, choices: Sequence[str] = ("text", "json")) -> None:
    parser.add_argument("--format", choices=choices, default=choices[0])


def add_write_modes(
    parser: argparse.ArgumentParser,
    *,
    pr: str,
    dry_run: str = "print the scores and the full diff (the default)",
    commit: str = "--apply",
) -> None:
    """`--dry-run` | `--create-pr` | `--apply` (or `--push`): one at most; none means a dry run."""
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help=dry_run)
    mode.add_argument("--create-pr", action="store_true", help=f"open or update {pr}, through the dedupe gate")
    mode.add_argument(commit, action="store_true", help="commit to main, through the dedupe gate (needs write)")
