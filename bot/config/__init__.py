"""Configuration: settings from flags, env, Action inputs, evalbot.yaml, .env and defaults.

    settings   Settings and the one precedence chain
    file       evalbot.yaml (the repo/watch/sources file)

May import the core and `evaluators.settings` (engine names); no edge, app or entry point.
"""
