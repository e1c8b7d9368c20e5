"""Result files the harnesses write → Scores with provenance (pure, apart from inspect's own reader).

Three formats, recognised by content (the file name only picks the candidates):

- lm-evaluation-harness `results_<timestamp>.json`: `results[task]["<metric>,<filter>"]` and
  `"<metric>_stderr,<filter>"` (a stderr may be "N/A"), `n-shot`, `configs[task]` (the dataset),
  `versions`, `groups`/`group_subtasks`, `config.model_args`, `model_sha`/`model_revision`,
  `lm_eval_version`, `date`. A metric with a filter other than `none` keeps it in its type
  (`exact_match,strict-match` and `exact_match,flexible-extract` are two metrics).
- lighteval `results_<datetime>.json`: `results["task|fewshot"]` (also `suite|task|fewshot` and
  the Open LLM Leaderboard v1's `harness|task|fewshot`), `<metric>_stderr`, `config_general`.
  `all` is an aggregate of everything and is not a benchmark; `<task>:_average` is its group.
- inspect-ai logs, `.eval` (a zip) or `.json`: inspect's own `read_eval_log(header_only=True)`
  when inspect is installed, else `header.json` read here. Only `status: success` is read.

A group is reported as the group (`mmlu` is MMLU), its subtasks as themselves, never one as the
other. A file that is none of these, or is cut short, is an `InputError` naming the file and what
was expected. Partial runs (`limit`, `max_samples`, fewer samples than the task has) carry
`partial: ...` in every score's `notes`; `check_publishable` refuses them unless allowed.
"""

from __future__ import annotations

import io
import json
import math
import re
import struct
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from bot.core import harness_tasks
from bot.core.benchmarks import metric_type, slug
from bot.core.scores import Dataset, Metric, Score, Source, Task
from bot.errors import InputError, one_line

Format = Literal["lm-eval", "lighteval", "inspect"]
ENGINES: Mapping[Format, str] = {"lm-eval": "lm-evaluation-harness", "lighteval": "lighteval", "inspect": "inspect-ai"}
DEFAULT_TASK = "text-generation"
MAX_BYTES = 200_000_000  # an .eval log with samples can be large; only its header is read

_RESULTS_NAME = re.compile(r"^results_.+\.json$")
_INSPECT_JSON_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}[-:]\d{2}[-:]\d{2}.*_.+\.json$")
_NAME_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2})[-:](\d{2})[-:](\d{2})")
_ZSTD = 93  # the zip compression method inspect writes


@dataclass(frozen=True)
class ResultFile:
    """One harness result file: its scores and everything the PR body says about where they came from."""

    path: str
    format: Format
    engine_version: str | None
    model: str | None  # the model evaluated, as the file names it (a repo id, or a local path)
    model_sha: str | None  # the model commit the file says it evaluated
    date: str | None  # ISO date of the run
    scores: tuple[Score, ...]
    partial: str | None = None  # `partial: ...` when any task ran on fewer samples than it has

    @property
    def engine(self) -> str:
        return ENGINES[self.format]

    def describe(self) -> str:
        """One line for the PR body: engine and version, the file, the model and commit, the date."""
        version = f" {self.engine_version}" if self.engine_version else ""
        model = f", model {self.model}" if self.model else ""
        sha = f" at {self.model_sha}" if self.model_sha else ""
        date = f", run {self.date}" if self.date else ""
        return f"{self.engine}{version} results file {self.path}{model}{sha}{date}"


def is_candidate(path: str) -> bool:
    """Whether a repo path may be a result file, by its name (content decides)."""
    name = PurePosixPath(path).name
    return bool(_RESULTS_NAME.match(name) or name.endswith(".eval") or _INSPECT_JSON_NAME.match(name))


