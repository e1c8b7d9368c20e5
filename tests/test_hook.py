"""`evalbot hook` (a webhook-triggered HF Job, no server) against the local Hub over real HTTP: the
same PR as `serve` for the same recorded payload, a replay that opens nothing with no ledger at
all, the secret check, and the ledger kept in a Hub dataset (`EVALBOT_STATE_REPO`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import HfApi
from starlette.testclient import TestClient

from bot.cli import main
from bot.config.settings import Secret, Settings
from bot.core.plan import parse_markers
from bot.edges.hub import HubClient, RetryPolicy
from bot.serve.service import build_service
from bot.serve.worker import WorkerPolicy
from bot.sim.hub import HubSim

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "demo" / "acme"
CARD = (EXAMPLES / "Ours-7B-Instruct" / "README.md").read_text()
REPO = "acme/Ours-7B-Instruct"
SECRET = "webhook-secret-for-tests"
STATE = "evalbot/evalbot-state"


def push_payload(sha: str) -> dict[str, Any]:
    """A `repo.content` delivery as the Hub records it (reference/hub-protocol.md §3.2)."""
    return {
        "event": {"action": "update", "scope": "repo.content"},
        "repo": {"type": "model", "name": REPO, "id": "6553c3f8a3b1a3c3e1f0a001", "private": False, "headSha": sha,
                 "url": {"web": f"https://huggingface.co/{REPO}", "api": f"https://huggingface.co/api/models/{REPO}"},
                 "owner": {"id": "6553c3f8a3b1a3c3e1f0a000"}, "tags": ["license:apache-2.0"]},
        "updatedRefs": [{"ref": "refs/heads/main", "oldSha": "f" * 40, "newSha": sha}],
        "webhook": {"id": "6553c3f8a3b1a3c3e1f0a0ff", "version": 3},
    }  # fmt: skip


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> HubSim:
    hub = HubSim()
    hub.add_repo(REPO, {"README.md": CARD})
    with hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("HF_TOKEN", "evalbot-token")
        monkeypatch.setenv("EVALBOT_WEBHOOK_SECRET", SECRET)
        yield hub


def job_env(monkeypatch: pytest.MonkeyPatch, payload: dict[str, Any], *, secret: str = SECRET) -> None:
    """What a webhook-triggered Job finds in its environment."""
    monkeypatch.setenv("WEBHOOK_PAYLOAD", json.dumps(payload))
    monkeypatch.setenv("WEBHOOK_REPO_ID", payload["repo"]["name"])
    monkeypatch.setenv("WEBHOOK_REPO_TYPE", payload["repo"]["type"])
    monkeypatch.setenv("WEBHOOK_SECRET", secret)


def hook(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["hook", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def pr_files(sim: HubSim) -> tuple[str, str, str, str]:
    """The PR's title, fingerprint and files, with the stand-in's address (in source URLs) as HUB."""
    (pr,) = [d for d in sim.discussions(REPO) if d.is_pr]
    (marker,) = parse_markers(pr.description)
    files = [sim.file(REPO, path, pr.ref or "") or b"" for path in ("README.md", ".eval_results/readme.yaml")]
    readme, results = (data.decode().replace(sim.url, "HUB") for data in files)
    return pr.title, marker["fingerprint"], readme, results


def test_hook_opens_the_pr_serve_would_and_a_replay_opens_nothing(
    sim: HubSim, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    payload = push_payload(sim.head(REPO))
    job_env(monkeypatch, payload)
    code, out, err = hook(capsys, "--format", "json")
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert result["ignored"] is None and result["event"].startswith("hub:6553c3f8a3b1a3c3e1f0a0ff:repo.content:")
    assert [(r["outcome"], r["pr_num"]) for r in result["reports"]] == [("created", 1)]
    by_hook = pr_files(sim)

    # `serve` on a twin Hub, the same payload posted to its webhook endpoint
    with HubSim() as twin:
        twin.add_repo(REPO, {"README.md": CARD})
        assert twin.head(REPO) == sim.head(REPO)
        settings = Settings(hf_token=Secret("evalbot-token"), hf_endpoint=twin.url, home=tmp_path / "serve")
        service = build_service(
            settings, workers=1, env={"EVALBOT_WEBHOOK_SECRET": SECRET}, hub=HubClient(settings, retry=RetryPolicy()),
            policy=WorkerPolicy(lease_seconds=30),
        )  # fmt: skip
        answer = TestClient(service.app).post("/webhooks/hub", json=payload, headers={"X-Webhook-Secret": SECRET})
        assert answer.status_code == 202
        assert service.workers[0].run_once()
        assert pr_files(twin) == by_hook

    # the replay: a fresh Job, no ledger at all; evalbot's marker on the Hub says it is done
    sim.reset_requests()
    code, out, _ = hook(capsys)
    assert code == 0 and "unchanged" in out and "1 unchanged" in out
    assert [d.num for d in sim.discussions(REPO) if d.is_pr] == [1]
    assert sim.request_count(method="POST") == 0


def test_wrong_or_missing_secret_runs_nothing(
    sim: HubSim, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    job_env(monkeypatch, push_payload(sim.head(REPO)), secret="not-the-secret")
    sim.reset_requests()
    code, out, err = hook(capsys)
    assert (code, out) == (2, "")
    assert err == (
        "evalbot: error: WEBHOOK_SECRET does not match the secret evalbot expects: this event is not from its webhook\n"
    )
    assert SECRET not in err and "not-the-secret" not in err and sim.requests == []
    monkeypatch.delenv("EVALBOT_WEBHOOK_SECRET")
    code, _, err = hook(capsys)
    assert code == 2 and "EVALBOT_WEBHOOK_SECRET is not set" in err


def test_missing_or_mismatched_payload_is_bad_input(
    sim: HubSim, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = hook(capsys)
    assert code == 2 and "WEBHOOK_PAYLOAD is not set" in err
    job_env(monkeypatch, push_payload(sim.head(REPO)))
    monkeypatch.setenv("WEBHOOK_REPO_ID", "acme/other")
    code, _, err = hook(capsys)
    assert code == 2 and "WEBHOOK_REPO_ID='acme/other' but the payload is about 'acme/Ours-7B-Instruct'" in err
    monkeypatch.setenv("WEBHOOK_REPO_ID", REPO)
    monkeypatch.setenv("WEBHOOK_PAYLOAD", '{"event": {"action": "update"}}')
    code, _, err = hook(capsys)
    assert code == 2 and "payload: event.scope is missing" in err
    assert sim.discussions(REPO) == []


def test_an_event_that_makes_no_job_says_why_and_exits_0(
    sim: HubSim, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = push_payload(sim.head(REPO))
    payload["updatedRefs"] = [{"ref": "refs/pr/3", "oldSha": None, "newSha": "a" * 40}]
    job_env(monkeypatch, payload)
    code, out, _ = hook(capsys)
    assert code == 0 and out.endswith("no job (event repo.content/update makes no job)\n")
    assert sim.discussions(REPO) == []


def test_a_failed_job_exits_1(sim: HubSim, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    payload = push_payload(sim.head(REPO))
    payload["repo"]["name"] = "acme/gone"
    job_env(monkeypatch, payload)
    code, out, _ = hook(capsys)
    assert code == 1 and "acme/gone" in out and "failed" in out


def test_the_ledger_in_a_hub_dataset_makes_a_replay_cost_nothing(
    sim: HubSim, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sim.add_repo(STATE, {"README.md": "evalbot's ledger\n"}, repo_type="dataset", private=True)
    monkeypatch.setenv("EVALBOT_STATE_REPO", STATE)
    job_env(monkeypatch, push_payload(sim.head(REPO)))
    code, out, _ = hook(capsys)
    assert code == 0 and "created" in out
    saved = sim.file(STATE, "evalbot.sqlite3", repo_type="dataset")
    assert saved is not None and saved.startswith(b"SQLite format 3\x00")

    sim.reset_requests()
    code, out, _ = hook(capsys)
    assert code == 0 and "duplicate: the ledger has handled this event already" in out
    assert [p for _, p in sim.requests if "/Ours-7B-Instruct" in p] == []  # the model repo is not read at all
    assert sim.file(STATE, "evalbot.sqlite3", repo_type="dataset") == saved  # nothing new to save

    # the next event: only its own job is reported, though the ledger holds the first one's
    sha = sim.push(REPO, {"README.md": CARD.replace("**65.4**", "**66.1**")}, author="alice")
    job_env(monkeypatch, push_payload(sha))
    code, out, _ = hook(capsys, "--format", "json")
    assert code == 0
    assert [(r["outcome"], r["pr_num"]) for r in json.loads(out)["reports"]] == [("updated", 1)]
    assert sim.file(STATE, "evalbot.sqlite3", repo_type="dataset") != saved

    monkeypatch.setenv("EVALBOT_STATE_REPO", "evalbot/no-such-state")
    code, _, err = hook(capsys)
    assert code == 2 and "EVALBOT_STATE_REPO=evalbot/no-such-state: no such dataset" in err


def test_a_chatops_refresh_comment_replies_once_and_runs_the_pipeline_in_the_same_job(
    sim: HubSim, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sim.add_org("acme", ["alice"])
    maintainer = HfApi(endpoint=sim.url, token="maintainer-token")
    num = maintainer.create_discussion(REPO, title="Question", description="Hello").num
    sim.comment(REPO, num, "@evalbot refresh", by="alice")
    details = HfApi(endpoint=sim.url).get_discussion_details(REPO, num)
    (comment_id,) = [e.id for e in details.events if e.type == "comment" and e.author == "alice"]
    payload = {
        "event": {"action": "create", "scope": "discussion.comment"},
        "repo": {"type": "model", "name": REPO, "id": "6553c3f8a3b1a3c3e1f0a001", "private": False,
                 "owner": {"id": "6553c3f8a3b1a3c3e1f0a000"}},
        "discussion": {"id": "d" * 24, "num": num, "title": "Question", "status": "open", "isPullRequest": False,
                       "author": {"id": "alice-id"}, "url": {"web": "x", "api": "y"}},
        "comment": {"id": comment_id, "author": {"id": "alice-id"}, "content": "@evalbot refresh", "hidden": False,
                    "url": {"web": "x"}},
        "webhook": {"id": "6553c3f8a3b1a3c3e1f0a0ff", "version": 3},
    }  # fmt: skip
    job_env(monkeypatch, payload)
    code, out, _ = hook(capsys, "--format", "json")
    assert code == 0
    assert [(r["outcome"], r["pr_num"]) for r in json.loads(out)["reports"]] == [("created", num + 1)]
    replies = [text for author, text in sim.discussions(REPO)[0].comments if author == "evalbot"]
    assert len(replies) == 1 and "refresh" in replies[0].lower()
