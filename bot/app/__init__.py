"""The application: the pipeline of DESIGN §1 and the work it schedules.

    pipeline          App: one repo through source → plan → dedupe gate → publish
    evaluations       fresh evaluations (local or HF Jobs) and their cache
    remote_jobs       HF Jobs runner (+ flavors.yaml)
    scan              which repos to run, in as few Hub requests as possible
    results_source leaderboard_source   sources that read files from the Hub

May import edges, config, core and `evaluators`; never an entry point.
"""
