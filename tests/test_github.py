"""The Action's GitHub side (`bot.edges.github`), driven through real PyGithub over HTTP against the
GitHub stand-in (`bot.sim.github`); hub-protocol.md §6."""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Iterator

import pytest
import requests

from bot.config.settings import Secret
from bot.edges.github import DEFAULT_MARKER, MAX_COMMENT, GitHubError, GitHubReporter
from bot.errors import BotError, ConfigError, NotAvailableError
from bot.sim.github import ACTIONS_TOKEN, PAT_TOKEN, GitHubSim, TokenInfo

pytest.importorskip("github")

REPO = "octo/demo"
SHA = "0123456789abcdef0123456789abcdef01234567"
READONLY_TOKEN = "ghs_simReadOnlyForkToken0000000000000000"
APP_TOKEN = "v1.simAppInstallationTokenWithoutPrefix00"  # an installation token of another format
TOKENS = {
    ACTIONS_TOKEN: TokenInfo("github-actions[bot]", can_create_check_runs=True, installation=True, rate_limit=1000),
    PAT_TOKEN: TokenInfo("octocat"),
    READONLY_TOKEN: TokenInfo("github-actions[bot]", installation=True, can_write=False),
    APP_TOKEN: TokenInfo("evalbot-app[bot]", can_create_check_runs=True, installation=True),
}


@pytest.fixture
def sim() -> Iterator[GitHubSim]:
    with GitHubSim(tokens=TOKENS) as gh:
        gh.add_repo(REPO)
        gh.add_issue(REPO, 7, "Add evaluation results", is_pr=True)
        gh.add_issue(REPO, 8, "A plain issue")
        yield gh


def reporter(sim: GitHubSim, token: str = ACTIONS_TOKEN, repository: str = REPO) -> GitHubReporter:
    return GitHubReporter(
        Secret(token), repository=repository, base_url=sim.url, seconds_between_writes=0, seconds_between_requests=0
    )


# -- upsert_comment ------------------------------------------------------------------------------


def test_upsert_creates_one_comment_with_the_marker(sim: GitHubSim) -> None:
    url = reporter(sim).upsert_comment(7, "## evalbot\n3 PRs opened")
    [comment] = sim.comments(REPO, 7)
    assert comment["body"] == f"## evalbot\n3 PRs opened\n\n{DEFAULT_MARKER}"
    assert comment["user"]["login"] == "github-actions[bot]"
    assert url == comment["html_url"] and url.endswith(f"/{REPO}/pull/7#issuecomment-{comment['id']}")
    assert sim.request_count("POST") == 1 and sim.request_count("PATCH") == 0


def test_upsert_updates_in_place_then_skips_identical_bodies(sim: GitHubSim) -> None:
    bot = reporter(sim)
    first = bot.upsert_comment(7, "run 1")
    [created] = sim.comments(REPO, 7)
    second = bot.upsert_comment(7, "run 2")
    [updated] = sim.comments(REPO, 7)
    assert second == first and updated["id"] == created["id"]
    assert updated["body"] == f"run 2\n\n{DEFAULT_MARKER}" and updated["updated_at"] > created["updated_at"]
    assert sim.request_count("PATCH") == 1
    third = reporter(sim).upsert_comment(7, "run 2")  # a fresh process, same content: no write at all
    assert third == first and sim.comments(REPO, 7) == [updated]
    assert sim.request_count("PATCH") == 1 and sim.request_count("POST") == 1


def test_upsert_keeps_a_marker_already_in_the_body(sim: GitHubSim) -> None:
    body = f"{DEFAULT_MARKER}\nheader first"
    reporter(sim).upsert_comment(8, body)
    reporter(sim).upsert_comment(8, body)
    assert [c["body"] for c in sim.comments(REPO, 8)] == [body]
    assert sim.request_count("PATCH") == 0