def read_result_file(path: str, data: bytes, *, source: Source | None = None, variants: bool = False) -> ResultFile:
    """Parse one file (`path` names it in errors and provenance); `source` is the attribution
    every score gets (default: the engine). `variants`: also map `C<task>` translated variants.

    Raises:
        InputError: not a result file of any known format, cut short, or an unsuccessful run.
    """
    if len(data) > MAX_BYTES:
        raise InputError(f"{path}: larger than {MAX_BYTES // 1_000_000} MB; not a harness result file")
    if data[:4] == b"PK\x03\x04" or path.endswith(".eval"):
        return _inspect(path, _inspect_header(path, data), source)
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise InputError(
            f"{path}: not valid JSON ({_short(e)}); expected an lm-eval, lighteval or inspect result file"
        ) from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: a JSON {type(doc).__name__}; expected an lm-eval, lighteval or inspect result file")
    if isinstance(doc.get("eval"), dict) and "status" in doc:
        return _inspect(path, _inspect_json(path, data, doc), source)
    if isinstance(doc.get("config_general"), dict) and isinstance(doc.get("results"), dict):
        return _lighteval(path, doc, source, variants)
    if isinstance(doc.get("results"), dict) and ("n-shot" in doc or "configs" in doc or "lm_eval_version" in doc):
        return _lm_eval(path, doc, source, variants)
    raise InputError(
        f"{path}: not an lm-eval (results, configs, n-shot), lighteval (results, config_general) "
        "or inspect (eval, status, results) result file"
    )


def check_model(result: ResultFile, repo_id: str, *, force: bool = False) -> None:
    """Refuse a file evaluated on another model than `repo_id` (both names in the message)."""
    if force or result.model is None or same_model(result.model, repo_id):
        return
    raise InputError(
        f"{result.path} was evaluated on {result.model}, not {repo_id}; "
        "pass --force-model if it is the same model under another name"
    )


def same_model(named: str, repo_id: str) -> bool:
    """A file's model name is the repo: the same id (case-insensitive), or a local path ending in its name."""
    named = named.strip().rstrip("/")
    if named.casefold() == repo_id.casefold():
        return True
    if named.startswith(("/", ".", "~")):  # a local checkout: only its folder name can be compared
        return PurePosixPath(named).name.casefold() == repo_id.rsplit("/", 1)[-1].casefold()
    return False


def check_publishable(results: Sequence[ResultFile], *, allow_partial: bool) -> None:
    """Partial runs are published only when allowed (and then marked in `notes`)."""
    partial = [f"{r.path} ({r.partial})" for r in results if r.partial]
    if partial and not allow_partial:
        raise InputError(
            f"partial run(s): {'; '.join(partial)}; pass --allow-partial to publish them marked as partial"
        )


def newest_first(results: Sequence[ResultFile]) -> list[Score]:
    """Every score once per identity: where several files measure the same thing, the newest run wins."""
    seen: dict[tuple[Any, ...], Score] = {}
    for result in sorted(results, key=lambda r: (r.date or "", r.path), reverse=True):
        for score in result.scores:
            seen.setdefault(score.identity, score)  # DESIGN §4's identity: one value per metric of a dataset
    return list(seen.values())


# ---- lm-evaluation-harness --------------------------------------------------------------


def _lm_eval(path: str, doc: Mapping[str, Any], source: Source | None, variants: bool) -> ResultFile:
    results = _dict(doc.get("results"))
    groups = _dict(doc.get("groups"))
    listed = _dict(doc.get("group_subtasks")).items()
    subtasks = {str(g): [str(t) for t in ts] for g, ts in listed if isinstance(ts, list)}
    n_shot, configs, versions = _dict(doc.get("n-shot")), _dict(doc.get("configs")), _dict(doc.get("versions"))
    config = _dict(doc.get("config"))
    limit = config.get("limit")
    samples = _dict(doc.get("n-samples"))
    model = _model_arg(config.get("model_args")) or _text(doc.get("model_name"))
    sha = (
        _text(doc.get("model_sha"))
        or _text(config.get("model_sha"))
        or _text(doc.get("model_revision"))
        or _text(config.get("model_revision"))
        or _model_arg(config.get("model_args"), "revision")
    )
    version = _text(doc.get("lm_eval_version"))
    date = _unix_date(doc.get("date")) or _name_date(path)
    src = source or Source(ENGINES["lm-eval"])
    entries = {**results, **groups}  # a group may be listed in both; it is one entry
    if not entries:
        raise InputError(f"{path}: an lm-eval results file with no results; expected results[task][metric,filter]")
    scores: list[Score] = []
    notes: list[str] = []
    for task, metrics in entries.items():
        if not isinstance(metrics, dict):
            continue
        task = str(task)
        shots = _int(n_shot.get(task))
        if shots is None and task in subtasks:  # a group: its subtasks' setting, when they agree
            found = {_int(n_shot.get(t)) for t in subtasks[task]}
            shots = found.pop() if len(found) == 1 else None
        note = _lm_eval_partial(task, samples, limit, subtasks)
        if note:
            notes.append(f"{task}: {note}")
        cfg = _dict(configs.get(task))
        split = _text(cfg.get("test_split")) or _text(cfg.get("validation_split"))
        own = (_text(cfg.get("dataset_path")), _text(cfg.get("dataset_name")), split)
        for key, value in metrics.items():
            metric, _, filt = str(key).partition(",")
            if metric.endswith("_stderr") or metric == "alias" or not _is_number(value):
                continue
            mtype = metric if filt in ("", "none") else f"{metric},{filt}"
            stderr = _stderr(metrics.get(f"{metric}_stderr,{filt}" if filt else f"{metric}_stderr"))
            provenance = {"file": path, "task": task, "key": str(key), "task_version": versions.get(task)}
            provenance |= {"dataset": "/".join(p for p in own if p)} if own[0] else {}
            scores.append(_score(task, mtype, float(value), stderr, shots, own, src, date, note, provenance, variants))
    return ResultFile(path, "lm-eval", version, model, sha, date, _ordered(scores), "; ".join(notes) or None)


