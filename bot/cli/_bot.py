"""CLI commands that run the bot's pipeline: `run`, `scan`, `get-prs`, `sim`, `demo`, and
`extract-readme --apply/--create-pr`. Thin: build Jobs, call `App`, print reports.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import re
import socket
import sys
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from bot.app.compose import build_app
from bot.app.pipeline import AAOptions, App, Job, ReadmeOptions, Report, ResultsOptions
from bot.app.report_text import format_reports, format_run
from bot.app.scan import heads_for_author, heads_for_repos, run_scan
from bot.cli._flags import add_output_formats, add_report_format, add_write_modes
from bot.cli.demo import run_demo
from bot.config.file import SOURCES as WATCHED_SOURCES
from bot.config.settings import Settings
from bot.core.card import parse_card
from bot.core.plan import PrInfo
from bot.core.result_files import ResultFile, check_model, read_result_file
from bot.core.result_files import check_publishable as check_results_publishable
from bot.core.scores import Score
from bot.edges.artificial_analysis import AAModel, find_model, pipeline_mismatch, scores_from_model
from bot.edges.hub import HubClient
from bot.errors import EXIT_ERROR, EXIT_NOTHING, EXIT_OK, ConfigError, InputError, MissingExtraError
from evaluators.request import RUNNERS, EvalRequest, check_publishable
from evaluators.settings import BACKENDS, CHAT_TEMPLATES, ENGINES, EvalSettings

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9._-]+$")
_REPO_HELP = "the model repo on the Hub, e.g. org/model"


def repo_id_arg(value: str) -> str:
    """argparse type for --repo-id: a malformed id is bad input (exit 2), not a Hub failure."""
    if len(value) > 96 or not _REPO_ID.match(value):
        raise argparse.ArgumentTypeError(f"{value[:100]!r} is not a repo id like org/name")
    return value


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    run = commands.add_parser("run", help="the full pipeline for one repo, through the dedupe gate")
    run.add_argument("--repo-id", required=True, type=repo_id_arg, help=_REPO_HELP)
    run.add_argument("--model-name", help="(readme) the model whose scores to take (default: the repo name)")
    run.add_argument("--table", type=int, help="(readme) only table N (1-based, as `inspect-tables` numbers them)")
    run.add_argument("--model-column-index", type=int, help="(readme) with --table: the model's column (0-based)")
    _add_job_options(run)
    run.set_defaults(func=cmd_run)

    scan = commands.add_parser("scan", help="run many repos with a bounded worker pool")
    who = scan.add_mutually_exclusive_group(required=True)
    who.add_argument("--author", help="every model repo of this user or org")
    who.add_argument("--repos-file", type=Path, help="a file with one repo id per line (# comments allowed)")
    scan.add_argument(
        "--workers", type=int, help="parallel repos (default: EVALBOT_WORKERS, else evalbot.yaml workers, else 4)"
    )
    _add_job_options(scan)
    scan.set_defaults(func=cmd_scan)

    prs = commands.add_parser("get-prs", help="list a repo's pull requests and which are evalbot's")
    prs.add_argument("--repo-id", required=True, type=repo_id_arg, help=_REPO_HELP)
    add_report_format(prs)
    prs.add_argument("--bot-user", help="evalbot's Hub account (default: EVALBOT_BOT_USER, else the token's user)")
    prs.set_defaults(func=cmd_get_prs)

    sim = commands.add_parser("sim", help="run the local Hub stand-in in the foreground")
    sim.add_argument("--port", type=int, default=8765)
    sim.add_argument("--repos", type=Path, required=True, help="a directory laid out as <org>/<name>/<files>")
    sim.add_argument("--faults", help="fault injection, e.g. 'commit:drop_after:times=1,*:429:rate=0.2'")
    sim.add_argument("--aa-port", type=int, help="also serve the Artificial Analysis stand-in on this port")
    sim.add_argument("--aa-key", default="aa-test-key", help="the API key the AA stand-in accepts")
    sim.set_defaults(func=cmd_sim)

    aa = commands.add_parser("import-aa", help="import Artificial Analysis scores, through the dedupe gate")
    aa.add_argument("--repo-id", required=True, type=repo_id_arg, help=_REPO_HELP)
    aa.add_argument("--aa-model", help="the AA model: its id (preferred), creator/slug, or slug")
    aa.add_argument("--creator-slug", help="with --model-name: the AA creator slug (reference tool's flags)")
    aa.add_argument("--model-name", help="the AA model slug")
    add_output_formats(aa)
    add_report_format(aa)
    aa.add_argument("--force", action="store_true", help="import even though the card's pipeline_tag is not an LLM's")
    add_write_modes(aa, pr="evalbot's AA pull request")
    aa.set_defaults(func=cmd_import_aa)

    imp = commands.add_parser(
        "import-results", help="import lm-eval / lighteval / inspect result files, through the dedupe gate"
    )
    imp.add_argument("--repo-id", required=True, type=repo_id_arg, help=_REPO_HELP)
    imp.add_argument(
        "files", nargs="+", type=Path, metavar="FILE", help="results_*.json, *.eval or an inspect .json log"
    )
    imp.add_argument("--force-model", action="store_true", help="import files that name another model than --repo-id")
    imp.add_argument("--allow-partial", action="store_true", help="publish partial runs, marked 'partial: ...'")
    add_output_formats(imp)
    add_report_format(imp)
    add_write_modes(imp, pr="evalbot's imported-results PR")
    imp.set_defaults(func=cmd_import_results)

    ev = commands.add_parser("evaluate", help="evaluate a model with lighteval or inspect-ai, through the dedupe gate")
    ev.add_argument("--repo-id", required=True, type=repo_id_arg, help=_REPO_HELP)
    ev.add_argument(
        "--tasks", required=True, help="comma-separated, in the engine's spelling: 'gsm8k|5' or 'x.py@task'"
    )
    ev.add_argument("--engine", choices=ENGINES, default="lighteval")
    ev.add_argument("--backend", choices=BACKENDS, default="transformers")
    ev.add_argument("--runner", choices=RUNNERS, default="local")
    ev.add_argument(
        "--provider",
        help="(inspect) evaluate through an Inference Provider (e.g. together, auto) instead of downloading the model",
    )
    ev.add_argument("--base-url", help="with --provider NAME: an OpenAI-compatible endpoint (key: $NAME_API_KEY)")
    ev.add_argument("--limit", type=int, help="samples per task: a partial run, for dry runs and smoke tests")
    ev.add_argument(
        "--allow-partial", action="store_true", help="publish a --limit run, marked 'partial: N of M samples'"
    )
    ev.add_argument("--revision", help="the commit to evaluate (default: main's head)")
    ev.add_argument("--custom-tasks", type=Path, help="a lighteval custom tasks file / inspect task file")
    ev.add_argument("--device", default="auto", help="auto (CUDA when present, else CPU), cpu, cuda, cuda:N")
    ev.add_argument("--dtype", help="e.g. bfloat16, float16, float32 (default: the engine's, or the Jobs flavor's)")
    ev.add_argument("--batch-size", type=int)
    ev.add_argument("--max-new-tokens", type=int, help="cap generated tokens (default: each task's own setting)")
    ev.add_argument("--temperature", type=float, default=0.0, help="default 0: greedy, reproducible")
    ev.add_argument(
        "--chat-template",
        choices=CHAT_TEMPLATES,
        default="auto",
        help="auto (default): the engine detects it from the tokenizer; on/off force it",
    )
    ev.add_argument("--tensor-parallel-size", type=int, default=1, help="(vllm) GPUs to shard the model over")
    ev.add_argument("--gpu-memory-utilization", type=float, default=0.9, help="(vllm) fraction of GPU memory")
    ev.add_argument("--max-model-len", type=int, help="the model's context length for the engine")
    ev.add_argument("--trust-remote-code", action="store_true", help="run the repo's own code (off by default)")
    ev.add_argument("--settings-json", help=argparse.SUPPRESS)  # (Jobs) the whole EvalSettings, as JSON
    ev.add_argument("--task-file", action="append", default=[], help=argparse.SUPPRESS)  # (Jobs) from --results-repo
    ev.add_argument("--results-repo", help="(Jobs) upload the Run JSON to this dataset repo and publish nothing else")
    ev.add_argument("--results-path", help="(Jobs) the path of the Run JSON in --results-repo")
    ev.add_argument("--flavor", help="(hf-jobs) hardware flavor (default: chosen from the model's size)")
    ev.add_argument("--timeout", type=float, default=3 * 3600, help="(hf-jobs) seconds before the job is cancelled")
    add_output_formats(ev)
    add_report_format(ev)
    add_write_modes(ev, pr="evalbot's evaluation PR")
    ev.set_defaults(func=cmd_evaluate)

    demo = commands.add_parser("demo", help="offline: a local Hub with sample repos, scanned twice")
    demo.add_argument("--keep", type=Path, help="keep the demo's ledger in this directory")
    demo.add_argument(
        "--evaluate", action="store_true", help="also evaluate a tiny model with lighteval and inspect (CPU, offline)"
    )
    demo.set_defaults(func=cmd_demo)

    hook = commands.add_parser(
        "hook", help="run one Hub webhook event from WEBHOOK_PAYLOAD (inside a webhook-triggered HF Job; no server)"
    )
    add_report_format(hook)
    hook.set_defaults(func=cmd_hook)

    serve = commands.add_parser("serve", help="the webhook bot: Hub webhooks in, queue, workers, status page")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to listen on (default 127.0.0.1; a public one needs EVALBOT_STATUS_TOKEN for the status pages)",
    )
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")), help="default: $PORT or 8080")
    serve.add_argument(
        "--workers",
        type=int,
        help="worker threads (default: EVALBOT_WORKERS, else evalbot.yaml workers, else 2; 0: only accept and queue)",
    )
    serve.set_defaults(func=cmd_serve)


def _add_job_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sources",
        default="readme",
        help=f"comma-separated, from {', '.join(WATCHED_SOURCES)} (default: readme)",
    )
    parser.add_argument(
        "--tasks", help="for the eval source: tasks in the engine's spelling, e.g. 'gsm8k|5' (else evalbot.yaml eval:)"
    )
    parser.add_argument("--engine", choices=ENGINES, default="lighteval", help="for the eval source with --tasks")
    add_output_formats(parser)
    add_write_modes(
        parser,
        pr="evalbot's PR",
        dry_run="print the plan and the full diff; write nothing (the default)",
        commit="--push",
    )
    add_report_format(parser)


def _writes(args: argparse.Namespace) -> bool:
    """`run` and `scan` write only when asked: --create-pr or --push (DESIGN §11)."""
    return bool(args.create_pr or args.push)


def _job(args: argparse.Namespace, repo_id: str, readme: ReadmeOptions | None = None) -> Job:
    return Job(
        repo_id=repo_id,
        sources=_csv(args.sources),
        dry_run=not _writes(args),
        mode="push" if getattr(args, "push", False) else "pr",
        formats=_csv(args.output_formats),
        readme=readme or ReadmeOptions(),
        eval=_job_eval(args),
    )


def _job_eval(args: argparse.Namespace) -> EvalRequest | None:
    """`run/scan --tasks`: the eval source's request (None: evalbot.yaml's eval: section)."""
    if not args.tasks:
        return None
    if "eval" not in _csv(args.sources):
        raise InputError("--tasks is for the eval source: add eval to --sources (e.g. --sources readme,eval)")
    request = EvalRequest(tasks=_csv(args.tasks), settings=EvalSettings(engine=args.engine))
    request.specs()  # bad task strings fail now, with exit 2
    return request


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def banner(app: App, command: str, *, dry_run: bool) -> str:
    """The first line of `run`, `scan` and `serve`: who evalbot acts as, where, and whether it writes."""
    who = f"as {app.hub.whoami().name}" if app.settings.hf_token else "without a token (read-only)"
    mode = "dry run: nothing is written (--create-pr or --push to write)" if dry_run else "writes through the gate"
    return f"evalbot {command} {who} on {app.settings.hf_endpoint}; {mode}"


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    dry_run = not _writes(args)
    if args.model_column_index is not None and args.table is None:
        raise InputError("--model-column-index needs --table (the table that column is in)")
    readme = ReadmeOptions(model_name=args.model_name, table=args.table, model_column_index=args.model_column_index)
    job = _job(args, args.repo_id, readme)  # bad flags fail before any request
    app = build_app(settings, dry_run=dry_run)
    print(banner(app, "run", dry_run=dry_run), file=sys.stderr, flush=True)
    reports = app.run(job)
    print_reports(reports, args.format, show_diff=dry_run)
    return exit_code(reports)


def publish_readme(args: argparse.Namespace, settings: Settings) -> int:
    """`extract-readme --apply/--create-pr`: the same gate as `run`."""
    if args.repo_id is None:
        raise InputError("--apply/--create-pr write to the Hub: name the repo with --repo-id")
    readme = ReadmeOptions(
        model_name=args.model_name,
        table=args.table,
        model_column_index=args.model_column_index,
        task_type=args.task_type,
        dataset_name=args.dataset_name,
        dataset_type=args.dataset_type,
    )
    job = Job(
        repo_id=args.repo_id,
        mode="push" if args.apply else "pr",
        formats=_csv(args.output_formats),
        readme=readme,
    )
    reports = build_app(settings, dry_run=False).run(job)
    print_reports(reports, "json" if args.format == "json" else "text", show_diff=False)
    return exit_code(reports)


def cmd_import_aa(args: argparse.Namespace, settings: Settings) -> int:
    """`import-aa`: AA's scores for one repo; without --apply/--create-pr nothing is written."""
    if args.creator_slug and not args.model_name:
        raise InputError("--creator-slug needs --model-name (the AA model slug)")
    dry_run = not (args.apply or args.create_pr)
    options = AAOptions(
        model=args.aa_model, creator_slug=args.creator_slug, model_name=args.model_name, force=args.force
    )
    job = Job(
        repo_id=args.repo_id,
        sources=("aa",),
        dry_run=dry_run,
        mode="push" if args.apply else "pr",
        formats=_csv(args.output_formats),
        aa=options,
    )
    app = build_app(settings, dry_run=dry_run)
    readme = app.hub.snapshot(args.repo_id).readme
    if not args.force and readme is not None and (mismatch := pipeline_mismatch(parse_card(readme).data)):
        raise InputError(f"{args.repo_id}: {mismatch}")  # before any AA request
    if args.format == "text":
        listing = app.aa.listing()
        model = find_model(
            listing.models,
            repo_id=args.repo_id,
            model=options.model,
            creator_slug=options.creator_slug,
            model_name=options.model_name,
            mapping=settings.aa_mapping,
        )
        print(format_aa_scores(model, scores_from_model(model, fetched_at=listing.fetched_at)))
    reports = app.run(job)
    print_reports(reports, args.format, show_diff=dry_run)
    return exit_code(reports)


