"""The harness result-file readers (bot.core.result_files) on files shaped like each harness's output."""

from __future__ import annotations

import builtins
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from bot.core import harness_tasks
from bot.core.result_files import (
    ResultFile,
    check_model,
    check_publishable,
    is_candidate,
    newest_first,
    read_result_file,
)
from bot.core.scores import Score
from bot.errors import InputError

FILES = Path(__file__).parent / "result_files"
LM_EVAL = "evals/results_2024-05-01T11-20-00.500000.json"


def _read(name: str, path: str | None = None, **edits: Any) -> ResultFile:
    data = json.loads((FILES / name).read_text(encoding="utf-8"))
    for key, value in edits.items():
        data[key] = value
    return read_result_file(path or name, json.dumps(data).encode())


def _by(result: ResultFile) -> dict[tuple[str, str], Score]:
    return {(str(s.provenance["task"]), s.metric.type): s for s in result.scores}


def _eval_zip(header: dict[str, Any], *, compression: int = zipfile.ZIP_DEFLATED, with_header: bool = True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        archive.writestr("_journal/start.json", json.dumps({"version": 2, "eval": header["eval"]}))
        archive.writestr("samples/1_epoch_1.json", json.dumps({"id": 1, "epoch": 1}))
        if with_header:
            archive.writestr("header.json", json.dumps(header))
    return buffer.getvalue()


def _inspect_header(**results: Any) -> dict[str, Any]:
    header: dict[str, Any] = json.loads((FILES / "inspect_log.json").read_text(encoding="utf-8"))
    header["results"].update(results)
    return header


# ---- lm-evaluation-harness ---------------------------------------------------------------


def test_lm_eval_every_metric_with_stderr_shots_filters_and_provenance() -> None:
    result = _read("lm_eval_results.json", LM_EVAL)
    assert (result.format, result.engine, result.engine_version) == ("lm-eval", "lm-evaluation-harness", "0.4.3")
    assert (result.model, result.model_sha) == ("acme/llama-7b", "3f1e2d4c5b6a79881726354433221100ffeeddcc")
    assert result.date == "2024-05-01" and result.partial is None
    scores = _by(result)
    assert sorted(scores) == [
        ("arc_challenge", "acc"),
        ("arc_challenge", "acc_norm"),
        ("gsm8k", "exact_match,flexible-extract"),
        ("gsm8k", "exact_match,strict-match"),
        ("mmlu", "acc"),
        ("mmlu_abstract_algebra", "acc"),
        ("mmlu_anatomy", "acc"),
        ("my_private_task", "f1"),
    ]
    arc = scores[("arc_challenge", "acc_norm")]
    assert (arc.benchmark, arc.dataset.id, arc.dataset.config, arc.dataset.split) == (
        "ARC-Challenge", "allenai/ai2_arc", "ARC-Challenge", "test",
    )  # fmt: skip
    assert (arc.metric.value, arc.metric.stderr, arc.metric.unit, arc.shots) == (
        0.5656996587030717, 0.014484703048857359, "fraction", 25,
    )  # fmt: skip
    assert arc.provenance["file"] == LM_EVAL and arc.provenance["key"] == "acc_norm,none"
    assert arc.provenance["task_version"] == 1.0 and arc.date == "2024-05-01"
    strict, flexible = scores[("gsm8k", "exact_match,strict-match")], scores[("gsm8k", "exact_match,flexible-extract")]
    assert (strict.metric.value, flexible.metric.value) == (0.4715693707354056, 0.4844579226686884)
    assert strict.identity != flexible.identity  # two metrics, not one
    assert scores[("mmlu_anatomy", "acc")].metric.stderr is None  # "N/A"


def test_lm_eval_group_is_the_benchmark_and_subtasks_are_themselves() -> None:
    scores = _by(_read("lm_eval_results.json"))
    group = scores[("mmlu", "acc")]
    assert (group.benchmark, group.dataset.id, group.metric.value, group.shots) == ("MMLU", "cais/mmlu", 0.6145, 5)
    sub = scores[("mmlu_abstract_algebra", "acc")]
    assert (sub.benchmark, sub.dataset.id, sub.dataset.type, sub.dataset.config) == (
        "mmlu_abstract_algebra", None, "hails/mmlu_no_train", "abstract_algebra",
    )  # fmt: skip
    # the group appears in results and groups: one score, not two
    assert sum(1 for s in _read("lm_eval_results.json").scores if s.provenance["task"] == "mmlu") == 1


def test_lm_eval_unknown_task_keeps_its_name_without_a_dataset_id() -> None:
    own = _by(_read("lm_eval_results.json"))[("my_private_task", "f1")]
    assert (own.benchmark, own.dataset.name, own.dataset.type, own.dataset.id) == (
        "my_private_task", "my_private_task", "acme/private-eval", None,
    )  # fmt: skip


def test_lm_eval_usual_metric_comes_first_within_a_task() -> None:
    gsm8k = [s.metric.type for s in _read("lm_eval_results.json").scores if s.benchmark == "GSM8K"]
    assert gsm8k == ["exact_match,strict-match", "exact_match,flexible-extract"]


def test_lm_eval_partial_runs_are_marked() -> None:
    data = json.loads((FILES / "lm_eval_results.json").read_text(encoding="utf-8"))
    data["n-samples"]["gsm8k"] = {"original": 1319, "effective": 100}
    result = read_result_file("r.json", json.dumps(data).encode())
    gsm8k = [s for s in result.scores if s.benchmark == "GSM8K"]
    assert {s.notes for s in gsm8k} == {"partial: 100 of 1319 samples"}
    assert result.partial == "gsm8k: partial: 100 of 1319 samples"
    assert gsm8k[0].metric.name == "GSM8K exact_match,strict-match (partial: 100 of 1319 samples)"
    limited = _read("lm_eval_results.json", config={"model_args": "pretrained=acme/llama-7b", "limit": 10})
    assert {s.notes for s in limited.scores} == {"partial: limit 10"}
    with pytest.raises(InputError, match=r"^partial run\(s\): r.json \(gsm8k: partial: 100 of 1319 samples\); "):
        check_publishable([result], allow_partial=False)
    check_publishable([result], allow_partial=True)


def test_lm_eval_model_args_as_a_dict() -> None:
    result = _read("lm_eval_results.json", config={"model_args": {"pretrained": "acme/other", "revision": "v2"}})
    assert (result.model, result.model_sha) == ("acme/other", "v2")


# ---- lighteval ----------------------------------------------------------------------------


def test_lighteval_keys_aggregates_and_config_general() -> None:
    result = _read("lighteval_results.json", "out/results_2025-01-20T08-15-30.123456.json")
    assert (result.format, result.engine_version, result.model) == ("lighteval", "0.8.1", "acme/llama-7b")
    assert result.model_sha == "3f1e2d4c5b6a79881726354433221100ffeeddcc" and result.date == "2025-01-20"
    scores = _by(result)
    assert sorted(scores) == [
        ("arc:challenge", "acc"),
        ("arc:challenge", "acc_norm"),
        ("gsm8k", "exact_match"),
        ("mmlu:_average", "acc"),
        ("mmlu:abstract_algebra", "acc"),
        ("mmlu:anatomy", "acc"),
    ]  # `all` is an aggregate of everything: not a benchmark
    arc = scores[("arc:challenge", "acc_norm")]
    assert (arc.benchmark, arc.shots, arc.metric.value, arc.metric.stderr) == (
        "ARC-Challenge", 25, 0.5656996587030717, 0.014484703048857359,
    )  # fmt: skip
    assert arc.provenance["result_key"] == "leaderboard|arc:challenge|25"
    average = scores[("mmlu:_average", "acc")]
    assert (average.benchmark, average.dataset.id, average.metric.value) == ("MMLU", "cais/mmlu", 0.4587037037037037)
    assert scores[("mmlu:anatomy", "acc")].benchmark == "mmlu:anatomy"
    assert scores[("gsm8k", "exact_match")].benchmark == "GSM8K"


def test_lighteval_open_llm_leaderboard_v1_harness_keys_and_max_samples() -> None:
    doc = {
        "config_general": {"lighteval_sha": "494ee12", "model_name": "acme/llama-7b", "max_samples": 50},
        "results": {
            "harness|arc:challenge|25": {"acc": 0.5, "acc_stderr": 0.01, "acc_norm": 0.55, "acc_norm_stderr": 0.012},
            "harness|truthfulqa:mc|0": {"mc1": 0.28, "mc1_stderr": 0.015, "mc2": 0.41, "mc2_stderr": 0.014},
            "all": {"acc": 0.5},
        },
    }
    result = read_result_file("results_2023-09-01T10-00-00.json", json.dumps(doc).encode())
    scores = _by(result)
    assert sorted(scores) == [("arc:challenge", "acc"), ("arc:challenge", "acc_norm"), ("truthfulqa:mc", "mc1"),
                              ("truthfulqa:mc", "mc2")]  # fmt: skip
    assert scores[("truthfulqa:mc", "mc2")].benchmark == "TruthfulQA"
    assert scores[("truthfulqa:mc", "mc2")].shots == 0
    assert result.partial == "partial: max_samples 50"
    assert {s.notes for s in result.scores} == {"partial: max_samples 50"}


def test_lighteval_bad_key_is_one_line() -> None:
    doc = {"config_general": {"model_name": "m"}, "results": {"arc:challenge": {"acc": 0.5}}}
    with pytest.raises(InputError, match=r"^x.json: lighteval result key 'arc:challenge': expected 'task\|fewshot'"):
        read_result_file("x.json", json.dumps(doc).encode())


# ---- inspect-ai ---------------------------------------------------------------------------


def _check_inspect(result: ResultFile, path: str) -> None:
    assert (result.format, result.engine_version, result.model, result.date) == (
        "inspect", "0.3.285", "acme/llama-7b", "2025-02-11",
    )  # fmt: skip
    [score] = result.scores
    assert (score.benchmark, score.dataset.id, score.metric.type) == ("GSM8K", "openai/gsm8k", "acc")
    assert (score.metric.value, score.metric.stderr, score.shots) == (0.4852160727824109, 0.013762977910317584, 10)
    assert score.provenance["file"] == path and score.provenance["inspect_task"] == "inspect_evals/gsm8k"


def test_inspect_json_log() -> None:
    _check_inspect(read_result_file("logs/a.json", (FILES / "inspect_log.json").read_bytes()), "logs/a.json")


def test_inspect_eval_zip_with_inspect_installed() -> None:
    _check_inspect(read_result_file("logs/a.eval", _eval_zip(_inspect_header())), "logs/a.eval")


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_inspect_eval_zip_without_inspect(monkeypatch: pytest.MonkeyPatch, compression: int) -> None:
    real_import = builtins.__import__

    def no_inspect(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("inspect_ai"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_inspect)
    _check_inspect(read_result_file("a.eval", _eval_zip(_inspect_header(), compression=compression)), "a.eval")


def test_inspect_zstd_eval_zip_without_inspect(monkeypatch: pytest.MonkeyPatch) -> None:
    """inspect writes zstd-compressed members (method 93); the small reader decompresses header.json."""
    import struct

    import zstandard

    payload = json.dumps(_inspect_header()).encode()
    packed = zstandard.ZstdCompressor().compress(payload)
    name = b"header.json"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 63, 0, 93, 0, 0, 0, len(packed), len(payload), len(name), 0)
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII", 0x02014B50, 63, 63, 0, 93, 0, 0, 0, len(packed), len(payload), len(name), 0, 0, 0, 0, 0, 0
    )
    body = local + name + packed
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central) + len(name), len(body), 0)
    data = body + central + name + end
    real_import = builtins.__import__

    def no_inspect(module: str, *args: Any, **kwargs: Any) -> Any:
        if module.startswith("inspect_ai"):
            raise ImportError(module)
        return real_import(module, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_inspect)
    _check_inspect(read_result_file("z.eval", data), "z.eval")


