"""The Hub stand-in, driven by the real huggingface_hub client over HTTP (reference/hub-protocol.md §1, §8)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, DiscussionComment, HfApi, hf_hub_download
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from bot.sim.faults import Fault, FaultPlan, parse_faults
from bot.sim.hub import HubSim, git_blob_sha1, serve

REPO = "acme/m"
README = "---\nlicense: mit\ntags: [a]\n---\n# M\n\nHello.\n"
pytestmark = pytest.mark.filterwarnings("ignore:Warnings while validating metadata:UserWarning")
USERS = {"tok-bot": "evalbot", "tok-alice": "alice", "tok-acme": "acme", "tok-bob": "bob"}


@pytest.fixture
def sim() -> Iterator[HubSim]:
    hub = HubSim(users=USERS, page_size=50)
    hub.add_repo(REPO, {"README.md": README, "config.json": "{}"})
    with hub:
        yield hub


def api(sim: HubSim, token: str | None = "tok-bot") -> HfApi:
    return HfApi(endpoint=sim.url, token=token if token is not None else False)


def add(path: str, text: str) -> CommitOperationAdd:
    return CommitOperationAdd(path_in_repo=path, path_or_fileobj=text.encode())


def open_bot_pr(sim: HubSim, text: str = "# M\n\nBetter.\n", description: str = "desc") -> int:
    info = api(sim).create_commit(
        REPO, [add("README.md", text)], commit_message="Update card", commit_description=description, create_pr=True
    )
    assert info.pr_num is not None
    return info.pr_num


# -- identity ------------------------------------------------------------------------------------


def test_whoami_per_token_and_401(sim: HubSim) -> None:
    assert api(sim, "tok-bot").whoami()["name"] == "evalbot"
    me = api(sim, "tok-alice").whoami()
    assert me["name"] == "alice" and me["type"] == "user" and me["auth"]["accessToken"]["role"] == "write"
    with pytest.raises(HfHubHTTPError) as err:
        api(sim, "tok-nobody").whoami()
    assert err.value.response.status_code == 401
    assert sim.request_count("GET", "/api/whoami-v2") == 3


def test_default_users_and_agent_harnesses() -> None:
    with HubSim() as hub:
        assert HfApi(endpoint=hub.url, token="evalbot-token").whoami()["name"] == "evalbot"
        assert HfApi(endpoint=hub.url, token="maintainer-token").whoami()["name"] == "maintainer"
        assert httpx2.get(f"{hub.url}/api/agent-harnesses").status_code == 404


# -- reads ---------------------------------------------------------------------------------------


def test_model_info_with_and_without_revision(sim: HubSim) -> None:
    first = sim.head(REPO)
    info = api(sim).model_info(REPO)
    assert info.id == REPO and info.sha == first and info.author == "acme" and info.private is False
    assert sorted(s.rfilename for s in info.siblings or []) == ["README.md", "config.json"]
    assert info.card_data is not None and info.card_data["license"] == "mit"
    second = sim.push(REPO, {"README.md": "# M2\n"}, summary="rewrite")
    assert api(sim).model_info(REPO).sha == second
    assert api(sim).model_info(REPO, revision=first).sha == first
    num = open_bot_pr(sim)
    pr_info = api(sim).model_info(REPO, revision=f"refs/pr/{num}")
    assert pr_info.sha == sim.head(REPO, f"refs/pr/{num}") != second
    assert ("GET", f"/api/models/{REPO}/revision/refs%2Fpr%2F{num}") in sim.requests
    with pytest.raises(RevisionNotFoundError):
        api(sim).model_info(REPO, revision="refs/pr/99")


def test_download_readme_and_missing_file(sim: HubSim, tmp_path: Path) -> None:
    path = hf_hub_download(REPO, "README.md", endpoint=sim.url, token=False, cache_dir=tmp_path)
    assert Path(path).read_text() == README
    assert f"snapshots/{sim.head(REPO)}/README.md" in Path(path).as_posix()
    response = httpx2.head(f"{sim.url}/{REPO}/resolve/main/README.md")
    assert response.headers["X-Repo-Commit"] == sim.head(REPO)
    assert response.headers["ETag"] == f'"{git_blob_sha1(README.encode())}"'
    assert response.headers["Content-Length"] == str(len(README.encode()))
    with pytest.raises(RemoteEntryNotFoundError):
        hf_hub_download(REPO, "nope.md", endpoint=sim.url, token=False, cache_dir=tmp_path)


def test_missing_repo_private_repo_and_gated_repo(sim: HubSim, tmp_path: Path) -> None:
    with pytest.raises(RepositoryNotFoundError):
        api(sim).model_info("acme/missing")
    sim.add_repo("alice/secret", {"README.md": "x"}, private=True)
    assert api(sim, "tok-alice").model_info("alice/secret").private is True
    for token in ("tok-bob", None):
        with pytest.raises(RepositoryNotFoundError):
            api(sim, token).model_info("alice/secret")
    sim.add_repo("acme/gated", {"README.md": "gated"}, gated=True, readers=["alice"])
    assert api(sim, "tok-bob").model_info("acme/gated").gated == "auto"
    for gated_token in ("tok-bob", False):
        with pytest.raises(GatedRepoError):
            hf_hub_download("acme/gated", "README.md", endpoint=sim.url, token=gated_token, cache_dir=tmp_path)
    path = hf_hub_download("acme/gated", "README.md", endpoint=sim.url, token="tok-alice", cache_dir=tmp_path)
    assert Path(path).read_text() == "gated"


def test_list_repo_refs_with_prs(sim: HubSim) -> None:
    num = open_bot_pr(sim)
    refs = api(sim).list_repo_refs(REPO, include_pull_requests=True)
    assert [(b.name, b.ref, b.target_commit) for b in refs.branches] == [("main", "refs/heads/main", sim.head(REPO))]
    assert refs.pull_requests is not None
    assert [(p.ref, p.target_commit) for p in refs.pull_requests] == [(f"refs/pr/{num}", sim.head(REPO, "refs/pr/1"))]
    assert api(sim).list_repo_refs(REPO).pull_requests is None


def test_download_from_a_pr_ref(sim: HubSim, tmp_path: Path) -> None:
    num = open_bot_pr(sim, "# PR text\n")
    sim.comment(REPO, num, "thanks", by="acme")
    path = hf_hub_download(REPO, "README.md", revision=f"refs/pr/{num}", endpoint=sim.url, cache_dir=tmp_path)
    assert Path(path).read_text() == "# PR text\n"
    assert ("GET", f"/{REPO}/resolve/refs%2Fpr%2F{num}/README.md") in sim.requests
    assert sim.discussions(REPO)[0].comments == [("acme", "thanks")]


# -- commits and PRs -----------------------------------------------------------------------------


def test_create_commit_with_create_pr_opens_a_pr(sim: HubSim) -> None:
    main = sim.head(REPO)
    info = api(sim).create_commit(
        REPO, [add("README.md", "new\n")], commit_message="Update card", commit_description="why", create_pr=True
    )
    assert info.pr_num == 1 and info.pr_revision == "refs/pr/1"
    assert info.pr_url == f"{sim.url}/{REPO}/discussions/1"
    assert info.oid == sim.head(REPO, "refs/pr/1") and info.repo_url.endswith(REPO)
    assert sim.head(REPO) == main and sim.file(REPO, "README.md", "refs/pr/1") == b"new\n"
    (pr,) = api(sim).get_repo_discussions(REPO)
    assert (pr.num, pr.title, pr.status, pr.author, pr.is_pull_request) == (1, "Update card", "open", "evalbot", True)
    (view,) = sim.discussions(REPO)
    assert (view.description, view.ref, view.head, view.base) == ("why", "refs/pr/1", info.oid, main)
    assert sim.request_count("POST", "/api/validate-yaml") == 1


def test_unchanged_file_is_a_no_op(sim: HubSim) -> None:
    info = api(sim).create_commit(REPO, [add("README.md", README)], commit_message="Same", create_pr=True)
    assert info.pr_url is None and info.pr_num is None and info.oid == sim.head(REPO)
    assert sim.discussions(REPO) == [] and sim.request_count("POST", f"/api/models/{REPO}/commit") == 0


def test_push_to_a_pr_with_parent_commit(sim: HubSim) -> None:
    num = open_bot_pr(sim)
    ref = f"refs/pr/{num}"
    head = sim.head(REPO, ref)
    info = api(sim).create_commit(
        REPO, [add("README.md", "v2\n")], commit_message="Refresh", revision=ref, parent_commit=head
    )
    assert info.pr_url is None and sim.head(REPO, ref) == info.oid != head
    assert sim.file(REPO, "README.md", ref) == b"v2\n"
    with pytest.raises(HfHubHTTPError) as err:
        api(sim).create_commit(
            REPO, [add("README.md", "v3\n")], commit_message="Stale", revision=ref, parent_commit=head
        )
    assert err.value.response.status_code == 412
    assert err.value.response.headers["X-Error-Code"] == "ParentCommitMismatch"
    details = api(sim).get_discussion_details(REPO, num)
    assert [e.type for e in details.events] == ["comment", "commit", "commit"]
    with pytest.raises(HfHubHTTPError) as err:  # only the author or a writer may push to a PR
        api(sim, "tok-bob").create_commit(REPO, [add("README.md", "x\n")], commit_message="x", revision=ref)
    assert err.value.response.status_code == 403
    with pytest.raises(RevisionNotFoundError):
        api(sim).create_commit(REPO, [add("README.md", "x\n")], commit_message="x", revision="refs/pr/42")
    sim.close(REPO, num)
    with pytest.raises(HfHubHTTPError) as err:  # closed PRs accept no commits
        api(sim).create_commit(REPO, [add("README.md", "x\n")], commit_message="x", revision=ref)
    assert err.value.response.status_code == 403


def test_commit_to_main_needs_write_access(sim: HubSim) -> None:
    with pytest.raises(HfHubHTTPError) as err:
        api(sim).create_commit(REPO, [add("README.md", "x\n")], commit_message="Direct")
    assert err.value.response.status_code == 403 and "rights to create a commit" in str(err.value)
    with pytest.raises(HfHubHTTPError) as err:
        api(sim, None).create_commit(REPO, [add("README.md", "x\n")], commit_message="Direct", create_pr=True)
    assert err.value.response.status_code == 401
    parent = sim.head(REPO)
    info = api(sim, "tok-acme").create_commit(
        REPO,
        [add("notes.md", "n\n"), CommitOperationDelete("config.json")],
        commit_message="Direct",
        parent_commit=parent,
    )
    assert sim.head(REPO) == info.oid and sim.file(REPO, "config.json") is None
    assert sim.file(REPO, "notes.md") == b"n\n"
    sim.add_repo("other/m", {"README.md": "x"}, writers=["evalbot"])
    api(sim).create_commit("other/m", [add("a.txt", "a")], commit_message="ok")
    assert sim.file("other/m", "a.txt") == b"a"


def test_validate_yaml_rejects_broken_front_matter(sim: HubSim) -> None:
    with pytest.raises(ValueError, match=r"Invalid metadata in README\.md"):
        api(sim).create_commit(
            REPO, [add("README.md", "---\nlicense: [mit\n---\n# M\n")], commit_message="Bad", create_pr=True
        )
    assert sim.discussions(REPO) == []


# -- discussions ---------------------------------------------------------------------------------


def test_discussion_pagination_and_filters(sim: HubSim) -> None:
    alice = api(sim, "tok-alice")
    for i in range(120):
        if i % 3 == 0:
            alice.create_pull_request(REPO, f"pr {i}")  # drafts
        else:
            api(sim).create_discussion(REPO, f"d {i}")
    sim.reset_requests()
    everything = list(api(sim).get_repo_discussions(REPO))
    assert sorted(d.num for d in everything) == list(range(1, 121))
    pages = [p for m, p in sim.requests if "/discussions?" in p]
    assert len(pages) == 3 and pages[-1].endswith("p=2")
    body = httpx2.get(f"{sim.url}/api/models/{REPO}/discussions", params={"p": 2}).json()
    assert (body["count"], body["start"], len(body["discussions"])) == (120, 100, 20)
    assert len(list(api(sim).get_repo_discussions(REPO, author="alice"))) == 40
    prs = list(api(sim).get_repo_discussions(REPO, discussion_type="pull_request"))
    assert len(prs) == 40 and all(d.is_pull_request and d.status == "draft" for d in prs)
    assert len(list(api(sim).get_repo_discussions(REPO, discussion_type="discussion"))) == 80
    alice.change_discussion_status(REPO, 1, "closed")
    sim.close(REPO, 2)
    closed = list(api(sim).get_repo_discussions(REPO, discussion_status="closed"))
    assert sorted(d.num for d in closed) == [1, 2]
    assert len(list(api(sim).get_repo_discussions(REPO, discussion_status="open"))) == 118


def test_discussion_details_comment_and_status(sim: HubSim) -> None:
    num = open_bot_pr(sim, "# M\n\nBetter.\n", description="the why")
    bot, alice = api(sim), api(sim, "tok-alice")
    message = alice.comment_discussion(REPO, num, "looks odd")
    assert message.content == "looks odd" and message.author == "alice"
    details = bot.get_discussion_details(REPO, num)
    assert details.target_branch == "refs/heads/main" and details.conflicting_files == []
    assert details.merge_commit_oid is None
    assert "+Better." in (details.diff or "") and "--- a/README.md" in (details.diff or "")
    comments = [(e.author, e.content) for e in details.events if isinstance(e, DiscussionComment)]
    assert comments == [("evalbot", "the why"), ("alice", "looks odd")]
    with pytest.raises(HfHubHTTPError) as err:  # neither the author nor a writer
        alice.change_discussion_status(REPO, num, "closed")
    assert err.value.response.status_code == 403
    change = bot.change_discussion_status(REPO, num, "closed", comment="superseded")
    assert change.new_status == "closed"
    (view,) = sim.discussions(REPO)
    assert view.status == "closed" and view.comments == [("alice", "looks odd"), ("evalbot", "superseded")]


def test_conflicts_and_merge(sim: HubSim) -> None:
    num = open_bot_pr(sim)
    sim.push(REPO, {"README.md": "# maintainer edit\n"})
    assert api(sim).get_discussion_details(REPO, num).conflicting_files == ["README.md"]
    human = sim.open_pr(REPO, {"notes.md": "hi\n"}, author="bob", title="Add notes")
    with pytest.raises(HfHubHTTPError) as err:
        api(sim).merge_pull_request(REPO, human)
    assert err.value.response.status_code == 403
    merge = sim.merge(REPO, human)
    assert sim.file(REPO, "notes.md") == b"hi\n" and sim.file(REPO, "README.md") == b"# maintainer edit\n"
    details = api(sim).get_discussion_details(REPO, human)
    assert details.status == "merged" and details.merge_commit_oid == merge
    api(sim, "tok-acme").change_discussion_status(REPO, num, "closed")
    assert [v.status for v in sim.discussions(REPO)] == ["closed", "merged"]


# -- faults --------------------------------------------------------------------------------------


def test_429_with_retry_after_and_500(sim: HubSim) -> None:
    sim.inject("model_info", "429", times=1, retry_after=7)
    with pytest.raises(HfHubHTTPError) as err:
        api(sim).model_info(REPO)
    assert err.value.response.status_code == 429 and err.value.response.headers["Retry-After"] == "7"
    assert api(sim).model_info(REPO).sha == sim.head(REPO)
    sim.inject("discussions", 500, method="get", times=1)
    with pytest.raises(HfHubHTTPError) as err:
        list(api(sim).get_repo_discussions(REPO))
    assert err.value.response.status_code == 500
    assert sim.faults_injected == 2


def test_drop_before_commit_applies_nothing(sim: HubSim) -> None:
    sim.inject("commit", "drop_before", times=1)
    with pytest.raises(httpx2.TransportError):
        open_bot_pr(sim)
    assert sim.discussions(REPO) == []
    assert open_bot_pr(sim) == 1


def test_drop_after_commit_creates_the_pr(sim: HubSim) -> None:
    sim.inject("commit", "drop_after", method="POST", times=1)
    with pytest.raises(httpx2.TransportError):
        open_bot_pr(sim, description="crash")
    (view,) = sim.discussions(REPO)
    assert view.is_pr and view.status == "open" and view.description == "crash"
    assert sim.faults_injected == 1


def test_delay_fault(sim: HubSim) -> None:
    sim.inject("whoami", "delay", delay=0.2)
    start = time.monotonic()
    api(sim).whoami()
    assert time.monotonic() - start >= 0.2


def _outcomes(seed: int) -> list[int]:
    hub = HubSim(users=USERS, seed=seed, faults=parse_faults("model_info:503:rate=0.5"))
    hub.add_repo(REPO, {"README.md": README})
    with hub, httpx2.Client() as client:
        return [client.get(f"{hub.url}/api/models/{REPO}").status_code for _ in range(20)]


def test_rate_faults_are_deterministic_for_a_seed() -> None:
    first = _outcomes(0)
    assert first == _outcomes(0) and set(first) == {200, 503}
    assert first != _outcomes(1)


def test_fault_plan_order_and_star() -> None:
    plan = FaultPlan([Fault("*", "delay", delay=0.1), Fault("resolve", "500", method="HEAD", times=1)])
    assert plan.decide("agent_harnesses", "GET").delay == 0
    decision = plan.decide("resolve", "HEAD")
    assert decision.delay == pytest.approx(0.1) and decision.fault is not None and decision.fault.status == 500
    assert plan.decide("resolve", "HEAD").fault is None and plan.injected == 3


def test_parse_faults_good_specs() -> None:
    faults = parse_faults("commit:drop_after:times=1, *:429:rate=0.2:retry_after=0,resolve:delay=0.5")
    assert faults == [
        Fault("commit", "drop_after", times=1),
        Fault("*", "429", rate=0.2),
        Fault("resolve", "delay", delay=0.5),
    ]
    assert parse_faults("resolve@head:delay:1.5") == [Fault("resolve", "delay", method="HEAD", delay=1.5)]
    assert parse_faults("") == []
    assert parse_faults(faults[1].spec()) == [faults[1]]


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("commit", "bad fault 'commit': expected route"),
        ("comit:500", "unknown route 'comit'"),
        ("commit:418", "unknown fault kind '418'"),
        ("commit:500:times=0", "times must be at least 1"),
        ("commit:500:times=x", "times='x' is not an integer"),
        ("*:429:rate=2", "rate must be between 0 and 1"),
        ("*:429:often", "option 'often' is not name=value"),
        ("*:429:colour=red", "unknown option 'colour'"),
        ("resolve:delay", "needs delay=<seconds>"),
        ("resolve@FETCH:500", "unknown HTTP method 'FETCH'"),
    ],
)
def test_parse_faults_bad_specs(spec: str, fragment: str) -> None:
    with pytest.raises(ValueError, match="bad fault") as err:
        parse_faults(f"model_info:500,{spec}")
    assert fragment in str(err.value) and "\n" not in str(err.value)


# -- concurrency and the foreground command ------------------------------------------------------


def test_concurrent_pr_creation_numbers_are_unique(sim: HubSim) -> None:
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            open_bot_pr(sim, f"# M\n\nVariant {i}.\n")
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [v.num for v in sim.discussions(REPO)] == list(range(1, 9))


def test_serve_prints_the_url_and_serves(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "acme" / "m").mkdir(parents=True)
    (tmp_path / "acme" / "m" / "README.md").write_text(README)
    done = threading.Event()
    holder: list[HubSim] = []
    original = HubSim.serve_forever

    def capture(self: HubSim) -> None:
        holder.append(self)
        done.set()
        original(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(HubSim, "serve_forever", capture)
        thread = threading.Thread(target=serve, args=(0, tmp_path, "whoami:500:times=1", None), daemon=True)
        thread.start()
        assert done.wait(5)
        hub = holder[0]
        try:
            assert capsys.readouterr().out == f"Hub stand-in listening on {hub.url} (1 repos)\n"
            with pytest.raises(HfHubHTTPError):
                HfApi(endpoint=hub.url, token="evalbot-token").whoami()
            assert HfApi(endpoint=hub.url, token="maintainer-token").whoami()["name"] == "maintainer"
            assert HfApi(endpoint=hub.url).model_info("acme/m").sha == hub.head("acme/m")
        finally:
            hub._server.shutdown()
            thread.join(5)
    with pytest.raises(NotADirectoryError):
        serve(0, tmp_path / "missing", None, None)


def test_only_a_comments_author_may_edit_it(sim: HubSim) -> None:
    info = api(sim).create_commit(
        REPO, [add("x.txt", "x")], commit_message="x", commit_description="first", create_pr=True
    )
    assert info.pr_num is not None
    first = api(sim).get_discussion_details(REPO, info.pr_num).events[0]
    with pytest.raises(HfHubHTTPError) as refused:
        api(sim, "tok-alice").edit_discussion_comment(REPO, info.pr_num, first.id, "hijacked")
    assert refused.value.response.status_code == 403
    edited = api(sim).edit_discussion_comment(REPO, info.pr_num, first.id, "second")
    assert isinstance(edited, DiscussionComment) and edited.content == "second" and edited.edited
    assert sim.discussions(REPO)[0].description == "second"
