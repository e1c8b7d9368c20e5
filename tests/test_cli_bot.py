"""The publishing commands of the CLI against the local Hub: run, scan, get-prs, sim, demo,
and extract-readme --create-pr/--apply."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from bot.cli import main
from bot.cli.demo import run_demo
from bot.sim.hub import HubSim
from tests._serve import free_port

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "demo"
CARD = (EXAMPLES / "acme" / "Ours-7B-Instruct" / "README.md").read_text()
REPO = "acme/Ours-7B-Instruct"


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> HubSim:
    hub = HubSim.from_directory(EXAMPLES)
    with hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("HF_TOKEN", "evalbot-token")
        yield hub


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_run_opens_a_pr_and_a_rerun_does_nothing(sim: HubSim, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["run", "--repo-id", REPO, "--create-pr", "--format", "json"], capsys)
    assert code == 0
    (report,) = json.loads(out)
    assert (report["outcome"], report["pr_num"]) == ("created", 1)
    code, out, _ = run(["run", "--repo-id", REPO, "--create-pr"], capsys)
    assert code == 0
    assert "unchanged" in out and "1 unchanged" in out
    assert len([d for d in sim.discussions(REPO) if d.is_pr]) == 1


def test_run_dry_run_prints_the_plan_and_diff_and_writes_nothing(
    sim: HubSim, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(["run", "--repo-id", REPO, "--dry-run"], capsys)
    assert code == 0
    assert "would open a pull request" in out
    assert "--- a/README.md\n+++ b/README.md\n" in out and "+++ b/.eval_results/readme.yaml" in out
    assert sim.discussions(REPO) == [] and sim.request_count(method="POST") == 0
    assert not (Path(os.environ["EVALBOT_HOME"]) / "evalbot.sqlite3").exists()


@pytest.mark.parametrize("argv", [["run", "--repo-id", REPO], ["scan", "--author", "acme"]])
def test_run_and_scan_write_nothing_unless_asked(
    sim: HubSim, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, _ = run(argv, capsys)
    assert code == 0
    assert "would open a pull request" in out and "+++ b/README.md" in out
    assert sim.discussions(REPO) == [] and sim.request_count(method="POST") == 0
    assert not (Path(os.environ["EVALBOT_HOME"]) / "evalbot.sqlite3").exists()


def test_run_create_pr_opens_the_pr_and_push_needs_write(sim: HubSim, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["run", "--repo-id", REPO, "--create-pr"], capsys)
    assert code == 0 and "created" in out
    assert [d.num for d in sim.discussions(REPO) if d.is_pr] == [1]
    code, _, err = run(["run", "--repo-id", REPO, "--create-pr", "--push"], capsys)
    assert code == 2 and "--push: not allowed with argument --create-pr" in err


def test_extract_readme_create_pr_goes_through_the_gate(sim: HubSim, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["extract-readme", "--repo-id", REPO, "--create-pr"]
    assert run(argv, capsys)[0] == 0
    code, out, _ = run(argv, capsys)
    assert code == 0 and "unchanged: PR #1 already proposes this" in out
    assert len(sim.discussions(REPO)) == 1


def test_extract_readme_apply_without_write_access_opens_a_pr_instead(
    sim: HubSim, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["extract-readme", "--repo-id", REPO, "--apply"], capsys)
    assert code == 0 and "created" in out
    assert sim.file(REPO, "README.md") == CARD.encode()


def test_extract_readme_apply_with_write_access_pushes(
    sim: HubSim, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "maintainer-token")
    code, out, _ = run(["extract-readme", "--repo-id", REPO, "--apply"], capsys)
    assert code == 0 and "pushed" in out
    assert "push to main" in out and "(configured)" not in out  # it was asked for, not configured
    assert b"model-index:" in (sim.file(REPO, "README.md") or b"")


def test_scan_by_author_then_again_changes_nothing(sim: HubSim, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["scan", "--author", "acme", "--workers", "2", "--create-pr", "--format", "json"], capsys)
    assert code == 0
    outcomes = {r["repo_id"]: r["outcome"] for r in json.loads(out)}
    assert outcomes == {
        "acme/Ours-7B-Instruct": "created",
        "acme/gemma-like-2b": "created",
        "acme/opus-mt-en-de": "created",
        "acme/plain-model": "unchanged",
        "acme/tiny-asr-en": "created",
    }
    code, out, _ = run(["scan", "--author", "acme", "--create-pr"], capsys)
    assert code == 0 and out.rstrip().endswith("5 unchanged")


def test_scan_from_a_repos_file(sim: HubSim, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    repos = tmp_path / "repos.txt"
    repos.write_text(f"# models to watch\n{REPO}\n\nacme/plain-model  # no tables\n{REPO}\n")
    code, out, _ = run(["scan", "--repos-file", str(repos), "--create-pr", "--format", "json"], capsys)
    assert code == 0
    assert [(r["repo_id"], r["outcome"]) for r in json.loads(out)] == [
        (REPO, "created"),
        ("acme/plain-model", "unchanged"),
    ]


def test_scan_reports_a_missing_repo_as_failed_and_exits_1(
    sim: HubSim, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repos = tmp_path / "repos.txt"
    repos.write_text(f"{REPO}\nacme/missing\n")
    code, out, _ = run(["scan", "--repos-file", str(repos), "--create-pr"], capsys)
    assert code == 1
    assert "acme/missing" in out and "failed" in out and "1 created, 1 failed" in out


def test_bad_repos_file_is_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    repos = tmp_path / "repos.txt"
    repos.write_text("acme/ok\nnot a repo\n")
    code, _, err = run(["scan", "--repos-file", str(repos)], capsys)
    assert code == 2
    assert err == f"evalbot: error: {repos} line 2: 'not a repo' is not a repo id like org/name\n"


def test_get_prs_lists_every_pr_and_marks_evalbots(sim: HubSim, capsys: pytest.CaptureFixture[str]) -> None:
    run(["run", "--repo-id", REPO, "--create-pr"], capsys)
    sim.open_pr(REPO, {"notes.md": "hi"}, author="alice", title="Add notes")
    code, out, _ = run(["get-prs", "--repo-id", REPO, "--format", "json"], capsys)
    assert code == 0
    listed = {p["num"]: (p["author"], p["is_bot"], p["source"]) for p in json.loads(out)}
    assert listed == {1: ("evalbot", True, "readme"), 2: ("alice", False, None)}
    code, out, _ = run(["get-prs", "--repo-id", REPO], capsys)
    assert "evalbot source=readme fingerprint=" in out


def test_missing_token_for_writes_is_a_clear_error(
    sim: HubSim, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_TOKEN")
    code, out, _ = run(["run", "--repo-id", REPO, "--create-pr"], capsys)
    assert code == 1
    assert "failed" in out and "no Hub token: set HF_TOKEN or run `hf auth login`" in out


def test_demo_runs_offline_and_its_rerun_is_a_no_op(tmp_path: Path) -> None:
    from io import StringIO

    out = StringIO()
    started = time.monotonic()
    assert run_demo(tmp_path / "ledger", out=out) == 0
    assert time.monotonic() - started < 60
    text = out.getvalue()
    assert "4 created, 1 unchanged" in text and text.count("== acme/") == 4
    assert "5 unchanged" in text.split("== scan 2")[1]


@pytest.mark.slow
def test_demo_evaluate_opens_one_pr_per_engine_and_reruns_from_the_cache(tmp_path: Path) -> None:
    from io import StringIO

    out = StringIO()
    assert run_demo(tmp_path / "ledger", out=out, evaluate=True) == 0
    text = out.getvalue().split("== evaluate: ")[1]
    assert "acme/tiny-llama PR #1" in text and "acme/tiny-llama PR #2" in text
    assert "name: tiny_mc (lighteval)" in text and "name: tiny_mc (inspect)" in text
    rerun = text.split("== evaluate again")[1]
    assert "2 unchanged" in rerun and "the rerun ran the engines 0 time(s)" in rerun


def test_sim_command_serves_repos_in_the_foreground(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "sim", "--port", str(port), "--repos", str(EXAMPLES)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line == f"Hub stand-in listening on http://127.0.0.1:{port} (5 repos)\n"
        info = HfApi(endpoint=f"http://127.0.0.1:{port}").model_info(REPO)
        assert info.id == REPO
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_sim_command_rejects_a_bad_fault_spec(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["sim", "--repos", str(EXAMPLES), "--faults", "commit:explode"], capsys)
    assert code == 2
    assert err.startswith("evalbot: error: --faults: bad fault 'commit:explode'")


def test_sim_command_can_serve_the_aa_stand_in_too(tmp_path: Path) -> None:
    import requests

    port, aa_port = free_port(), free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "sim",
            "--port",
            str(port),
            "--repos",
            str(EXAMPLES),
            "--aa-port",
            str(aa_port),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first, second = proc.stdout.readline(), proc.stdout.readline()
        assert first == f"Artificial Analysis stand-in listening on http://127.0.0.1:{aa_port}/api/v2 (11 models)\n"
        assert second.startswith("Hub stand-in listening on")
        answer = requests.get(
            f"http://127.0.0.1:{aa_port}/api/v2/data/llms/models", headers={"x-api-key": "aa-test-key"}, timeout=10
        )
        assert answer.status_code == 200 and len(answer.json()["data"]) == 11
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("command", ["sim", "serve"])
def test_a_port_in_use_is_one_line_and_exit_2(
    sim: HubSim, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setenv("EVALBOT_WEBHOOK_SECRET", "s3cret")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        argv = ["sim", "--repos", str(EXAMPLES)] if command == "sim" else ["serve", "--workers", "0"]
        code, out, err = run([*argv, "--port", str(port)], capsys)
    assert code == 2
    assert out == ""
    why = "already in use; pick another port (or stop what is listening there)"
    assert err == f"evalbot: error: --port {port}: {why}\n"


def test_serve_without_the_server_extra_names_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if `pip install evalbot` (no extras)
    code, _, err = run(["serve"], capsys)
    assert code == 1
    assert err == "evalbot: error: evalbot serve needs the server extra: pip install 'evalbot[server]'\n"


def test_run_eval_source_takes_tasks_and_a_stray_tasks_flag_says_what_to_do(
    sim: HubSim, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["run", "--repo-id", REPO, "--tasks", "gsm8k|5"], capsys)
    assert code == 2
    assert err == "evalbot: error: --tasks is for the eval source: add eval to --sources (e.g. --sources readme,eval)\n"
    code, _, err = run(["run", "--repo-id", REPO, "--sources", "eval", "--tasks", "|5"], capsys)
    assert code == 2 and "lighteval task '|5'" in err


def test_get_prs_marks_evalbots_own_results_pr_as_touching_results(
    sim: HubSim, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["run", "--repo-id", REPO, "--create-pr"], capsys)
    code, out, _ = run(["get-prs", "--repo-id", REPO, "--format", "json"], capsys)
    assert code == 0
    (pr,) = json.loads(out)
    assert (pr["is_bot"], pr["touches_results"]) == (True, True)


def test_the_hf_auth_login_token_is_used_without_hf_token(
    sim: HubSim, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_TOKEN")
    token_file = Path(os.environ["HF_HOME"]) / "token"
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token_file.write_text("evalbot-token\n")  # what `hf auth login` saves
    code, out, err = run(["run", "--repo-id", REPO, "--token-from", "env", "--create-pr"], capsys)
    assert code == 1 and "no Hub token: set HF_TOKEN or run `hf auth login`" in out
    assert err.splitlines()[0].startswith("evalbot run without a token (read-only) on http://127.0.0.1:")
    code, out, err = run(["run", "--repo-id", REPO, "--create-pr"], capsys)
    assert code == 0 and "created" in out
    assert err.splitlines()[0] == f"evalbot run as evalbot on {sim.url}; writes through the gate"
    assert "evalbot-token" not in out + err


def test_run_and_scan_say_who_they_act_as_and_that_a_dry_run_writes_nothing(
    sim: HubSim, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["run", "--repo-id", REPO], ["scan", "--author", "acme"]):
        _, _, err = run(command, capsys)
        assert err.splitlines()[0] == (
            f"evalbot {command[0]} as evalbot on {sim.url}; "
            "dry run: nothing is written (--create-pr or --push to write)"
        )


def test_scan_of_an_unknown_author_says_why_nothing_was_scanned(
    sim: HubSim, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["scan", "--author", "nobody-here"], capsys)
    assert code == 3 and out == ""
    assert err.splitlines()[1] == (
        f"no repos to scan: {sim.url} lists no model repos of 'nobody-here'; the user or organization may not "
        "exist (names are case-sensitive) or have only private models"
    )


MISS_CARD = """# Mistral 9B