def eval_request(args: argparse.Namespace) -> EvalRequest:
    """The evaluate flags as an EvalRequest (task strings and settings are checked here, before any download)."""
    if args.settings_json is not None:  # inside an HF Job: the bot's settings, whole
        try:
            settings = EvalSettings.from_json(json.loads(args.settings_json))
        except ValueError as e:
            raise InputError(f"--settings-json: {e}") from e
        if settings.custom_tasks is not None:
            settings = replace(settings, custom_tasks=settings.custom_tasks.resolve())
    else:
        if args.custom_tasks is not None and not args.custom_tasks.is_file():
            raise InputError(f"--custom-tasks {args.custom_tasks}: no such file")
        settings = EvalSettings(
            engine=args.engine,
            backend=args.backend,
            provider=args.provider,
            base_url=args.base_url,
            dtype=args.dtype,
            device=args.device,
            tensor_parallel_size=args.tensor_parallel_size,
            gpu_memory_utilization=args.gpu_memory_utilization,
            max_model_len=args.max_model_len,
            batch_size=args.batch_size,
            max_new_tokens=args.max_new_tokens,
            temperature=args.temperature,
            chat_template=args.chat_template,
            limit=args.limit,
            allow_partial=args.allow_partial,
            trust_remote_code=args.trust_remote_code,
            custom_tasks=args.custom_tasks.resolve() if args.custom_tasks else None,
        )
    request = EvalRequest(tasks=_csv(args.tasks), settings=settings, runner=args.runner)
    request.specs()  # bad task strings fail now, with exit 2
    return request


