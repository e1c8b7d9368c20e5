"""The `results`, `leaderboard` and `import` sources end to end: the real Hub client over HTTP
against the local Hub stand-in (which serves model and dataset repos and their trees)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import main
from bot.sim.hub import HubSim

FILES = Path(__file__).parent / "result_files"
REPO = "acme/llama-7b"
CARD = "---\nlicense: mit\n---\n# llama-7b\n\nA model.\n"
LM_EVAL_PATH = "evals/results_2024-05-01T11-20-00.500000.json"
BOARD = "open-llm-leaderboard/results"
BOARD_URL = "https://huggingface.co/spaces/open-llm-leaderboard/open_llm_leaderboard"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Any:
    with HubSim() as sim:
        monkeypatch.setenv("HF_ENDPOINT", sim.url)
        monkeypatch.setenv("HF_TOKEN", "evalbot-token")
        yield sim


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _model_index(hub: HubSim, rev: str) -> list[dict[str, Any]]:
    readme = (hub.file(REPO, "README.md", rev) or b"").decode()
    front = yaml.safe_load(readme.split("---\n")[1])
    results: list[dict[str, Any]] = front["model-index"][0]["results"]
    return results


def _metrics(results: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["dataset"]["name"], m["type"]): {**m, "shots": r["dataset"].get("args", {}).get("num_few_shot"),
                                                 "source": r.get("source")}
            for r in results for m in r["metrics"]}  # fmt: skip


# ---- the results source -------------------------------------------------------------------------


def test_results_source_opens_one_pr_with_every_metric_then_nothing(
    hub: HubSim, capsys: pytest.CaptureFixture[str]
) -> None:
    hub.add_repo(REPO, {"README.md": CARD, LM_EVAL_PATH: (FILES / "lm_eval_results.json").read_bytes()})
    code, out, _ = _run(["run", "--repo-id", REPO, "--sources", "results", "--create-pr"], capsys)
    assert code == 0 and "created  #1" in out
    [pr] = hub.discussions(REPO)
    metrics = _metrics(_model_index(hub, f"refs/pr/{pr.num}"))
    assert sorted(metrics) == [
        ("ARC-Challenge", "acc"), ("ARC-Challenge", "acc_norm"), ("GSM8K", "exact_match,flexible-extract"),
        ("GSM8K", "exact_match,strict-match"), ("MMLU", "acc"), ("mmlu_abstract_algebra", "acc"),
        ("mmlu_anatomy", "acc"), ("my_private_task", "f1"),
    ]  # fmt: skip
    arc = metrics[("ARC-Challenge", "acc_norm")]
    assert (arc["value"], arc["stderr"], arc["shots"]) == (0.5656996587030717, 0.014484703048857359, 25)
    sha = hub.head(REPO)
    assert arc["source"] == {"name": "lm-evaluation-harness results",
                             "url": f"{hub.url}/{REPO}/blob/{sha}/{LM_EVAL_PATH}"}  # fmt: skip
    assert metrics[("GSM8K", "exact_match,strict-match")]["value"] == 0.4715693707354056
    assert "stderr" not in metrics[("mmlu_anatomy", "acc")]  # "N/A" in the file
    assert f"lm-evaluation-harness 0.4.3 results file {LM_EVAL_PATH}" in pr.description
    # .eval_results: the registered benchmark (GSM8K) only, on its leaderboard's scale, the usual metric
    entries = yaml.safe_load(hub.file(REPO, ".eval_results/results.yaml", f"refs/pr/{pr.num}") or b"")
    assert [(e["dataset"]["id"], e["value"]) for e in entries] == [("openai/gsm8k", 47.15693707354056)]

    code, out, _ = _run(["run", "--repo-id", REPO, "--sources", "results", "--create-pr"], capsys)
    assert code == 0 and "unchanged" in out
    assert len(hub.discussions(REPO)) == 1


def test_results_source_costs_no_request_without_result_files(hub: HubSim, capsys: pytest.CaptureFixture[str]) -> None:
    hub.add_repo(REPO, {"README.md": CARD, "config.json": "{}", "results.json": "{}"})
    hub.reset_requests()
    code, out, _ = _run(["run", "--repo-id", REPO, "--sources", "results", "--dry-run"], capsys)
    assert code == 0 and "no results found" in out
    assert [p for _m, p in hub.requests if "/resolve/" in p] == [f"/{REPO}/resolve/{hub.head(REPO)}/README.md"]


def test_results_source_leaves_out_foreign_and_broken_files(hub: HubSim, capsys: pytest.CaptureFixture[str]) -> None:
    other = json.loads((FILES / "lm_eval_results.json").read_text())
    other["config"]["model_args"] = "pretrained=acme/base-7b"
    other["model_name"] = "acme/base-7b"
    hub.add_repo(
        REPO,
        {
            "README.md": CARD,
            "base/results_2024-01-01T00-00-00.json": json.dumps(other),
            "broken/results_2024-02-01T00-00-00.json": '{"results": {"gsm8k": ',
            "logs/2025-02-11T09-30-00+00-00_gsm8k_Cf.json": (FILES / "inspect_log.json").read_bytes(),
        },
    )
    code, out, _ = _run(["run", "--repo-id", REPO, "--sources", "results", "--create-pr"], capsys)
    assert code == 0 and "created" in out
    [pr] = hub.discussions(REPO)
    assert sorted(_metrics(_model_index(hub, f"refs/pr/{pr.num}"))) == [("GSM8K", "acc")]  # the inspect log only
    assert "Left out base/results_2024-01-01T00-00-00.json: base/results_2024-01-01T00-00-00.json was evaluated " \
        "on acme/base-7b, not acme/llama-7b" in pr.description  # fmt: skip
    assert "Left out broken/results_2024-02-01T00-00-00.json: broken/results_2024-02-01T00-00-00.json: not valid JSON" \
        in pr.description  # fmt: skip


def test_results_source_reads_an_eval_zip_in_the_repo(hub: HubSim, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_result_files import _eval_zip, _inspect_header

    hub.add_repo(REPO, {"README.md": CARD, "logs/run.eval": _eval_zip(_inspect_header())})
    code, out, _ = _run(["run", "--repo-id", REPO, "--sources", "results", "--create-pr"], capsys)
    assert code == 0 and "created" in out
    [pr] = hub.discussions(REPO)
    gsm8k = _metrics(_model_index(hub, f"refs/pr/{pr.num}"))[("GSM8K", "acc")]
    assert (gsm8k["value"], gsm8k["stderr"], gsm8k["shots"]) == (0.4852160727824109, 0.013762977910317584, 10)
    assert "inspect-ai 0.3.285 results file logs/run.eval" in pr.description


# ---- the leaderboard source ---------------------------------------------------------------------


def _board(hub: HubSim, folder: str = REPO, **edits: Any) -> dict[str, Any]:
    newest = json.loads((FILES / "open_llm_leaderboard_v2.json").read_text())
    newest.update(edits)
    older = json.loads(json.dumps(newest))
    older["results"]["leaderboard_bbh"]["acc_norm,none"] = 0.1
    hub.add_repo(
        BOARD,
        {
            f"{folder}/results_2024-06-01T10-00-00.000000.json": json.dumps(older),
            f"{folder}/results_2024-07-01T16-00-00.250000.json": json.dumps(newest),
            "other/model/results_2024-07-01T16-00-00.json": "{}",
        },
        repo_type="dataset",
    )
    return newest


def test_leaderboard_source_opens_one_pr_with_the_six_v2_scores(
    hub: HubSim, capsys: pytest.CaptureFixture[str]
) -> None:
    hub.add_repo(REPO, {"README.md": CARD})
    _board(hub)
    hub.reset_requests()
    code, out, _ = _run(["run", "--repo-id", REPO, "--sources", "leaderboard", "--create-pr"], capsys)
    assert code == 0 and "created  #1" in out
    board_requests = [p for _m, p in hub.requests if "open-llm-leaderboard" in p]
    assert len(board_requests) == 2  # one tree listing of the model's folder, one download
    assert "/tree/" in board_requests[0] and board_requests[1].endswith("results_2024-07-01T16-00-00.250000.json")
    [pr] = hub.discussions(REPO)
    metrics = _metrics(_model_index(hub, f"refs/pr/{pr.num}"))
    assert {k: (v["value"], v["shots"]) for k, v in metrics.items()} == {
        ("BBH", "acc_norm"): (0.46189493, 3),
        ("GPQA", "acc_norm"): (0.30285235, 0),
        ("IFEval", "prompt_level_strict_acc"): (0.22550832, 0),
        ("IFEval", "inst_level_strict_acc"): (0.35731415, 0),
        ("MATH Lvl 5", "exact_match"): (0.0641994, 4),
        ("MMLU-Pro", "acc"): (0.32762633, 5),
        ("MuSR", "acc_norm"): (0.3968254, 0),
    }  # the newest file; the six benchmarks (IFEval's two strict metrics), no subtask, no overall group
    assert {json.dumps(v["source"]) for v in metrics.values()} == {
        json.dumps({"name": "Open LLM Leaderboard", "url": BOARD_URL})
    }
    assert f"Data from the Open LLM Leaderboard ({BOARD_URL})" in pr.description
    assert f"in the dataset {BOARD}" in pr.description
    head = hub.head(REPO)
    assert f"The Open LLM Leaderboard evaluated commit 0123456789ab; the repo's head is {head[:12]}" in pr.description

    code, out, _ = _run(["run", "--repo-id", REPO, "--sources", "leaderboard", "--create-pr"], capsys)
    assert code == 0 and "unchanged" in out and len(hub.discussions(REPO)) == 1


def test_leaderboard_at_the_repo_head_says_nothing_about_revisions(
    hub: HubSim, capsys: pytest.CaptureFixture[str]
) -> None:
    hub.add_repo(REPO, {"README.md": CARD})
    head = hub.head(REPO)
    doc = json.loads((FILES / "open_llm_leaderboard_v2.json").read_text())
    doc["config"]["model_sha"] = head
    _board(hub, config=doc["config"])
    code, _, _ = _run(["run", "--repo-id", REPO, "--sources", "leaderboard", "--create-pr"], capsys)
    [pr] = hub.discussions(REPO)
    assert code == 0 and "evaluated commit" not in pr.description


def test_repo_not_on_the_leaderboard_is_unchanged_with_the_reason(
    hub: HubSim, capsys: pytest.CaptureFixture[str]
) -> None:
    hub.add_repo(REPO, {"README.md": CARD})
    _board(hub, folder="someone/else")
    code, out, _ = _run(["run", "--repo-id", REPO, "--sources", "leaderboard", "--create-pr", "--format", "json"],
                         capsys)  # fmt: skip
    [report] = json.loads(out)
    assert code == 0 and (report["outcome"], report["reason"]) == ("unchanged", "no results found")
    assert hub.discussions(REPO) == []


def test_configured_leaderboard_with_subtasks(hub: HubSim, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    hub.add_repo(REPO, {"README.md": CARD})
    newest = json.loads((FILES / "open_llm_leaderboard_v2.json").read_text())
    hub.add_repo("acme/board-results", {f"{REPO}/results_2024-07-01T16-00-00.json": json.dumps(newest)},
                 repo_type="dataset")  # fmt: skip
    config = tmp_path / "evalbot.yaml"
    config.write_text(
        "leaderboards:\n  - name: Acme Board\n    dataset: acme/board-results\n"
        "    url: https://huggingface.co/spaces/acme/board\n    subtasks: true\n"
    )
    code, out, _ = _run(["--config", str(config), "run", "--repo-id", REPO, "--sources", "leaderboard", "--create-pr"],
                         capsys)  # fmt: skip
    assert code == 0 and "created" in out
    [pr] = hub.discussions(REPO)
    names = {name for name, _ in _metrics(_model_index(hub, f"refs/pr/{pr.num}"))}
    assert {"BBH", "leaderboard_bbh_navigate", "leaderboard_musr_murder_mysteries", "leaderboard"} <= names
    assert "Data from the Acme Board (https://huggingface.co/spaces/acme/board)" in pr.description


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("leaderboards: {}\n", "leaderboards: expected a list of {name, dataset, url} entries"),
        ("leaderboards:\n  - name: X\n    dataset: nope\n    url: https://x\n",
         "leaderboards entry 1: dataset: 'nope' is not a dataset id like org/name"),
        ("leaderboards:\n  - name: X\n    dataset: a/b\n    url: ftp://x\n",
         "leaderboards entry 1: url: 'ftp://x' is not an http(s) URL"),
        ("leaderboards:\n  - name: X\n    dataset: a/b\n    url: https://x\n    subtask: true\n",
         "leaderboards entry 1: unknown key(s) subtask"),
    ],
)  # fmt: skip
def test_bad_leaderboards_config_is_one_line(
    text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "evalbot.yaml"
    config.write_text(text)
    code, _, err = _run(["--config", str(config), "run", "--repo-id", REPO, "--sources", "leaderboard", "--create-pr"],
                         capsys)  # fmt: skip
    assert code == 2 and message in err and err.count("\n") == 1


# ---- import-results -------------------------------------------------------------------------------


def _files(tmp_path: Path) -> dict[str, Path]:
    from tests.test_result_files import _eval_zip, _inspect_header

    paths = {
        "lm-eval": tmp_path / "results_2024-05-01T11-20-00.500000.json",
        "lighteval": tmp_path / "results_2025-01-20T08-15-30.123456.json",
        "inspect-json": tmp_path / "2025-02-11T09-30-00+00-00_gsm8k_Cf.json",
        "inspect-eval": tmp_path / "2025-02-11T09-30-00+00-00_gsm8k_Cf.eval",
    }
    paths["lm-eval"].write_bytes((FILES / "lm_eval_results.json").read_bytes())
    paths["lighteval"].write_bytes((FILES / "lighteval_results.json").read_bytes())
    paths["inspect-json"].write_bytes((FILES / "inspect_log.json").read_bytes())
    paths["inspect-eval"].write_bytes(_eval_zip(_inspect_header()))
    return paths


_ARC = ("ARC-Challenge", "acc_norm", "0.5657 ± 0.01448", "25-shot")
_GSM8K = ("GSM8K", "acc", "0.4852 ± 0.01376", "10-shot")


@pytest.mark.parametrize(
    ("kind", "task", "expected"),
    [
        ("lm-eval", "arc_challenge", _ARC),
        ("lighteval", "arc:challenge", _ARC),
        ("inspect-json", "gsm8k", _GSM8K),
        ("inspect-eval", "gsm8k", _GSM8K),
    ],
)
def test_import_results_dry_run_prints_scores_and_the_diff_for_each_format(
    hub: HubSim, capsys: pytest.CaptureFixture[str], tmp_path: Path, kind: str, task: str, expected: tuple[str, ...]
) -> None:
    hub.add_repo(REPO, {"README.md": CARD})
    path = _files(tmp_path)[kind]
    code, out, _ = _run(["import-results", "--repo-id", REPO, str(path)], capsys)
    assert code == 0 and "planned" in out
    assert f"results file {path}, model acme/llama-7b" in out
    benchmark, metric, value, shots = expected
    line = f"  {task:<32} {benchmark:<24} {metric:<28} {value}  {shots}"
    assert line in out.splitlines()
    assert "+++ b/README.md" in out
    assert hub.discussions(REPO) == []  # the default writes nothing


def test_import_results_create_pr_then_nothing(hub: HubSim, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    hub.add_repo(REPO, {"README.md": CARD})
    path = _files(tmp_path)["lighteval"]
    for expected in ("created", "unchanged"):
        code, out, _ = _run(["import-results", "--repo-id", REPO, str(path), "--create-pr"], capsys)
        assert code == 0 and expected in out
    [pr] = hub.discussions(REPO)
    assert f"lighteval 0.8.1 results file {path}" in pr.description
    metrics = _metrics(_model_index(hub, f"refs/pr/{pr.num}"))
    assert metrics[("MMLU", "acc")]["value"] == 0.4587037037037037
    assert metrics[("MMLU", "acc")]["source"] is None  # a local file has no URL to attribute


def test_import_results_refuses_malformed_and_foreign_files_writing_nothing(
    hub: HubSim, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hub.add_repo(REPO, {"README.md": CARD})
    good = _files(tmp_path)["lm-eval"]
    bad = tmp_path / "results_bad.json"
    bad.write_text('{"results": {"gsm8k": {"acc,none": 0.5')
    code, out, err = _run(["import-results", "--repo-id", REPO, str(good), str(bad), "--create-pr"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"{bad}: not valid JSON" in err and "expected an lm-eval, lighteval or inspect result file" in err
    code, out, err = _run(["import-results", "--repo-id", "acme/other", str(good), "--create-pr"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"{good} was evaluated on acme/llama-7b, not acme/other; pass --force-model" in err
    missing = tmp_path / "nope.json"
    code, _, err = _run(["import-results", "--repo-id", REPO, str(missing)], capsys)
    assert code == 2 and f"cannot read {missing}" in err
    assert hub.discussions(REPO) == []


def test_import_results_force_model_and_partial_runs(
    hub: HubSim, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hub.add_repo("acme/renamed", {"README.md": CARD})
    doc = json.loads((FILES / "lm_eval_results.json").read_text())
    doc["n-samples"]["gsm8k"] = {"original": 1319, "effective": 100}
    path = tmp_path / "results_2024-05-01T11-20-00.json"
    path.write_text(json.dumps(doc))
    argv = ["import-results", "--repo-id", "acme/renamed", str(path), "--force-model", "--create-pr"]
    code, out, err = _run(argv, capsys)
    assert code == 2 and "partial run(s)" in err and "pass --allow-partial" in err
    assert hub.discussions("acme/renamed") == []
    code, out, _ = _run([*argv, "--allow-partial"], capsys)
    assert code == 0 and "created" in out
    [pr] = hub.discussions("acme/renamed")
    names = {m["name"] for r in _model_index_of(hub, "acme/renamed", pr.num) for m in r["metrics"]}
    assert "GSM8K exact_match,strict-match (partial: 100 of 1319 samples)" in names


def _model_index_of(hub: HubSim, repo: str, num: int) -> list[dict[str, Any]]:
    readme = (hub.file(repo, "README.md", f"refs/pr/{num}") or b"").decode()
    results: list[dict[str, Any]] = yaml.safe_load(readme.split("---\n")[1])["model-index"][0]["results"]
    return results


def test_chinese_leaderboard_variants_are_their_own_benchmarks(
    hub: HubSim, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hub.add_repo(REPO, {"README.md": CARD})
    doc = {
        "results": {
            "Carc_challenge": {"acc,none": 0.41, "acc_stderr,none": 0.014, "acc_norm,none": 0.45,
                               "acc_norm_stderr,none": 0.0145, "alias": "Carc_challenge"},
            "cmmlu": {"acc,none": 0.52, "acc_stderr,none": 0.0046, "alias": "cmmlu"},
        },
        "configs": {"Carc_challenge": {"task": "Carc_challenge", "dataset_path": "acme/c-arc", "test_split": "test"}},
        "n-shot": {"Carc_challenge": 25, "cmmlu": 5},
        "config": {"model_args": f"pretrained={REPO}"},
        "lm_eval_version": "0.4.2",
    }  # fmt: skip
    hub.add_repo("acme/cn-results", {f"{REPO}/results_2024-03-01T00-00-00.json": json.dumps(doc)}, repo_type="dataset")
    config = tmp_path / "evalbot.yaml"
    config.write_text(
        "leaderboards:\n  - name: Open Chinese LLM Leaderboard\n    dataset: acme/cn-results\n"
        "    url: https://huggingface.co/spaces/acme/cn-board\n    variants: true\n"
    )
    code, _, _ = _run(["--config", str(config), "run", "--repo-id", REPO, "--sources", "leaderboard", "--create-pr"],
                         capsys)  # fmt: skip
    [pr] = hub.discussions(REPO)
    results = _model_index(hub, f"refs/pr/{pr.num}")
    datasets = {r["dataset"]["name"]: (r["dataset"]["type"], [m["type"] for m in r["metrics"]]) for r in results}
    assert code == 0 and datasets == {
        "C-ARC-Challenge": ("acme/c-arc", ["acc_norm"]),  # the file's dataset, never allenai/ai2_arc
        "CMMLU": ("haonan-li/cmmlu", ["acc"]),
    }


def test_open_llm_leaderboard_v1_lighteval_files(hub: HubSim, capsys: pytest.CaptureFixture[str]) -> None:
    hub.add_repo(REPO, {"README.md": CARD})
    doc = {
        "config_general": {"lighteval_sha": "494ee12", "model_name": REPO, "model_sha": "", "max_samples": None},
        "results": {
            "harness|arc:challenge|25": {"acc": 0.5, "acc_stderr": 0.0146, "acc_norm": 0.53, "acc_norm_stderr": 0.0145},
            "harness|hellaswag|10": {"acc": 0.59, "acc_stderr": 0.0049, "acc_norm": 0.78, "acc_norm_stderr": 0.0041},
            "harness|hendrycksTest-anatomy|5": {"acc": 0.48, "acc_stderr": 0.043},
            "harness|truthfulqa:mc|0": {"mc1": 0.25, "mc1_stderr": 0.0152, "mc2": 0.39, "mc2_stderr": 0.0136},
            "harness|winogrande|5": {"acc": 0.74, "acc_stderr": 0.0123},
            "harness|gsm8k|5": {"acc": 0.14, "acc_stderr": 0.0096},
            "all": {"acc": 0.5, "acc_stderr": 0.03},
        },
    }  # fmt: skip
    hub.add_repo(BOARD, {f"{REPO}/results_2023-10-01T12-00-00.123456.json": json.dumps(doc)}, repo_type="dataset")
    code, _, _ = _run(["run", "--repo-id", REPO, "--sources", "leaderboard", "--create-pr"], capsys)
    [pr] = hub.discussions(REPO)
    metrics = _metrics(_model_index(hub, f"refs/pr/{pr.num}"))
    assert code == 0 and {k: (v["value"], v["shots"]) for k, v in metrics.items()} == {
        ("ARC-Challenge", "acc_norm"): (0.53, 25),
        ("HellaSwag", "acc_norm"): (0.78, 10),
        ("TruthfulQA", "mc2"): (0.39, 0),
        ("WinoGrande", "acc"): (0.74, 5),
        ("GSM8K", "acc"): (0.14, 5),
    }  # MMLU is only in the file as subtasks: no average is computed here
    assert "lighteval 494ee12 results file" in pr.description
