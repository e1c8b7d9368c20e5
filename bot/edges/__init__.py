"""Edges: each module speaks to one outside system, and nothing else does.

    hub (+ _pacing)        the Hugging Face Hub: cards, PRs, commits, datasets, HF Jobs; the only HfApi user
    store/                 the ledger and the job queue (SQLite or PostgreSQL)
    artificial_analysis    the AA API
    github                 GitHub (Action reporting)
    registry               the Hub's benchmark registry, cached

    _http                  shared by hub, artificial_analysis and github: Retry-After/RateLimit headers
                           to seconds, the one backoff and retry loop, status → error of bot.errors
    _pacing                the Hub's quota windows (hub only)

May import config and core; never the app or an entry point, and never each other (independent,
checked by `lint-imports`), so a second backend for one of them touches nothing else. The private
helpers (`_http`, `_pacing`) are the one thing edges share: any edge may import them, and they
import no edge (also checked by `lint-imports`).
"""