def _fetch_task_files(app: App, args: argparse.Namespace) -> None:
    """(Jobs) download the bot's task files from the results dataset into this working directory."""
    if not args.task_file:
        return
    if not args.results_repo:
        raise InputError("--task-file needs --results-repo (the dataset the task files were uploaded to)")
    for path_in_repo in args.task_file:
        name = Path(path_in_repo).name
        local = app.hub.download_file(args.results_repo, path_in_repo, repo_type="dataset")
        if local is None:
            raise InputError(f"the dataset {args.results_repo} has no task file {path_in_repo}")
        Path(name).write_bytes(local.read_bytes())


def cmd_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    """`evaluate`: run the engine (or reuse a cached run), then show, or publish through the gate."""
    dry_run = not (args.apply or args.create_pr)
    app = build_app(
        settings,
        dry_run=dry_run,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
        flavor=args.flavor,
        timeout_s=args.timeout,
    )
    _fetch_task_files(app, args)
    request = eval_request(args)
    if not dry_run:
        check_publishable(request.settings)  # before any download or GPU time
    sha = args.revision or app.hub.snapshot(args.repo_id).sha
    run = app.evals.evaluate(args.repo_id, sha, request)
    if args.results_repo:  # inside an HF Job: hand the Run back to the bot, publish nothing
        if not args.results_path:
            raise InputError("--results-repo needs --results-path")
        app.hub.upload_file(
            args.results_repo, args.results_path, json.dumps(run.to_json()).encode(), repo_type="dataset"
        )
        print(f"uploaded the results of {args.repo_id}@{sha[:12]} to {args.results_repo}/{args.results_path}")
        return EXIT_OK
    if args.format == "text":
        print(format_run(run))
    if args.revision and args.revision != app.hub.snapshot(args.repo_id).sha:
        raise InputError(f"--revision {args.revision[:12]} is not main's head: evaluate it, but publish from main only")
    job = Job(
        repo_id=args.repo_id,
        sources=("eval",),
        dry_run=dry_run,
        mode="push" if args.apply else "pr",
        formats=_csv(args.output_formats),
        eval=request,
    )
    reports = app.run(job)
    print_reports(reports, args.format, show_diff=dry_run)
    return exit_code(reports)


