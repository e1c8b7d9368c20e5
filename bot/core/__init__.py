"""The pure core: cards, tables, scores and decisions, with no I/O (DESIGN §1).

Nothing here opens a socket, a file outside the arguments it is given, or a database; everything
is a function of its inputs, so it is tested with plain values. May import: `bot.errors`, the
other core modules, nothing else of evalbot (not even `evaluators`).

    tables/        README tables → the card's own scores (private: _source _cells _layout _model_match; readme)
    card/          the card: front matter, model-index and .eval_results merge, the results section
    scores         the Score record (evaluators imports it), benchmarks the vocabulary (and its YAML)
    parse          typed parsers for settings (bool, bounded int, choices, lists) with one-line errors
    plan render    what to publish (typed decision), the PR/commit text from templates/
    diffs events chatops placement result_files harness_tasks _markers _deadline
"""
