"""evalbot: trustworthy, structured evaluation results for Hugging Face model repos.

The packages are the layers; a module imports from its own layer and the layers below it,
never above (import-linter checks this: `lint-imports`, [tool.importlinter] in pyproject.toml;
tests/test_layers.py fails when a new module is in no layer).

    layer          package         what it holds                                   may import
    entry points   cli action      the CLI, the GitHub Action, `serve` (server,    everything below
                   serve           worker, service) and `hook`
    app            app             pipeline (App), compose (the one place an App   edges, config, core,
                                   is built), evaluations, remote_jobs, scan, the  evaluators
                                   result-file and leaderboard sources
    edges          edges sim       hub, store/, artificial_analysis, github,       config, core, evaluators;
                                   registry; sim/ the local stand-ins              not each other
    config         config          settings (the precedence chain), file           evaluators, core, records
                                   (evalbot.yaml)
    evaluators     evaluators/     the engine adapters (a package of its own)      of bot: errors and the
                                                                                   core records only
    core (pure)    core            tables/, card/, plan, render, diffs, events,    each other, records
                                   chatops, placement, result_files, ...
    records        core.benchmarks > core.scores > errors                          the ones to their right

No import cycles between modules, at any level.
"""

from __future__ import annotations

from bot.core.scores import Dataset, Metric, Score, Source, Task, Unit
from bot.errors import BotError

__all__ = ["BotError", "Dataset", "Metric", "Score", "Source", "Task", "Unit"]
__version__ = "0.1.0"