def test_inspect_unfinished_and_partial_runs() -> None:
    failed = json.loads((FILES / "inspect_log.json").read_text(encoding="utf-8")) | {"status": "error"}
    with pytest.raises(InputError, match=r"^a.json: an inspect log with status 'error'; only a finished run"):
        read_result_file("a.json", json.dumps(failed).encode())
    partial = read_result_file("b.eval", _eval_zip(_inspect_header(completed_samples=200)))
    assert partial.partial == "partial: 200 of 1319 samples"
    with pytest.raises(InputError, match=r"^c.eval: an .eval zip without header.json: the run did not finish"):
        read_result_file("c.eval", _eval_zip(_inspect_header(), with_header=False))


# ---- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"results": {"arc_challenge": {"acc,none": 0.5', r"^f.json: not valid JSON \(.*\); expected an lm-eval"),
        (b"[1, 2]", r"^f.json: a JSON list; expected an lm-eval, lighteval or inspect result file$"),
        (b'{"name": "x"}', r"^f.json: not an lm-eval \(results, configs, n-shot\), lighteval"),
        (b"\xff\xfe", r"^f.json: not valid JSON"),
        (b'{"results": {}, "n-shot": {}}', r"^f.json: an lm-eval results file with no results"),
    ],
)
def test_not_a_result_file_is_one_line_naming_the_file(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        read_result_file("f.json", data)
    assert "\n" not in str(caught.value)


def test_truncated_eval_zip_is_one_line() -> None:
    data = _eval_zip(_inspect_header())
    with pytest.raises(InputError, match=r"^t.eval: not a complete .eval zip \(.*\); expected an inspect log$"):
        read_result_file("t.eval", data[: len(data) // 2])


# ---- models, candidates, several files ---------------------------------------------------------


def test_check_model_names_both_models() -> None:
    result = _read("lm_eval_results.json")
    check_model(result, "acme/llama-7b")
    check_model(result, "ACME/Llama-7B")  # the Hub resolves ids case-insensitively
    with pytest.raises(InputError, match=r"^lm_eval_results.json was evaluated on acme/llama-7b, not acme/other; "):
        check_model(result, "acme/other")
    check_model(result, "acme/other", force=True)
    local = _read("lm_eval_results.json", model_name=None, config={"model_args": "pretrained=/models/llama-7b"})
    check_model(local, "acme/llama-7b")  # a local checkout named like the repo


def test_candidates_by_name() -> None:
    assert is_candidate("results_2024-05-01T11-20-00.json") and is_candidate("evals/x/results_2024.json")
    assert is_candidate("logs/2025-02-11T09-30-00+00-00_gsm8k_CfpkMZ3M.eval")
    assert is_candidate("logs/2025-02-11T09-30-00+00-00_gsm8k_CfpkMZ3M.json")
    assert not is_candidate("config.json") and not is_candidate("results.json") and not is_candidate("README.md")


def test_newest_run_wins_per_identity() -> None:
    old = _read("lm_eval_results.json", "results_2024-01-01T00-00-00.json", date=None)
    new = _read("lm_eval_results.json", "results_2024-06-01T00-00-00.json", date=None)
    merged = newest_first([old, new])
    assert len(merged) == len(new.scores)
    assert {s.provenance["file"] for s in merged} == {"results_2024-06-01T00-00-00.json"}


def test_task_table_maps_whole_names_and_chinese_variants_only_when_asked() -> None:
    assert harness_tasks.lookup_task("arc_challenge") == harness_tasks.HarnessTask("ARC-Challenge", 25, ("acc_norm",))
    assert harness_tasks.lookup_task("hellaswag") == harness_tasks.HarnessTask("HellaSwag", 10, ("acc_norm",))
    assert harness_tasks.lookup_task("mmlu_anatomy") is None
    assert harness_tasks.lookup_task("Carc_challenge") is None
    variant = harness_tasks.lookup_task("Carc_challenge", variants=True)
    assert variant is not None and variant.benchmark == "C-ARC-Challenge"
    assert harness_tasks.dataset_for(variant) is None  # never the English dataset
    cmmlu = harness_tasks.lookup_task("cmmlu", variants=True)
    assert cmmlu is not None and cmmlu.benchmark == "CMMLU"  # cmmlu is its own benchmark, not C+mmlu
    for name in ("arc_challenge", "hellaswag", "truthfulqa_mc2", "winogrande", "gsm8k", "mmlu", "cmmlu", "ceval-valid",
                 "leaderboard_ifeval", "leaderboard_bbh", "leaderboard_gpqa", "leaderboard_math_hard",
                 "leaderboard_mmlu_pro", "leaderboard_musr"):  # fmt: skip
        task = harness_tasks.lookup_task(name)
        assert task is not None and harness_tasks.dataset_for(task) is not None, name


def test_newest_run_wins_even_with_another_few_shot_setting() -> None:
    data = json.loads((FILES / "lm_eval_results.json").read_text(encoding="utf-8"))
    data["n-shot"]["arc_challenge"] = 0
    data["results"]["arc_challenge"]["acc_norm,none"] = 0.4
    zero = read_result_file("results_2024-09-01T00-00-00.json", json.dumps(data | {"date": None}).encode())
    old = _read("lm_eval_results.json", "results_2024-01-01T00-00-00.json", date=None)
    [arc] = [s for s in newest_first([old, zero]) if s.benchmark == "ARC-Challenge" and s.metric.type == "acc_norm"]
    assert (arc.metric.value, arc.shots, arc.provenance["file"]) == (0.4, 0, "results_2024-09-01T00-00-00.json")