def _lm_eval_partial(
    task: str, samples: Mapping[str, Any], limit: Any, subtasks: Mapping[str, list[str]]
) -> str | None:
    counted = [task, *subtasks.get(task, ())]
    effective = original = 0
    for name in counted:
        n = _dict(samples.get(name))
        e, o = _int(n.get("effective")), _int(n.get("original"))
        if e is not None and o is not None:
            effective, original = effective + e, original + o
    if original and effective < original:
        return f"partial: {effective} of {original} samples"
    if _is_number(limit):
        return f"partial: limit {limit:g}"
    return None


def _model_arg(args: Any, key: str = "pretrained") -> str | None:
    """`pretrained=org/name,revision=abc,dtype=float16` (or the same as a dict) → `org/name`."""
    if isinstance(args, dict):
        return _text(args.get(key)) or (_text(args.get("model")) if key == "pretrained" else None)
    if isinstance(args, str):
        for part in args.split(","):
            name, _, value = part.partition("=")
            if name.strip() == key or (key == "pretrained" and name.strip() == "model"):
                return value.strip() or None
    return None


# ---- lighteval ----------------------------------------------------------------------------


def _lighteval(path: str, doc: Mapping[str, Any], source: Source | None, variants: bool) -> ResultFile:
    general = _dict(doc.get("config_general"))
    results = _dict(doc.get("results"))
    model = _text(general.get("model_name"))
    sha = _text(general.get("model_sha"))
    version = _text(general.get("lighteval_sha"))
    date = _name_date(path)  # config_general's start/end times are process clocks, not dates
    max_samples = general.get("max_samples")
    note = f"partial: max_samples {max_samples:g}" if _is_number(max_samples) else None
    versions = _dict(doc.get("versions"))
    src = source or Source(ENGINES["lighteval"])
    scores: list[Score] = []
    for key, metrics in results.items():
        if not isinstance(metrics, dict) or key == "all":  # `all`: the mean of everything, no benchmark
            continue
        parts = str(key).split("|")
        if len(parts) == 3:
            parts = parts[1:]
        if len(parts) != 2 or _int(parts[1]) is None:
            raise InputError(f"{path}: lighteval result key {key!r}: expected 'task|fewshot' or 'suite|task|fewshot'")
        task, shots = parts[0], _int(parts[1])
        provenance_base = {"file": path, "result_key": str(key), "task_version": versions.get(str(key))}
        for metric, value in metrics.items():
            metric = str(metric)
            if metric.endswith("_stderr") or not _is_number(value):
                continue
            stderr = _stderr(metrics.get(f"{metric}_stderr"))
            provenance = {**provenance_base, "key": metric}
            scores.append(
                _score(task, _lighteval_metric(metric), float(value), stderr, shots, (None, None, None), src, date,
                       note, provenance, variants)
            )  # fmt: skip
    if not scores:
        raise InputError(f"{path}: a lighteval results file with no numeric results; expected results['task|fewshot']")
    return ResultFile(path, "lighteval", version, model, sha, date, _ordered(scores), note)


def _lighteval_metric(key: str) -> str:
    return metric_type(key)


# ---- inspect-ai ---------------------------------------------------------------------------