def cmd_import_results(args: argparse.Namespace, settings: Settings) -> int:
    """`import-results`: harness result files for one repo; without --apply/--create-pr nothing is written."""
    results = [read_local_result(path) for path in args.files]  # every file is read before anything is written
    for result in results:
        check_model(result, args.repo_id, force=args.force_model)
    dry_run = not (args.apply or args.create_pr)
    if not dry_run:
        check_results_publishable(results, allow_partial=args.allow_partial)
    job = Job(
        repo_id=args.repo_id,
        sources=("import",),
        dry_run=dry_run,
        mode="push" if args.apply else "pr",
        formats=_csv(args.output_formats),
        results=ResultsOptions(files=tuple(results), force_model=args.force_model, allow_partial=args.allow_partial),
    )
    if args.format == "text":
        print(format_result_files(results))
    reports = build_app(settings, dry_run=dry_run).run(job)
    print_reports(reports, args.format, show_diff=dry_run)
    return exit_code(reports)


def read_local_result(path: Path) -> ResultFile:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}") from e
    return read_result_file(str(path), data)


def format_result_files(results: Sequence[ResultFile]) -> str:
    """Each file's scores with their provenance: engine, model, commit, task, metric, value ± stderr, shots."""
    lines = []
    for result in results:
        lines.append(result.describe() + (f"  PARTIAL: {result.partial}" if result.partial else ""))
        for score in result.scores:
            stderr = f" ± {score.metric.stderr:.4g}" if score.metric.stderr is not None else ""
            shots = f"{score.shots}-shot" if score.shots is not None else "shots ?"
            task = score.provenance.get("task", "")
            lines.append(
                f"  {task:<32} {score.benchmark:<24} {score.metric.type:<28} {score.metric.value:.4g}{stderr}  {shots}"
            )
    return "\n".join(lines) + "\n"


