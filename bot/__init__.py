"""evalbot: trustworthy, structured evaluation results for Hugging Face model repos.

The modules are flat, but layered; a module imports from its own layer and the layers below it,
never above (import-linter checks this: `lint-imports`, [tool.importlinter] in pyproject.toml).

    layer          modules                                                 may import
    entry points   cli _cli_bot _cli_flags _cli_text action server         everything below
                   service demo hook
    app            app worker evaluations remote_jobs scan                 edges, config, core, evaluators
                   results_source leaderboard_source
    edges          hub _pacing store _store_db artificial_analysis         config, core, evaluators;
                   github registry sim/                                    not each other (hub, store,
                                                                           artificial_analysis, github,
                                                                           registry, sim are independent)
    config         config config_file                                      core, evaluators, records
    core (pure)    tables _table_layout _table_source _cells _model_match  each other, evaluators, records
                   card _frontmatter _merge _section plan render status_text diffs
                   events chatops placement _markers result_files
                   harness_tasks readme_source _deadline
    evaluators     the engine adapters (a package of its own)              records only
    records        benchmarks > scores > errors                            the ones to their right

No import cycles between modules, at any level.
"""

from __future__ import annotations

from bot.core.scores import Dataset, Metric, Score, Source, Task, Unit
from bot.errors import BotError

__all__ = ["BotError", "Dataset", "Metric", "Score", "Source", "Task", "Unit"]
__version__ = "0.1.0"