def _inspect(path: str, header: Mapping[str, Any], source: Source | None) -> ResultFile:
    status = header.get("status")
    if status != "success":
        raise InputError(f"{path}: an inspect log with status {status!r}; only a finished run (success) is read")
    spec = _dict(header.get("eval"))
    results = _dict(header.get("results"))
    task = _text(spec.get("task")) or PurePosixPath(path).stem
    task_name = task.rsplit("/", 1)[-1]
    dataset = _dict(spec.get("dataset"))
    config = _dict(spec.get("config"))
    packages = _dict(spec.get("packages"))
    model = _text(spec.get("model"))
    model = model.split("/", 1)[1] if model and model.count("/") >= 2 else model  # hf/org/name → org/name
    total, completed = _int(results.get("total_samples")), _int(results.get("completed_samples"))
    note = None
    if total and completed is not None and completed < total:
        note = f"partial: {completed} of {total} samples"
    elif _is_number(config.get("limit")):
        note = f"partial: limit {config['limit']}"
    elif _int(dataset.get("samples")) and total and total < (_int(dataset.get("samples")) or 0):
        note = f"partial: {total} of {dataset['samples']} samples"
    stats = _dict(header.get("stats"))
    date = (_text(stats.get("completed_at")) or _text(spec.get("created")) or "")[:10] or _name_date(path)
    src = source or Source(ENGINES["inspect"])
    own = (_text(dataset.get("location")), None, None)
    shots = _int(_dict(spec.get("task_args")).get("fewshot"))
    scores: list[Score] = []
    listed = results.get("scores")
    entries: list[Any] = listed if isinstance(listed, list) else []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        metrics = _dict(entry.get("metrics"))
        stderr = _stderr(_dict(metrics.get("stderr")).get("value"))
        several = len(entries) > 1
        for name, metric in metrics.items():
            value = _dict(metric).get("value")
            if name in ("stderr", "std") or not isinstance(value, int | float) or not _is_number(value):
                continue
            mtype = _lighteval_metric(str(name))
            if several:
                mtype = f"{entry.get('name')}/{mtype}"
            provenance = {"file": path, "inspect_task": task, "scorer": entry.get("name"), "key": str(name)}
            scores.append(
                _score(task_name, mtype, float(value), stderr, shots, own, src, date, note, provenance, False)
            )
    if not scores:
        raise InputError(f"{path}: an inspect log without scores; expected results.scores[].metrics")
    return ResultFile(path, "inspect", _text(packages.get("inspect_ai")), model, None, date, tuple(scores), note)