def format_aa_scores(model: AAModel, scores: Sequence[Score]) -> str:
    """The scores AA has for `model`, with their units, and the attribution AA's terms require."""
    lines = [f"Artificial Analysis: {model.label}", f"Source: {model.page_url} (attribution required by AA's terms)"]
    for score in scores:
        field = score.provenance.get("field", "")
        lines.append(f"  {score.benchmark:<40} {score.metric.value:>10g}  {score.metric.unit:<8}  ({field})")
    if not scores:
        lines.append("  (no evaluations: every field is null)")
    return "\n".join(lines) + "\n"


def cmd_scan(args: argparse.Namespace, settings: Settings) -> int:
    dry_run = not _writes(args)
    workers = settings.workers  # --workers > EVALBOT_WORKERS > evalbot.yaml workers > 4 (load_settings)
    if workers < 1:
        raise ConfigError(f"--workers {workers}: must be at least 1")
    _job_eval(args)  # bad flags and inputs fail before any request
    repos = None if args.author else read_repos_file(args.repos_file)
    if repos == []:
        print(f"no repos to scan: {args.repos_file} names none (one org/name per line)", file=sys.stderr)
        return EXIT_NOTHING
    app = build_app(settings, dry_run=dry_run)
    print(banner(app, "scan", dry_run=dry_run), file=sys.stderr, flush=True)
    # one listing per owner carries every repo's sha: an unchanged repo costs no further request
    targets = heads_for_author(app.hub, args.author) if repos is None else heads_for_repos(app.hub, repos)
    if not targets:
        if args.author:
            print(
                f"no repos to scan: {settings.hf_endpoint} lists no model repos of {args.author!r}; the user or "
                "organization may not exist (names are case-sensitive) or have only private models",
                file=sys.stderr,
            )
        else:
            print(f"no repos to scan: none of the repos in {args.repos_file} is on the Hub", file=sys.stderr)
        return EXIT_NOTHING
    reports = run_scan(app, targets, _job(args, ""), workers=workers, progress=sys.stderr.isatty())
    print_reports(reports, args.format, show_diff=dry_run)
    return exit_code(reports)


