"""The `evalbot` command line (DESIGN §11). Thin: parse, build Settings, call the core, map
errors to exit codes in one table.

Exit codes: 0 results, 3 nothing found, 2 bad input, 1 any other error.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import __version__, action
from bot.cli import _bot as _cli_bot
from bot.cli._flags import add_output_formats, add_report_format, add_write_modes
from bot.config.settings import Settings, load_settings
from bot.core.benchmarks import with_task_types
from bot.core.card import (
    CardChange,
    apply_scores,
    parse_card,
    read_eval_results,
    read_model_index,
    validate_model_index,
)
from bot.core.diffs import files_diff
from bot.core.placement import RegistryView
from bot.core.render import default_environment, make_environment, render_template
from bot.core.scores import Score
from bot.core.tables import TableInfo, TableResult, inspect_tables, why_nothing
from bot.core.tables.readme import SOURCE_KEY, read_card_scores
from bot.edges.hub import HubClient
from bot.edges.registry import BenchmarkRegistry
from bot.errors import (
    EXIT_BAD_INPUT,
    EXIT_ERROR,
    EXIT_NOTHING,
    EXIT_OK,
    BotError,
    CardError,
    ConfigError,
    InputError,
    one_line,
)

logger = logging.getLogger("evalbot")

_EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (InputError, EXIT_BAD_INPUT),
    (ConfigError, EXIT_BAD_INPUT),
    (BotError, EXIT_ERROR),
)


class _Parser(argparse.ArgumentParser):
    """argparse that exits with 2 and a one-line message, like every other bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"evalbot: error: {message} (see `{self.prog} --help`)\n")