def _inspect_header(path: str, data: bytes) -> Mapping[str, Any]:
    """`header.json` of an `.eval` zip: inspect's own reader when installed, else read here."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as e:
        raise InputError(f"{path}: not a complete .eval zip ({_short(e)}); expected an inspect log") from None
    with archive:
        if "header.json" not in archive.namelist():
            raise InputError(
                f"{path}: an .eval zip without header.json: the run did not finish; expected an inspect log"
            )
        via_inspect = _with_inspect(path, data, ".eval")
        if via_inspect is not None:
            return via_inspect
        raw = _zip_member(path, archive, data, "header.json")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise InputError(f"{path}: header.json is not valid JSON ({_short(e)}); expected an inspect log") from None
    if not isinstance(header, dict):
        raise InputError(f"{path}: header.json is not a JSON object; expected an inspect log")
    return header


def _inspect_json(path: str, data: bytes, doc: Mapping[str, Any]) -> Mapping[str, Any]:
    return _with_inspect(path, data, ".json") or doc


def _with_inspect(path: str, data: bytes, suffix: str) -> Mapping[str, Any] | None:
    """The log header as inspect reads it (validated by inspect), or None when inspect is not installed."""
    try:
        from inspect_ai.log import read_eval_log
    except ImportError:
        return None
    with tempfile.TemporaryDirectory(prefix="evalbot-log-") as folder:
        local = Path(folder) / f"log{suffix}"
        local.write_bytes(data)
        try:
            log = read_eval_log(str(local), header_only=True)
        except Exception as e:  # inspect raises many kinds (pydantic, zip, json)
            raise InputError(f"{path}: inspect cannot read this log ({_short(e)}); expected an inspect log") from None
    dumped: dict[str, Any] = log.model_dump(mode="json", exclude_none=True)
    return dumped


def _zip_member(path: str, archive: zipfile.ZipFile, data: bytes, name: str) -> bytes:
    info = archive.getinfo(name)
    if info.compress_type != _ZSTD:
        try:
            return archive.read(name)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as e:
            raise InputError(f"{path}: {name} cannot be read ({_short(e)}); expected an inspect log") from None
    try:
        import zstandard
    except ImportError:
        raise InputError(f"{path}: zstd-compressed; install inspect-ai (or zstandard) to read it") from None
    start = info.header_offset
    signature, *_fields = struct.unpack("<IHHHHHIIIHH", data[start : start + 30])
    if signature != 0x04034B50:
        raise InputError(f"{path}: a damaged .eval zip (bad local header for {name}); expected an inspect log")
    name_len, extra_len = _fields[-2], _fields[-1]
    body = data[start + 30 + name_len + extra_len : start + 30 + name_len + extra_len + info.compress_size]
    try:
        return bytes(zstandard.ZstdDecompressor().decompressobj().decompress(body))
    except zstandard.ZstdError as e:
        raise InputError(f"{path}: {name} is cut short ({_short(e)}); expected an inspect log") from None


# ---- shared ----------------------------------------------------------------------------------


def _score(
    task: str,
    metric: str,
    value: float,
    stderr: float | None,
    shots: int | None,
    own: tuple[str | None, str | None, str | None],
    source: Source,
    date: str | None,
    note: str | None,
    provenance: dict[str, Any],
    variants: bool,
) -> Score:
    known = harness_tasks.lookup_task(task, variants=variants)
    dataset = harness_tasks.dataset_for(known) if known is not None else None
    if dataset is None:
        name = known.benchmark if known is not None else task
        path, config, split = own
        # Not a known benchmark: its own name, model-index only (no dataset id for .eval_results)
        dataset = Dataset(name=name, type=path or slug(name), config=config, split=split)
    benchmark = known.benchmark if known is not None else task
    label = f"{benchmark} {metric}" + (f" ({note})" if note else "")
    return Score(
        benchmark=benchmark,
        dataset=dataset,
        task=Task(DEFAULT_TASK),
        metric=Metric(type=metric, value=value, name=label, stderr=stderr, unit=_unit(metric, value)),
        source=source,
        shots=shots,
        notes=note,
        provenance={"task": task, **{k: v for k, v in provenance.items() if v is not None}},
        date=date,
    )


def _ordered(scores: list[Score]) -> tuple[Score, ...]:
    """The file's order, with each task's usual metric first: where only one metric of a benchmark
    can be its `.eval_results` entry (gsm8k strict-match, not flexible-extract), it is that one."""
    tasks = list(dict.fromkeys(str(s.provenance.get("task")) for s in scores))

    def key(score: Score) -> tuple[int, int]:
        task = str(score.provenance.get("task"))
        known = harness_tasks.lookup_task(task, variants=True)
        return tasks.index(task), 0 if known is not None and score.metric.type in known.metrics else 1

    return tuple(sorted(scores, key=key))


def with_source(result: ResultFile, source: Source) -> ResultFile:
    """The same file with every score attributed to `source` (a leaderboard, a repo file's URL)."""
    return replace(result, scores=tuple(replace(s, source=source) for s in result.scores))


_RAW_METRICS = ("perplexity", "bits_per_byte", "byte_perplexity", "word_perplexity", "bleu", "chrf", "ter", "elo")


def _unit(metric: str, value: float) -> Literal["fraction", "raw"]:
    if any(metric.startswith(m) for m in _RAW_METRICS) or not 0.0 <= value <= 1.0:
        return "raw"
    return "fraction"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _stderr(value: Any) -> float | None:
    """A stderr as a number; "N/A" (lm-eval's for metrics without one) and junk are None."""
    return float(value) if _is_number(value) else None


def _unix_date(value: Any) -> str | None:
    if isinstance(value, str):
        value = float(value) if re.fullmatch(r"\d+(\.\d+)?", value) else None
    if not _is_number(value) or value <= 0:
        return None
    return datetime.fromtimestamp(float(value), tz=UTC).date().isoformat()


def _name_date(path: str) -> str | None:
    found = _NAME_TIME.search(PurePosixPath(path).name)
    return found[1] if found else None


def _short(error: BaseException) -> str:
    return one_line(error)[:200] or type(error).__name__
