"""Edges: each module speaks to one outside system, and nothing else does.

    hub (+ _pacing)        the Hugging Face Hub: cards, PRs, commits, datasets, HF Jobs; the only HfApi user
    store/                 the ledger and the job queue (SQLite or PostgreSQL)
    artificial_analysis    the AA API
    github                 GitHub (Action reporting)
    registry               the Hub's benchmark registry, cached

May import config and core; never the app or an entry point, and never each other (independent,
checked by `lint-imports`), so a second backend for one of them touches nothing else.
"""