def test_custom_markers_keep_separate_comments(sim: GitHubSim) -> None:
    bot = reporter(sim)
    bot.upsert_comment(7, "scan", marker="<!-- evalbot:scan -->")
    bot.upsert_comment(7, "eval", marker="<!-- evalbot:eval -->")
    bot.upsert_comment(7, "scan 2", marker="<!-- evalbot:scan -->")
    assert [c["body"].split("\n")[0] for c in sim.comments(REPO, 7)] == ["scan 2", "eval"]
    with pytest.raises(ConfigError):
        bot.upsert_comment(7, "x", marker="")


@pytest.mark.parametrize("token", [ACTIONS_TOKEN, PAT_TOKEN, APP_TOKEN])
def test_upsert_finds_its_comment_across_pages(sim: GitHubSim, token: str) -> None:
    for i in range(120):
        sim.add_comment(REPO, 7, f"comment {i}", user=f"user{i % 3}")
    bot = reporter(sim, token)
    bot.upsert_comment(7, "first")  # the 121st comment: page 2 of 100
    sim.reset_requests()
    bot.upsert_comment(7, "second")
    mine = [c for c in sim.comments(REPO, 7) if DEFAULT_MARKER in c["body"]]
    assert len(sim.comments(REPO, 7)) == 121 and [c["body"] for c in mine] == [f"second\n\n{DEFAULT_MARKER}"]
    pages = [p for m, p in sim.requests if m == "GET" and p.startswith(f"/repos/{REPO}/issues/7/comments")]
    assert len(pages) == 2 and "page=2" in pages[1]
    assert sim.request_count("POST") == 0 and sim.request_count("PATCH") == 1


@pytest.mark.parametrize("token", [ACTIONS_TOKEN, PAT_TOKEN, APP_TOKEN])
def test_upsert_ignores_a_human_comment_quoting_the_marker(sim: GitHubSim, token: str) -> None:
    quoted = f"> the bot said\n> {DEFAULT_MARKER}\nwhy?"
    human = sim.add_comment(REPO, 7, quoted, user="alice")
    reporter(sim, token).upsert_comment(7, "results")
    comments = sim.comments(REPO, 7)
    assert len(comments) == 2 and comments[0]["id"] == human and comments[0]["body"] == quoted
    assert comments[1]["body"] == f"results\n\n{DEFAULT_MARKER}"
    assert sim.request_count("PATCH") == 0


def test_pat_matches_its_own_login_not_another_bot(sim: GitHubSim) -> None:
    sim.add_comment(REPO, 7, f"from the Actions bot\n{DEFAULT_MARKER}", user="github-actions[bot]", bot=True)
    reporter(sim, PAT_TOKEN).upsert_comment(7, "from octocat")
    logins = [c["user"]["login"] for c in sim.comments(REPO, 7)]
    assert logins == ["github-actions[bot]", "octocat"]
    assert sim.request_count("GET", "/user") == 1


@pytest.mark.parametrize(("token", "asked"), [(PAT_TOKEN, 1), (APP_TOKEN, 1), (ACTIONS_TOKEN, 0)])
def test_login_is_asked_at_most_once_per_reporter(sim: GitHubSim, token: str, asked: int) -> None:
    bot = reporter(sim, token)
    for n in range(3):
        bot.upsert_comment(7, f"run {n}")
    # a `ghs_` token (Actions' GITHUB_TOKEN) is an installation token: GET /user would be a 403
    assert sim.request_count("GET", "/user") == asked and sim.requests.count(("GET", f"/repos/{REPO}")) == 1
    assert len(sim.comments(REPO, 7)) == 1 and sim.request_count("PATCH") == 2


def test_upsert_cuts_an_oversized_body_and_keeps_the_marker(sim: GitHubSim) -> None:
    reporter(sim).upsert_comment(8, "x" * (MAX_COMMENT + 500))
    [comment] = sim.comments(REPO, 8)
    assert len(comment["body"]) == MAX_COMMENT and comment["body"].endswith(DEFAULT_MARKER)
    assert "truncated" in comment["body"]