@dataclass(frozen=True)
class _Input:
    """The card a command works on: from a file, or from a repo on the Hub."""

    text: str
    repo_id: str | None
    eval_results: dict[str, str]
    label: str  # for messages: the path or the repo id


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="evalbot",
        description="Trustworthy evaluation results for Hugging Face model repos.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"evalbot {__version__}")
    _add_global_flags(parser, default=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    inspect = commands.add_parser("inspect-tables", help="list the card's tables and how evalbot reads them")
    _add_source(inspect)
    inspect.add_argument("--model-name", help="the model to look for (default: the repo name)")
    add_report_format(inspect)
    inspect.set_defaults(func=_cmd_inspect_tables)

    extract = commands.add_parser("extract-readme", help="extract the card's own scores from its tables")
    _add_source(extract)
    extract.add_argument(
        "--model-name",
        "--model-name-override",
        dest="model_name",
        help="the model whose scores to take (default: the repo id, or the card's model-index name)",
    )
    extract.add_argument("--table", type=int, help="only table N (1-based, as `inspect-tables` numbers them)")
    extract.add_argument("--model-column-index", type=int, help="with --table: the model's column (0-based)")
    extract.add_argument("--task-type", help="model-index task type (default: from the benchmark or pipeline_tag)")
    extract.add_argument("--dataset-name", help="dataset name for labels the benchmark vocabulary does not know")
    extract.add_argument("--dataset-type", help="dataset type for labels the benchmark vocabulary does not know")
    add_output_formats(extract)
    extract.add_argument("--templates-dir", type=Path, help="your own Jinja templates (rendered sandboxed)")
    add_report_format(extract, ("yaml", "json"))
    add_write_modes(extract, pr="evalbot's PR", dry_run="print the full diff of what would change")
    extract.set_defaults(func=_cmd_extract_readme)

    for name, func, text in (
        ("show", _cmd_show, "print the card's model-index and .eval_results"),
        ("validate", _cmd_validate, "check the card's model-index and .eval_results"),
    ):
        command = commands.add_parser(name, help=text)
        _add_source(command)
        command.set_defaults(func=func)
    _cli_bot.add_commands(commands)
    action.add_command(commands)
    for name, command in commands.choices.items():
        # global flags work after the subcommand too; SUPPRESS keeps a flag given before it
        _add_global_flags(command, default=argparse.SUPPRESS)
        command.formatter_class = _HelpFormatter
        for flag in command._actions:  # a flag without help still shows its default
            if flag.help is None and flag.option_strings and flag.default not in (None, False):
                flag.help = "default: %(default)s"
        command.epilog = command.epilog or _EXAMPLES.get(name)
    return parser


_EPILOG = """exit codes: 0 results (or a plan), 3 nothing found (the message says why), 2 bad input, 1 any other error

Nothing is written to the Hub unless a command is asked to: --create-pr opens or updates evalbot's
pull request, --push/--apply commits to main. `evalbot COMMAND --help` shows each command's examples."""

_EXAMPLES = {
    "inspect-tables": "example:\n  evalbot inspect-tables --repo-id org/model\n"
    "  evalbot inspect-tables --readme-file README.md",
    "extract-readme": "example:\n  evalbot extract-readme --readme-file README.md --model-name Ours-7B --format json\n"
    "  evalbot extract-readme --repo-id org/model --dry-run",
    "show": "example:\n  evalbot show --repo-id org/model",
    "validate": "example:\n  evalbot validate --readme-file README.md",
    "run": "example:\n  evalbot run --repo-id org/model                # the plan and the diff; nothing written\n"
    "  evalbot run --repo-id your-name/your-model --create-pr",
    "scan": "example:\n  evalbot scan --author org                       # dry run over every model of org\n"
    "  evalbot scan --repos-file repos.txt --workers 8 --create-pr",
    "import-results": "example:\n  evalbot import-results --repo-id org/model results_2025-01-01.json   # the diff\n"
    "  evalbot import-results --repo-id org/model logs/*.eval --create-pr",
    "hook": "example:\n  WEBHOOK_PAYLOAD='{...}' WEBHOOK_SECRET=... evalbot hook   # inside a webhook-triggered HF Job",
    "get-prs": "example:\n  evalbot get-prs --repo-id org/model --format json",
    "sim": "example:\n  evalbot sim --repos examples/demo --port 8765   # then HF_ENDPOINT=http://127.0.0.1:8765",
    "import-aa": "example:\n  evalbot import-aa --repo-id org/model --aa-model gpt-4o   # scores and diff only\n"
    "  evalbot import-aa --repo-id org/model --aa-model gpt-4o --create-pr",
    "evaluate": "example:\n  evalbot evaluate --repo-id org/model --tasks 'gsm8k|5' --limit 10\n"
    "  evalbot evaluate --repo-id org/model --tasks inspect_evals/gsm8k --engine inspect --create-pr",
    "demo": "example:\n  evalbot demo\n  evalbot demo --evaluate   # needs the eval extra: pip install 'evalbot[eval]'",
    "serve": "example:\n  EVALBOT_WEBHOOK_SECRET=... evalbot serve --port 8080\n"
    "  (needs the server extra: pip install 'evalbot[server]')",
    "action": "example:\n  INPUT_REPO_IDS=org/model INPUT_DRY_RUN=true evalbot action",
}


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown (where the help does not already say them), examples kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help_text = action.help or ""
        if "default" in help_text or action.default in (None, False, argparse.SUPPRESS) or not action.option_strings:
            return help_text
        return f"{help_text} (default: %(default)s)"


def _add_global_flags(parser: argparse.ArgumentParser, *, default: Any) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", default=default, help="log decisions (INFO) to stderr")
    parser.add_argument(
        "--config",
        type=Path,
        default=None if default is False else default,
        help="evalbot.yaml (default: $EVALBOT_CONFIG, else ./evalbot.yaml if present)",
    )
    parser.add_argument(
        "--token-from",
        choices=("env", "login"),
        default=None if default is False else default,
        help="where the Hub token comes from: env (HF_TOKEN) or login (`hf auth login`); "
        "default: HF_TOKEN, else the login token",
    )


def _add_source(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument(
        "--repo-id", type=_cli_bot.repo_id_arg, help="a model repo on the Hub (read-only), e.g. org/model"
    )
    group.add_argument("--readme-file", type=Path, help="a local README.md")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `evalbot` console script."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, or a one-line usage error (exit 2)
        return e.code if isinstance(e.code, int) else EXIT_BAD_INPUT
    if args.command is None:  # bare `evalbot`: the overview, not an error
        parser.print_help()
        return EXIT_OK
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    func: Callable[[argparse.Namespace, Settings], int] = args.func
    try:
        if args.command == "action":  # the Action builds its Settings from its inputs (bot.action.inputs)
            return func(args, Settings())
        settings = load_settings(flags=_setting_flags(args), env=os.environ)
        return func(args, settings)
    except BotError as e:
        print(f"evalbot: error: {one_line(str(e))}", file=sys.stderr)
        return next(code for kind, code in _EXIT_CODES if isinstance(e, kind))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `evalbot ... | head`: the reader left; no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _setting_flags(args: argparse.Namespace) -> dict[str, object]:
    """The flags that are settings (the top layer of `load_settings`); None: not given."""
    names = ("token_from", "templates_dir", "workers", "bot_user")
    return {name: getattr(args, name, None) for name in names} | {"config_path": getattr(args, "config", None)}


def _read_input(args: argparse.Namespace, settings: Settings) -> _Input:
    if args.readme_file is not None:
        path: Path = args.readme_file
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise InputError(f"cannot read {path}: {e.strerror or e}") from e
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise InputError(f"{path} is not UTF-8 text (byte {e.start}); save it as UTF-8") from e
        eval_dir = path.parent / ".eval_results"
        files = {
            f".eval_results/{p.name}": p.read_text(encoding="utf-8")
            for p in sorted(eval_dir.glob("*.y*ml"))
            if p.is_file()
        }
        return _Input(text, None, files, str(path))
    repo = HubClient(settings).snapshot(args.repo_id)
    if repo.readme is None:
        raise InputError(f"{args.repo_id} has no README.md; there is no card to read")
    return _Input(repo.readme, args.repo_id, dict(repo.eval_results), args.repo_id)


def _cmd_inspect_tables(args: argparse.Namespace, settings: Settings) -> int:
    source = _read_input(args, settings)
    model = args.model_name or source.repo_id
    infos = inspect_tables(source.text, model)
    if args.format == "json":
        print(json.dumps({"model": model, "tables": [_info_json(i) for i in infos]}, indent=2, ensure_ascii=False))
    else:
        print(_format_infos(infos, source.label))
        if not any(info.published for info in infos):
            why = why_nothing(source.text, model)
            print("nothing would be published" + (":" if why else " (no evaluation table)"))
            for line in why:
                print(f"  {line}")
    return EXIT_OK if infos else EXIT_NOTHING


def _info_json(info: TableInfo) -> dict[str, Any]:
    return {
        "table": info.number,
        "line": info.line,
        "kind": info.kind,
        "header": list(info.header),
        "rows": info.rows,
        "evaluation": info.evaluation,
        "orientation": info.orientation,
        "detail": info.detail,
        "confidence": info.confidence,
        "published": info.published,
    }


def _format_infos(infos: Sequence[TableInfo], label: str) -> str:
    if not infos:
        return f"{label}: no tables"
    lines = [f"{label}: {len(infos)} table(s)"]
    for info in infos:
        verdict = f"evaluation, {info.orientation}" if info.evaluation else "skipped"
        header = " | ".join(h or "·" for h in info.header)
        lines.append(f"Table {info.number} (line {info.line}, {info.kind}, {info.rows} rows): {verdict}")
        lines.append(f"    header: {header}")
        lines.append(f"    {info.detail}")
        if info.confidence is not None:
            verdict = "published" if info.published else "shown only, never published"
            lines.append(f"    confidence {info.confidence:.2f}: {verdict}")
    return "\n".join(lines)


def _cmd_extract_readme(args: argparse.Namespace, settings: Settings) -> int:
    if args.apply or args.create_pr:
        return _cli_bot.publish_readme(args, settings)
    formats = [f.strip() for f in args.output_formats.split(",") if f.strip()]
    source = _read_input(args, settings)
    card = parse_card(source.text)
    model = args.model_name or source.repo_id or _card_model_name(card.data)
    found = read_card_scores(
        source.text,
        model,
        min_confidence=settings.readme_min_confidence,
        source_url=settings.repo_url(source.repo_id) if source.repo_id else None,
        card_data=card.data,
        table=args.table,
        model_column_index=args.model_column_index,
        task_type=args.task_type,
        dataset_name=args.dataset_name,
        dataset_type=args.dataset_type,
    )
    if args.format == "json":
        document: dict[str, Any] = {"model": model, "results": [_result_json(r) for r in found.results]}
        if found.withheld:  # found, but below the confidence threshold: never published
            document["withheld"] = [
                _result_json(r) | {"confidence": r.confidence, "reasons": list(r.reasons)} for r in found.withheld
            ]
        if found.why:
            document["why"] = found.why
        print(json.dumps(document, indent=2, ensure_ascii=False))
        return EXIT_OK if found.scores else EXIT_NOTHING
    for result in found.withheld:
        print(
            f"not published (confidence {result.confidence:.2f}): table {result.table} {result.label!r} = "
            f"{result.value:g}: {'; '.join(result.reasons)}",
            file=sys.stderr,
        )
    if not found.scores:
        print(f"{source.label}: no evaluation results found in the card's tables", file=sys.stderr)
        for line in found.why:
            print(f"  {line}", file=sys.stderr)
        return EXIT_NOTHING
    # the same scores the pipeline publishes: the card's pipeline_tag decides the task unless --task-type does
    scores = found.scores if args.task_type else with_task_types(found.scores, card.data.get("pipeline_tag"))
    env = make_environment(settings.templates_dir)  # --templates-dir is a flag of the chain
    change = apply_scores(
        card,
        scores,
        source_key=SOURCE_KEY,
        model_name=(model or "model").rsplit("/", 1)[-1],  # model-index names are plain text
        formats=formats,
        existing_files=source.eval_results,
        env=env,
        registry=_registry_view(source, scores, formats, settings),
    )
    if args.dry_run:
        print(_diff(source, change) or "no change: the card already has these results")
    else:
        print(_proposed_yaml(change), end="")
    for conflict in change.conflicts:
        logger.warning(
            "kept the card's %s = %r (%s); the table says %r",
            conflict.score.benchmark,
            conflict.existing_value,
            conflict.existing_source or "no source",
            conflict.score.metric.value,
        )
    return EXIT_OK


def _registry_view(source: _Input, scores: list[Score], formats: list[str], settings: Settings) -> RegistryView:
    """What the Hub says about the scores' benchmarks; a local file has no Hub to ask."""
    if "eval-results" not in formats:
        return RegistryView()
    if source.repo_id is None:
        logger.warning(
            "%s: .eval_results entries need the Hub's benchmark registry; name the repo with --repo-id "
            "to include them (model-index only)",
            source.label,
        )
        return RegistryView()
    ttl = settings.registry_ttl_hours * 3600
    registry = BenchmarkRegistry(HubClient(settings), settings.home / "registry", ttl=ttl)
    return registry.view(score.dataset.id for score in scores)


def _card_model_name(data: Any) -> str | None:
    index = data.get("model-index") if isinstance(data, dict) else None
    if isinstance(index, list) and index and isinstance(index[0], dict) and isinstance(index[0].get("name"), str):
        return str(index[0]["name"])
    name = data.get("model_name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


def _result_json(result: TableResult) -> dict[str, Any]:
    """The DESIGN §11 contract, plus `label` (the header text as written)."""
    return {
        "table": result.table,
        "benchmark": result.benchmark,
        "metric": result.metric,
        "value": result.value,
        "stderr": result.stderr,
        "row": result.row,
        "column": result.column,
        "label": result.label,
    }


def _proposed_yaml(change: CardChange) -> str:
    """The model-index as it would be after the merge, then each changed .eval_results file."""
    parts = []
    index = read_model_index(parse_card(change.readme))
    if index:
        parts.append(_model_index_yaml(index))
    for path, content in sorted(change.files.items()):
        parts.append(f"# {path}\n{content}")
    return "\n".join(parts)


def _model_index_yaml(index: list[dict[str, Any]]) -> str:
    return render_template(default_environment(), "model_index.yaml.j2", model_index=index).rstrip("\n") + "\n"


def _diff(source: _Input, change: CardChange) -> str:
    new = dict(change.files)
    if change.readme != source.text:
        new["README.md"] = change.readme
    return files_diff({"README.md": source.text, **source.eval_results}, new)


def _cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    source = _read_input(args, settings)
    card = parse_card(source.text)
    index = read_model_index(card)
    if not index and not source.eval_results:
        print(f"{source.label}: no model-index and no .eval_results files; {_try_extract(source)}", file=sys.stderr)
        return EXIT_NOTHING
    if index:
        print(_model_index_yaml(index), end="")
    for path, content in sorted(source.eval_results.items()):
        print(f"# {path}\n{content}", end="" if content.endswith("\n") else "\n")
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    source = _read_input(args, settings)
    card = parse_card(source.text)
    index = card.data.get("model-index")
    problems = validate_model_index(index) if index is not None else []
    problems += _eval_results_problems(source.eval_results)
    if problems:
        for problem in problems:
            print(f"{source.label}: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if index is None and not source.eval_results:
        print(
            f"{source.label}: no model-index and no .eval_results files to validate; {_try_extract(source)}",
            file=sys.stderr,
        )
        return EXIT_NOTHING
    count = sum(len(model["results"]) for model in index or [])
    files = len(source.eval_results)
    print(f"{source.label}: valid ({count} model-index result(s), {files} .eval_results file(s))")
    return EXIT_OK


def _try_extract(source: _Input) -> str:
    where = f"--repo-id {source.repo_id}" if source.repo_id else f"--readme-file {source.label}"
    return f"`evalbot extract-readme {where} --dry-run` shows what evalbot would add from the card's tables"


def _eval_results_problems(files: dict[str, str]) -> list[str]:
    problems = []
    for path, content in sorted(files.items()):
        try:
            read_eval_results(path, content)
        except CardError as e:
            problems.append(str(e))
    return problems