| Benchmark | Llama-3-8B | Ours-9B-Base | Qwen2-7B |
|---|---|---|---|
| MMLU | 66.6 | 70.1 | 70.3 |
| GSM8K | 79.6 | 80.2 | 82.3 |
"""


def test_a_model_name_miss_says_why_with_the_closest_column_and_the_flag_run_takes(
    sim: HubSim, capsys: pytest.CaptureFixture[str]
) -> None:
    sim.add_repo("acme/Mistral-9B", {"README.md": MISS_CARD})
    why = (
        "table 1: columns name other models; none of them is this model; candidates: 'Llama-3-8B', "
        "'Ours-9B-Base', 'Qwen2-7B'; closest 'Ours-9B-Base': --table 1 --model-column-index 2"
    )
    code, out, _ = run(["run", "--repo-id", "acme/Mistral-9B"], capsys)
    assert code == 0 and f"no results found: {why}" in out
    code, out, _ = run(["scan", "--repos-file", _repos(sim, "acme/Mistral-9B")], capsys)
    assert f"unchanged      no results found: {why}" in out
    code, out, _ = run(["inspect-tables", "--repo-id", "acme/Mistral-9B"], capsys)
    assert out.endswith(f"nothing would be published:\n  {why}\n")
    code, out, _ = run(["run", "--repo-id", "acme/Mistral-9B", "--table", "1", "--model-column-index", "2"], capsys)
    assert code == 0 and "would open a pull request" in out and "+      value: 70.1\n" in out


def _repos(sim: HubSim, *repos: str) -> str:
    path = Path(os.environ["EVALBOT_HOME"]).parent / "repos.txt"
    path.write_text("\n".join(repos) + "\n")
    return str(path)


def test_get_prs_with_a_personal_token_shows_evalbots_pr_and_how_to_name_its_account(
    sim: HubSim, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(["run", "--repo-id", REPO, "--create-pr"], capsys)  # as evalbot
    monkeypatch.setenv("HF_TOKEN", "maintainer-token")  # a person's own token
    code, out, _ = run(["get-prs", "--repo-id", REPO], capsys)
    assert code == 0
    assert "evalbot's marker, but not by maintainer (--bot-user evalbot if that is evalbot's account)" in out
    code, out, _ = run(["get-prs", "--repo-id", REPO, "--bot-user", "evalbot", "--format", "json"], capsys)
    (pr,) = json.loads(out)
    assert (pr["is_bot"], pr["source"], pr["bot_user"]) == (True, "readme", "evalbot")