def read_repos_file(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}") from e
    repos = []
    for number, line in enumerate(lines, start=1):
        repo = line.split("#", 1)[0].strip()
        if not repo:
            continue
        if repo.count("/") != 1 or " " in repo:
            raise InputError(f"{path} line {number}: {repo!r} is not a repo id like org/name")
        repos.append(repo)
    return list(dict.fromkeys(repos))  # a repo listed twice runs once


def cmd_get_prs(args: argparse.Namespace, settings: Settings) -> int:
    hub = HubClient(settings)
    bot_user = settings.bot_user or (hub.whoami().name if settings.hf_token else None)  # --bot-user is a flag
    # evalbot's PRs are those with its marker AND by its account: markers are read whoever wrote them,
    # so a PR with the marker by another account is shown as such (say which account is evalbot's)
    prs = hub.list_prs(args.repo_id, bot_user=None, all_details=True)

    def is_bot(pr: PrInfo) -> bool:
        return pr.is_bot and (bot_user is None or pr.author == bot_user)

    if args.format == "json":
        print(json.dumps([asdict(pr) | {"is_bot": is_bot(pr), "bot_user": bot_user} for pr in prs], indent=2))
    elif not prs:
        print(
            f"{args.repo_id}: no pull requests "
            f"(`evalbot run --repo-id {args.repo_id}` shows what evalbot would propose)"
        )
    else:
        print(f"{args.repo_id}: {len(prs)} pull request(s)" + (f"; evalbot's account: {bot_user}" if bot_user else ""))
        for pr in prs:
            mine = ""
            if is_bot(pr):
                mine = f"  evalbot source={pr.source} fingerprint={(pr.fingerprint or '')[:12]}"
            elif pr.is_bot:
                mine = (
                    f"  evalbot's marker, but not by {bot_user} (--bot-user {pr.author} if that is evalbot's account)"
                )
            print(f"#{pr.num:<5} {pr.status:<7} {pr.author:<20} {pr.title}{mine}")
    return EXIT_OK if prs else EXIT_NOTHING


def cmd_sim(args: argparse.Namespace, settings: Settings) -> int:
    # the stand-ins load only for `evalbot sim` (about 130 ms of imports every other command would pay)
    from bot.sim.hub import parse_faults, serve

    if not args.repos.is_dir():
        raise InputError(f"--repos {args.repos}: not a directory (expected <org>/<name>/<files>)")
    try:
        parse_faults(args.faults or "")
    except ValueError as e:
        raise InputError(f"--faults: {e}") from e
    if args.aa_port is not None:
        from bot.sim.aa import AASim

        try:
            aa = AASim(api_key=args.aa_key, port=args.aa_port).start()
        except OSError as e:
            raise _port_error("--aa-port", args.aa_port, e) from e
        print(f"Artificial Analysis stand-in listening on {aa.url} ({len(aa.models)} models)", flush=True)
    try:
        serve(args.port, args.repos, args.faults, None)
    except OSError as e:
        raise _port_error("--port", args.port, e) from e
    return EXIT_OK