def test_a_read_only_token_fails_with_a_one_line_error(sim: GitHubSim) -> None:
    with pytest.raises(GitHubError) as caught:
        reporter(sim, READONLY_TOKEN).upsert_comment(7, "hi")
    message = str(caught.value)
    assert caught.value.status == 403 and "\n" not in message
    assert message == f"commenting on {REPO}#7: GitHub answered 403 Resource not accessible by integration"
    assert sim.comments(REPO, 7) == []


# -- check runs ----------------------------------------------------------------------------------


def test_check_run_with_an_actions_token(sim: GitHubSim) -> None:
    url = reporter(sim).create_check_run(
        SHA, name="evalbot", conclusion="failure", title="1 repo failed", summary="| repo | status |", text="details"
    )
    [run] = sim.check_runs(REPO)
    assert url == run["html_url"]
    assert (run["name"], run["head_sha"], run["status"], run["conclusion"]) == ("evalbot", SHA, "completed", "failure")
    assert run["output"] == {
        "title": "1 repo failed",
        "summary": "| repo | status |",
        "text": "details",
        "annotations_count": 0,
    }
    assert run["completed_at"]


@pytest.mark.parametrize("token", [PAT_TOKEN, READONLY_TOKEN])
def test_check_run_is_skipped_when_the_token_cannot_create_one(
    sim: GitHubSim, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.edges.github")
    result = reporter(sim, token).create_check_run(SHA, name="evalbot", conclusion="neutral", title="t", summary="s")
    assert result is None and sim.check_runs(REPO) == []
    ours = [r for r in caplog.records if r.name == "bot.edges.github"]
    assert [(r.levelno, r.getMessage()) for r in ours] == [
        (logging.INFO, "check run skipped: token cannot create check runs")
    ]
    assert sim.request_count("POST", f"/repos/{REPO}/check-runs") == 1  # not retried


def test_check_run_errors_other_than_403_raise(sim: GitHubSim) -> None:
    with pytest.raises(GitHubError) as caught:
        reporter(sim).create_check_run("", name="evalbot", conclusion="success", title="t", summary="s")
    assert caught.value.status == 422 and "\n" not in str(caught.value)


def test_check_run_summary_is_cut_to_githubs_limit(sim: GitHubSim) -> None:
    reporter(sim).create_check_run(SHA, name="evalbot", conclusion="success", title="t", summary="y" * 70_000)
    [run] = sim.check_runs(REPO)
    assert len(run["output"]["summary"]) == 65535 and "truncated" in run["output"]["summary"]


# -- rate limits ---------------------------------------------------------------------------------


def test_rate_limit_headers_are_present_and_decrease(sim: GitHubSim) -> None:
    with requests.Session() as http:
        http.headers["Authorization"] = f"token {PAT_TOKEN}"
        seen = []
        for path in (f"/repos/{REPO}", f"/repos/{REPO}/issues/7", "/repos/octo/missing"):
            r = http.get(f"{sim.url}{path}", timeout=5)
            for name in ("Limit", "Remaining", "Reset", "Used", "Resource"):
                assert f"X-RateLimit-{name}" in r.headers
            assert r.headers["X-RateLimit-Limit"] == "5000" and r.headers["X-RateLimit-Resource"] == "core"
            seen.append((int(r.headers["X-RateLimit-Remaining"]), int(r.headers["X-RateLimit-Used"])))
        assert seen == [(4999, 1), (4998, 2), (4997, 3)]
        overview = http.get(f"{sim.url}/rate_limit", timeout=5)  # does not count, as on GitHub
        assert overview.json()["resources"]["core"]["remaining"] == 4997
        assert overview.headers["X-RateLimit-Remaining"] == "4997"
        anonymous = requests.get(f"{sim.url}/repos/{REPO}", timeout=5)
        assert anonymous.headers["X-RateLimit-Limit"] == "60"


def test_reporter_sees_the_rate_limit_fall(sim: GitHubSim) -> None:
    bot = reporter(sim)
    bot.upsert_comment(7, "one")
    remaining, limit = bot.rate_limiting
    bot.upsert_comment(7, "two")
    later, _ = bot.rate_limiting
    assert limit == 1000 and later < remaining < limit
    assert later == sim.rate_limit_remaining(ACTIONS_TOKEN)


# -- errors and secrecy --------------------------------------------------------------------------


def test_unknown_repo_is_a_one_line_github_error(sim: GitHubSim) -> None:
    with pytest.raises(GitHubError) as caught:
        reporter(sim, repository="octo/missing").upsert_comment(7, "hi")
    message = str(caught.value)
    assert isinstance(caught.value, BotError) and caught.value.status == 404
    assert message == f"repository octo/missing not found at {sim.url} (or the token cannot see it)"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_unknown_issue_and_unknown_token(sim: GitHubSim) -> None:
    with pytest.raises(GitHubError, match=r"^issue or pull request octo/demo#99 not found$"):
        reporter(sim).upsert_comment(99, "hi")
    with pytest.raises(GitHubError, match=r"GitHub rejected the token \(401 Bad credentials\)") as caught:
        reporter(sim, "ghp_notAKnownTokenAtAll").create_check_run(
            SHA, name="e", conclusion="success", title="t", summary="s"
        )
    assert caught.value.status == 401 and "ghp_notAKnownTokenAtAll" not in str(caught.value)


def test_an_unreachable_api_is_a_github_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bot = GitHubReporter(
        Secret(PAT_TOKEN), repository=REPO, base_url=f"http://127.0.0.1:{port}", seconds_between_requests=0
    )
    with pytest.raises(GitHubError, match=r"cannot reach the GitHub API at http://127\.0\.0\.1:\d+") as caught:
        bot.upsert_comment(7, "hi")
    assert caught.value.status is None


def test_the_token_never_shows(sim: GitHubSim, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # PyGithub logs every request and response at DEBUG
    secret = "ghp_VerySecretValue_4242424242424242424242"
    tokens = {**TOKENS, secret: TokenInfo("octocat")}
    texts: list[str] = []
    with GitHubSim(tokens=tokens) as gh:
        gh.add_repo(REPO)
        gh.add_issue(REPO, 7, "PR", is_pr=True)
        bot = GitHubReporter(
            Secret(secret), repository=REPO, base_url=gh.url, seconds_between_writes=0, seconds_between_requests=0
        )
        texts += [repr(bot), str(bot), bot.upsert_comment(7, "hi"), bot.upsert_comment(7, "hi 2")]
        texts.append(str(bot.create_check_run(SHA, name="e", conclusion="success", title="t", summary="s")))
        for failing in (lambda: bot.upsert_comment(99, "x"), lambda: reporter(gh, secret, "octo/nope").rate_limiting):
            try:
                failing()
            except GitHubError as e:
                texts += [str(e), repr(e)]
        texts += [f"{m} {p}" for m, p in gh.requests]
    texts += [r.getMessage() for r in caplog.records]
    assert any("GET" in t for t in texts) and len(caplog.records) > 5
    assert not [t for t in texts if secret in t]


def test_repr_shows_no_token(sim: GitHubSim) -> None:
    bot = reporter(sim, PAT_TOKEN)
    assert repr(bot) == f"GitHubReporter(repository='octo/demo', base_url={sim.url!r})"
    assert PAT_TOKEN not in repr(bot) and PAT_TOKEN not in str(vars(bot).get("repository"))


def test_bad_arguments_are_config_errors(sim: GitHubSim) -> None:
    for repository in ("octo", "/demo", "octo/demo/extra", ""):
        with pytest.raises(ConfigError, match="owner/name"):
            reporter(sim, repository=repository)
    with pytest.raises(ConfigError, match="token is empty"):
        GitHubReporter(Secret(""), repository=REPO, base_url=sim.url)


def test_without_pygithub_it_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "github", None)  # `import github` now raises ImportError
    with pytest.raises(NotAvailableError, match=r"pip install 'evalbot\[github\]'"):
        GitHubReporter(Secret(PAT_TOKEN), repository=REPO)


# -- the stand-in itself (raw HTTP) -------------------------------------------------------------


def test_sim_auth_rules(sim: GitHubSim) -> None:
    url = f"{sim.url}/repos/{REPO}/issues/7/comments"
    anonymous_read = requests.get(url, timeout=5)
    assert anonymous_read.status_code == 200 and anonymous_read.json() == []
    anonymous_write = requests.post(url, json={"body": "x"}, timeout=5)
    assert anonymous_write.status_code == 401 and anonymous_write.json()["message"] == "Requires authentication"
    for method in ("GET", "POST"):
        bad = requests.request(method, url, json={"body": "x"}, headers={"Authorization": "token nope"}, timeout=5)
        assert bad.status_code == 401 and bad.json()["message"] == "Bad credentials"
    me = requests.get(f"{sim.url}/user", headers={"Authorization": f"Bearer {PAT_TOKEN}"}, timeout=5)
    assert me.status_code == 200 and me.json()["login"] == "octocat"
    app = requests.get(f"{sim.url}/user", headers={"Authorization": f"token {ACTIONS_TOKEN}"}, timeout=5)
    assert app.status_code == 403 and app.json()["message"] == "Resource not accessible by integration"
    pat_check = requests.post(
        f"{sim.url}/repos/{REPO}/check-runs",
        json={"name": "x", "head_sha": SHA},
        headers={"Authorization": f"token {PAT_TOKEN}"},
        timeout=5,
    )
    assert pat_check.status_code == 403 and pat_check.json()["message"] == "You must authenticate via a GitHub App."
    assert sim.comments(REPO, 7) == []


def test_sim_404s_and_link_header(sim: GitHubSim) -> None:
    for path in ("/repos/octo/missing", f"/repos/{REPO}/issues/99", f"/repos/{REPO}/issues/comments/1", "/nothing"):
        r = requests.get(f"{sim.url}{path}", timeout=5)
        assert r.status_code == 404 and r.json()["message"] == "Not Found"
    assert requests.get(f"{sim.url}/repos/OCTO/Demo", timeout=5).json()["full_name"] == REPO
    for i in range(5):
        sim.add_comment(REPO, 8, f"c{i}")
    page = requests.get(f"{sim.url}/repos/{REPO}/issues/8/comments", params={"per_page": 2, "page": 2}, timeout=5)
    assert [c["body"] for c in page.json()] == ["c2", "c3"]
    links = dict((part.split('rel="')[1][:-1], part.split(">")[0][1:]) for part in page.headers["Link"].split(", "))
    assert set(links) == {"prev", "first", "next", "last"} and links["last"].endswith("page=3")
    issue = requests.get(f"{sim.url}/repos/{REPO}/issues/7", timeout=5).json()
    assert issue["pull_request"]["url"].endswith("/pulls/7") and issue["number"] == 7
    assert "pull_request" not in requests.get(f"{sim.url}/repos/{REPO}/issues/8", timeout=5).json()


def test_sim_check_run_edit_and_helpers_validate(sim: GitHubSim) -> None:
    from github import Auth, Github

    gh = Github(auth=Auth.Token(ACTIONS_TOKEN), base_url=sim.url, seconds_between_writes=0, seconds_between_requests=0)
    repo = gh.get_repo(REPO)
    run = repo.create_check_run(name="evalbot", head_sha=SHA, status="in_progress")
    assert run.status == "in_progress" and run.conclusion is None
    run.edit(conclusion="success", output={"title": "done", "summary": "all good"})
    assert repo.get_check_run(run.id).conclusion == "success"
    assert sim.check_runs(REPO)[0]["status"] == "completed"
    comment = repo.get_issue(7).create_comment("hello")
    assert repo.get_issue(7).get_comment(comment.id).body == "hello"
    with pytest.raises(ValueError):
        sim.add_repo(REPO)
    with pytest.raises(ValueError):
        sim.add_issue(REPO, 7, "again")
    with pytest.raises(ValueError):
        sim.add_repo("not-a-repo")


def test_a_bug_is_not_disguised_as_a_github_error(sim: GitHubSim) -> None:
    with pytest.raises(AssertionError):  # PyGithub asserts its argument types
        reporter(sim).upsert_comment("7", "hi")  # type: ignore[arg-type]
