"""The `evalbot` CLI: the JSON contract, exit codes, and read-only `--repo-id` via a local Hub."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from huggingface_hub.repocard_data import model_index_to_eval_results

from bot.cli import main
from bot.sim.hub import HubSim
from tests.conftest import CORPUS

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cards" / "ours-7b.md"
MODEL = "acme/Ours-7B-Instruct"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_extract_json_follows_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["extract-readme", "--readme-file", str(EXAMPLE), "--model-name", MODEL, "--format", "json"], capsys
    )
    assert code == 0
    assert json.loads(out) == {
        "model": MODEL,
        "results": [
            {"table": 2, "benchmark": "MMLU", "metric": "acc", "value": 65.4, "stderr": None, "row": 1, "column": 2,
             "label": "MMLU"},
            {"table": 2, "benchmark": "GSM8K", "metric": "maj@1", "value": 48.2, "stderr": 1.1, "row": 2,
             "column": 2, "label": "GSM8K"},
            {"table": 2, "benchmark": "HumanEval", "metric": "pass@1", "value": 72.5, "stderr": None, "row": 3,
             "column": 2, "label": "HumanEval"},
        ],
    }  # fmt: skip


def test_extract_json_on_a_card_without_eval_tables_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    card = CORPUS / "cards" / "yi-34b.md"
    code, out, _ = run(
        ["extract-readme", "--readme-file", str(card), "--model-name", "01-ai/Yi-34B", "--format", "json"], capsys
    )
    assert code == 3
    assert json.loads(out) == {"model": "01-ai/Yi-34B", "results": []}


def test_extract_yaml_prints_a_model_index_that_round_trips(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["extract-readme", "--readme-file", str(EXAMPLE), "--model-name", MODEL], capsys)
    assert code == 0
    model_index = yaml.safe_load(out.split("\n# .eval_results/", 1)[0])["model-index"]
    name, results = model_index_to_eval_results(model_index)
    assert name == "Ours-7B-Instruct"
    assert [(r.dataset_type, r.metric_type, r.metric_value) for r in results] == [
        ("cais/mmlu", "acc", 65.4),
        ("openai/gsm8k", "maj@1", 48.2),
        ("openai/openai_humaneval", "pass@1", 72.5),
    ]


def test_dry_run_prints_a_diff_and_writes_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    card = tmp_path / "README.md"
    card.write_bytes(EXAMPLE.read_bytes())
    code, out, _ = run(["extract-readme", "--readme-file", str(card), "--model-name", MODEL, "--dry-run"], capsys)
    assert code == 0
    assert out.startswith("--- a/README.md\n+++ b/README.md\n")
    assert "+model-index:\n" in out
    assert ".eval_results" not in out  # a local file has no Hub registry to place entries with
    assert card.read_bytes() == EXAMPLE.read_bytes()
    assert not (tmp_path / ".eval_results").exists()


def test_publishing_needs_a_repo_id(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["extract-readme", "--readme-file", str(EXAMPLE), "--create-pr"], capsys)
    assert code == 2
    assert err == "evalbot: error: --apply/--create-pr write to the Hub: name the repo with --repo-id\n"


def test_table_out_of_range_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["extract-readme", "--readme-file", str(EXAMPLE), "--table", "9", "--format", "json"], capsys)
    assert code == 2
    assert err == "evalbot: error: --table 9: the card has 2 table(s); see `evalbot inspect-tables`\n"


def test_missing_file_is_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(["extract-readme", "--readme-file", str(tmp_path / "nope.md")], capsys)
    assert code == 2
    assert err.startswith("evalbot: error: cannot read ") and err.count("\n") == 1


def test_bad_front_matter_is_bad_input_and_names_the_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    card = tmp_path / "README.md"
    card.write_text("---\nlicense: mit\ntags: [a, b\n---\n| Model | MMLU |\n|---|---|\n| Ours | 60 |\n")
    code, _, err = run(["extract-readme", "--readme-file", str(card), "--model-name", "x/Ours"], capsys)
    assert code == 2
    assert "line 4" in err and err.count("\n") == 1


def test_ambiguous_model_is_nothing_found_listing_candidates(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    card = tmp_path / "README.md"
    card.write_text("| Model | F1 |\n|---|---|\n| huBERT hungarian | 60 |\n| huBERT squad | 50 |\n| mT5 | 70 |\n")
    code, _, err = run(
        ["extract-readme", "--readme-file", str(card), "--model-name", "acme/hubert-hungarian-squad"], capsys
    )
    assert code == 3  # never a guess: no result, and why
    assert err == (
        f"{card}: no evaluation results found in the card's tables\n"
        "  table 1: ambiguous: 'huBERT hungarian', 'huBERT squad' could each be this model; candidates: "
        "'huBERT hungarian', 'huBERT squad', 'mT5'; closest 'huBERT hungarian': --model-name 'huBERT hungarian'\n"
    )


def test_base_model_row_never_stands_for_the_chat_model(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    card = tmp_path / "README.md"
    card.write_text("| Model | MMLU |\n|---|---|\n| Foo 7B | 50 |\n| Foo 7B chat | 60 |\n")
    code, out, _ = run(
        ["extract-readme", "--readme-file", str(card), "--model-name", "org/foo-7b-chat", "--format", "json"], capsys
    )
    assert code == 0
    assert [(r["label"], r["value"]) for r in json.loads(out)["results"]] == [("MMLU", 60.0)]


def test_inspect_tables_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["inspect-tables", "--readme-file", str(EXAMPLE), "--model-name", MODEL, "--format", "json"], capsys
    )
    assert code == 0
    tables = json.loads(out)["tables"]
    assert [(t["table"], t["evaluation"], t["orientation"]) for t in tables] == [(1, False, "-"), (2, True, "columns")]
    assert tables[1]["detail"] == "column 'Ours-7B-Instruct' (exact match)"


def test_show_and_validate_a_card_with_model_index(capsys: pytest.CaptureFixture[str]) -> None:
    card = CORPUS / "cards" / "stt-en-conformer-transducer-xlarge.md"
    code, out, _ = run(["show", "--readme-file", str(card)], capsys)
    assert code == 0
    assert yaml.safe_load(out)["model-index"][0]["name"] == "stt_en_conformer_transducer_xlarge"
    code, out, _ = run(["validate", "--readme-file", str(card)], capsys)
    assert code == 0
    assert out.startswith(f"{card}: valid (")


def test_show_and_validate_without_results_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["show", "--readme-file", str(EXAMPLE)], capsys)[0] == 3
    assert run(["validate", "--readme-file", str(EXAMPLE)], capsys)[0] == 3


def test_validate_reports_an_invalid_model_index(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    card = tmp_path / "README.md"
    card.write_text(
        "---\nmodel-index:\n- name: m\n  results:\n  - task: {type: text-generation}\n    metrics: []\n---\n"
    )
    code, _, err = run(["validate", "--readme-file", str(card)], capsys)
    assert code == 2
    assert "model-index[0].results[0]" in err


def test_validate_reports_a_bad_eval_results_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# card\n")
    (tmp_path / ".eval_results").mkdir()
    (tmp_path / ".eval_results" / "x.yaml").write_text("- dataset: {id: cais/hle}\n  value: 3\n")
    code, _, err = run(["validate", "--readme-file", str(tmp_path / "README.md")], capsys)
    assert code == 2
    assert err.endswith(": .eval_results/x.yaml: entry 1: missing field 'task_id'; fix or delete the file; "
                        "evalbot never rewrites a file it cannot read\n")  # fmt: skip


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HubSim:
    repo = tmp_path / "repos" / "acme" / "Ours-7B-Instruct"
    (repo / ".eval_results").mkdir(parents=True)
    (repo / "README.md").write_bytes(EXAMPLE.read_bytes().replace(b"\n", b"\r\n"))
    (repo / ".eval_results" / "theirs.yaml").write_text("- dataset: {id: cais/hle, task_id: hle}\n  value: 3.1\n")
    sim = HubSim.from_directory(tmp_path / "repos").start()
    monkeypatch.setenv("HF_ENDPOINT", sim.url)
    yield sim
    sim.stop()


def test_repo_id_reads_the_card_from_the_hub(hub: HubSim, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["extract-readme", "--repo-id", MODEL, "--format", "json"], capsys)
    assert code == 0
    assert [r["value"] for r in json.loads(out)["results"]] == [65.4, 48.2, 72.5]
    assert ("GET", f"/api/models/{MODEL}") in hub.requests


def test_repo_id_dry_run_keeps_crlf_and_uses_the_repo_url(hub: HubSim, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["extract-readme", "--repo-id", MODEL, "--dry-run"], capsys)
    assert code == 0
    assert f"+      url: {hub.url}/{MODEL}\r\n" in out


def test_repo_id_places_eval_results_with_the_hubs_registry(hub: HubSim, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["extract-readme", "--repo-id", MODEL], capsys)
    assert code == 0
    entries = yaml.safe_load(out.split("# .eval_results/readme.yaml\n", 1)[1])
    assert [e["dataset"] | {"value": e["value"]} for e in entries] == [
        {"id": "openai/gsm8k", "task_id": "main", "value": 48.2}  # the stand-in's eval.yaml id; MMLU is not registered
    ]


def test_repo_id_show_lists_eval_results_files(hub: HubSim, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["show", "--repo-id", MODEL], capsys)
    assert code == 0
    assert out == "# .eval_results/theirs.yaml\n- dataset: {id: cais/hle, task_id: hle}\n  value: 3.1\n"


def test_unknown_repo_is_a_clear_error(hub: HubSim, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["show", "--repo-id", "acme/missing"], capsys)
    assert code == 1
    assert err == (
        "evalbot: error: repository 'acme/missing' not found on the Hub; "
        "check the id, or set HF_TOKEN if it is private or gated\n"
    )


@pytest.mark.slow
def test_unreachable_hub_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("HF_TOKEN", "hf_secret_value_never_printed")
    code, _, err = run(["show", "--repo-id", MODEL], capsys)
    assert code == 1
    assert "cannot reach the Hub" in err and "check HF_ENDPOINT" in err
    assert "hf_secret_value_never_printed" not in err


def test_console_script_runs(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "extract-readme", "--readme-file", str(EXAMPLE), "--model-name", MODEL,
         "--format", "json"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["results"]) == 3


def test_usage_error_exits_2_and_names_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["extract-readme"], capsys)
    assert code == 2
    assert err == (
        "evalbot: error: one of the arguments --repo-id --readme-file is required "
        "(see `evalbot extract-readme --help`)\n"
    )
    code, _, err = run(["no-such-command"], capsys)
    assert code == 2 and err.endswith("(see `evalbot --help`)\n") and "evalbot evalbot" not in err


def test_bare_evalbot_prints_help_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run([], capsys)
    assert code == 0 and err == ""
    assert out.startswith("usage: evalbot") and "extract-readme" in out and "exit codes: 0 results" in out


def test_global_flags_work_after_the_subcommand_too(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "evalbot.yaml"
    config.write_text("deny: [\n", encoding="utf-8")  # broken: proves --config was read
    for argv in (
        ["--config", str(config), "show", "--readme-file", str(EXAMPLE)],
        ["show", "--readme-file", str(EXAMPLE), "--config", str(config)],
    ):
        code, _, err = run(argv, capsys)
        assert code == 2 and str(config) in err, argv
    code, _, _ = run(["show", "--readme-file", str(EXAMPLE), "-v"], capsys)
    assert code in (0, 3)


def test_a_malformed_repo_id_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("show", "run", "get-prs", "import-aa"):
        code, _, err = run([command, "--repo-id", "not a repo"], capsys)
        assert code == 2, command
        assert err == (
            f"evalbot: error: argument --repo-id: 'not a repo' is not a repo id like org/name "
            f"(see `evalbot {command} --help`)\n"
        )


def test_every_subcommand_has_an_example_and_shows_its_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import build_parser

    parser = build_parser()
    (commands,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in commands.choices.items():
        text = command.format_help()
        assert "example:" in text, name
        assert "--repo-id REPO_ID" not in text or "e.g. org/model" in text, name
    assert "default: text" in commands.choices["get-prs"].format_help()
    assert "default: 8765" in commands.choices["sim"].format_help()
    assert "default: lighteval" in commands.choices["evaluate"].format_help()
    run_help = " ".join(commands.choices["run"].format_help().split())
    assert "--sources SOURCES comma-separated, from readme, aa, eval" in run_help
    assert "--tasks TASKS for the eval source" in run_help


def test_show_and_validate_of_a_card_without_results_say_what_to_try(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    card = tmp_path / "README.md"
    card.write_text("# A model\n\nNo results yet.\n", encoding="utf-8")
    hint = (
        f"`evalbot extract-readme --readme-file {card} --dry-run` shows what evalbot would add from the card's tables"
    )
    code, _, err = run(["show", "--readme-file", str(card)], capsys)
    assert code == 3 and err == f"{card}: no model-index and no .eval_results files; {hint}\n"
    code, _, err = run(["validate", "--readme-file", str(card)], capsys)
    assert code == 3 and err == f"{card}: no model-index and no .eval_results files to validate; {hint}\n"