def require_extra(command: str, extra: str, modules: Sequence[str]) -> None:
    """A one-line `MissingExtraError` naming the `pip install` when one of `modules` is missing."""
    import importlib.util

    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # a module set to None (tests) or a broken install
            found = False
        if not found:
            raise MissingExtraError(command, extra)


def _port_error(flag: str, port: int, error: OSError) -> InputError:
    """A port that cannot be bound is bad input: one line, exit 2."""
    why = "already in use" if error.errno == errno.EADDRINUSE else (error.strerror or str(error))
    return InputError(f"{flag} {port}: {why}; pick another port (or stop what is listening there)")


def _bind(host: str, port: int) -> socket.socket:
    """The server's listening socket, bound before the banner (so a busy port is one line, exit 2)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise _port_error("--port", port, e) from e
    sock.set_inheritable(True)
    return sock


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    try:
        import uvicorn

        from bot.serve.server import is_loopback
        from bot.serve.service import STATUS_TOKEN_ENV, build_service
    except ModuleNotFoundError as e:
        raise MissingExtraError("serve", "server") from e

    sock = _bind(args.host, args.port)
    service = build_service(settings, workers=args.workers, host=args.host)
    user = service.pipeline.hub.whoami().name  # read once, at start (build_service checked the token)
    print(
        f"evalbot serve as {user} on http://{args.host}:{args.port} ({len(service.workers)} workers; "
        f"Hub {settings.hf_endpoint})",
        flush=True,
    )
    if not is_loopback(args.host) and not os.environ.get(STATUS_TOKEN_ENV):
        print(
            f"evalbot serve: {args.host} is not a loopback interface and {STATUS_TOKEN_ENV} is not set: "
            "the status pages (/, /api/jobs, /metrics) answer 403; webhooks and /healthz work",
            file=sys.stderr,
            flush=True,
        )
    config = uvicorn.Config(
        service.app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=30
    )
    uvicorn.Server(config).run(sockets=[sock])
    return EXIT_OK


def cmd_hook(args: argparse.Namespace, settings: Settings) -> int:
    """`hook`: the event in WEBHOOK_PAYLOAD, checked and run as `serve` would; exit 1 when a job failed."""
    from bot.serve.hook import run_hook  # imports starlette (the `server` extra), like serve

    result = run_hook(settings, os.environ)
    if args.format == "json":
        payload = {"event": result.key, "ignored": result.ignored, "errors": list(result.errors)}
        print(json.dumps(payload | {"reports": [asdict(r) for r in result.reports]}, indent=2))
    elif result.ignored is not None:
        print(f"{result.key}: no job ({result.ignored})")
    else:
        print(format_reports(result.reports))
        for error in result.errors:
            print(f"failed: {error}")
    return EXIT_ERROR if result.failed else EXIT_OK


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    if args.evaluate:
        require_extra("demo --evaluate", "eval", ("torch", "transformers", "lighteval", "inspect_ai"))

    code: int = run_demo(args.keep, evaluate=args.evaluate)
    return code


def exit_code(reports: Sequence[Report]) -> int:
    """1 if anything failed; 0 otherwise (skips are not failures)."""
    return EXIT_ERROR if any(r.outcome == "failed" for r in reports) else EXIT_OK


def print_reports(reports: Sequence[Report], fmt: str, *, show_diff: bool) -> None:
    if fmt == "json":
        print(json.dumps([asdict(r) for r in reports], indent=2))
        return
    print(format_reports(reports))
    for report in reports:
        if report.withheld:  # found, but below the confidence threshold: never published
            print(f"\n# {report.repo_id} [{report.source}]: {len(report.withheld)} result(s) withheld")
            print("\n".join(f"  {line}" for line in report.withheld))
    if show_diff:
        for report in reports:
            if report.diff:
                print(f"\n# {report.repo_id} [{report.source}]\n{report.diff}", end="")
