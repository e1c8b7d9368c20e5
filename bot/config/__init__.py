"""Configuration: settings from flags, env, Action inputs, evalbot.yaml, .env and defaults.

    settings   Settings and the one precedence chain
    file       evalbot.yaml (the repo/watch/sources file)
    dotenv     .env (KEY=VALUE lines, the lowest layer above the defaults)

May import the core and `evaluators.settings` (engine names); no edge, app or entry point.
"""
