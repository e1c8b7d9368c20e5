"""HubClient against the local Hub: typed errors that say what to do, and retries that honour
Retry-After for reads only."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.config.settings import Secret, Settings
from bot.edges.hub import HubClient, RetryPolicy
from bot.errors import AmbiguousWriteError, AuthError, GatedRepoError, RateLimitedError, RepoNotFoundError
from bot.sim.hub import HubSim

REPO = "acme/model"


@pytest.fixture
def sim() -> HubSim:
    hub = HubSim()
    hub.add_repo(REPO, {"README.md": "---\nlicense: mit\n---\n# model\n", ".eval_results/x.yaml": "[]\n"})
    hub.add_repo("acme/gated", {"README.md": "# gated\n"}, gated=True)
    with hub:
        yield hub


def client(sim: HubSim, token: str | None = "evalbot-token", **retry: float) -> HubClient:
    settings = Settings(hf_token=Secret(token) if token else None, hf_endpoint=sim.url, home=Path("/nonexistent"))
    return HubClient(settings, retry=RetryPolicy(**{"attempts": 4, "base_wait": 0.0, "max_wait": 5.0, **retry}))


def test_snapshot_reads_sha_readme_and_eval_results_in_three_requests(sim: HubSim) -> None:
    snapshot = client(sim).snapshot(REPO)
    assert snapshot.sha == sim.head(REPO)
    assert snapshot.readme == "---\nlicense: mit\n---\n# model\n"
    assert snapshot.eval_results == {".eval_results/x.yaml": "[]\n"}
    assert sim.request_count() == 3


def test_missing_repo_is_repo_not_found(sim: HubSim) -> None:
    with pytest.raises(RepoNotFoundError, match="'acme/nope' not found on the Hub; check the id"):
        client(sim).snapshot("acme/nope")


def test_gated_repo_says_how_to_get_access(sim: HubSim) -> None:
    with pytest.raises(GatedRepoError, match="acme/gated is gated: accept its conditions"):
        client(sim).snapshot("acme/gated")


def test_invalid_token_is_an_auth_error(sim: HubSim) -> None:
    with pytest.raises(AuthError, match="the Hub rejected HF_TOKEN"):
        client(sim, token="hf_wrong").whoami()


def test_missing_token_is_an_auth_error_without_a_request(sim: HubSim) -> None:
    with pytest.raises(AuthError, match="no Hub token: set HF_TOKEN or run `hf auth login`"):
        client(sim, token=None).whoami()
    assert sim.request_count() == 0


def test_reads_retry_after_429_honouring_retry_after(sim: HubSim) -> None:
    sim.inject("model_info", 429, times=2, retry_after=1)
    hub = client(sim)
    started = time.monotonic()
    assert hub.snapshot(REPO).sha == sim.head(REPO)
    assert time.monotonic() - started >= 2.0  # two waits of Retry-After: 1, not the 0 s backoff
    assert sim.request_count(path_prefix=f"/api/models/{REPO}") == 3


def test_persistent_429_is_rate_limited_with_the_wait(sim: HubSim) -> None:
    sim.inject("model_info", 429, retry_after=0)
    with pytest.raises(RateLimitedError, match="rate limited by the Hub on read the repo on acme/model; retry in 0 s"):
        client(sim).snapshot(REPO)
    assert sim.request_count(path_prefix=f"/api/models/{REPO}") == 4


def test_a_failed_comment_is_not_retried_blindly(sim: HubSim) -> None:
    hub = client(sim, token="maintainer-token")
    num = sim.open_pr(REPO, {"a.txt": "1"}, author="maintainer")
    sim.inject("comment", 503, times=1)
    with pytest.raises(AmbiguousWriteError, match="answer was lost"):
        hub.comment(REPO, num, "hello")
    assert sim.request_count(method="POST") == 1


def test_repr_never_shows_the_token(sim: HubSim) -> None:
    assert "evalbot-token" not in repr(client(sim))
