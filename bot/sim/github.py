"""A local GitHub REST API stand-in over real HTTP, for tests and offline runs.

Real PyGithub drives it through `Github(base_url=sim.url)` (in the Action: `GITHUB_API_URL`);
nothing in the client is patched. It serves the calls of reference/hub-protocol.md §6.2 that
`bot.edges.github` makes, with the JSON fields PyGithub reads:

* `GET /repos/{o}/{r}` (case-insensitive names, as on GitHub);
* `GET /repos/{o}/{r}/issues/{n}` (a pull request is an issue with a `pull_request` object);
* `GET|POST /repos/{o}/{r}/issues/{n}/comments` (oldest first; `per_page` default 30, at most 100,
  `page` from 1; a `Link` header with `next`/`last`/`first`/`prev` as GitHub sends it);
* `GET|PATCH /repos/{o}/{r}/issues/comments/{id}`;
* `POST /repos/{o}/{r}/check-runs`, `GET|PATCH /repos/{o}/{r}/check-runs/{id}`;
* `GET /user` (the token's user), `GET /rate_limit`.

Tokens (`Authorization: token X` or `Bearer X`) map to a `TokenInfo`. Without `tokens`,
`DEFAULT_TOKENS` applies: `ACTIONS_TOKEN` is like Actions' `GITHUB_TOKEN` with `checks: write`
(user `github-actions[bot]`, an installation token) and `PAT_TOKEN` a personal access token of
`octocat`. Rules, as on GitHub:

* an unknown token answers 401 `{"message": "Bad credentials"}` on every route; no token may read,
  but a write (or `GET /user`) answers 401 `{"message": "Requires authentication"}`;
* `GET /user` with an installation token answers 403 "Resource not accessible by integration";
* only tokens with `can_create_check_runs` may create or edit check runs: other installation
  tokens get 403 "Resource not accessible by integration", other tokens (PATs) 403
  "You must authenticate via a GitHub App.";
* a token without `can_write` gets 403 on every write (a read-only `GITHUB_TOKEN`, e.g. a fork's);
* bodies longer than 65536 characters (comments) or 65535 (check-run summary/text) answer 422;
* unknown repos, issues, comments and routes answer 404 `{"message": "Not Found"}`.

Every response carries `X-RateLimit-Limit/-Remaining/-Reset/-Used/-Resource` for the caller's
bucket (per token; anonymous and rejected callers share one of 60); each request but
`GET /rate_limit` uses one. The limit is reported, never enforced (an exhausted bucket stays at 0),
so a test cannot make PyGithub sleep until the reset. Times are a fake clock starting
2025-01-01T00:00:00Z, one second per write. `html_url`s point under `url` (like GitHub Enterprise).
No faults: the routing is deliberately simple.

    with GitHubSim() as gh:
        gh.add_repo("octo/demo")
        gh.add_issue("octo/demo", 7, "Add evals", is_pr=True)
        Github(auth=Auth.Token(ACTIONS_TOKEN), base_url=gh.url).get_repo("octo/demo")
"""

from __future__ import annotations

import copy
import re
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from bot.sim._http import StandIn, StandInHandler, StandInServer, count_requests, json_object, parse_authorization

__all__ = ["ACTIONS_TOKEN", "DEFAULT_TOKENS", "PAT_TOKEN", "GitHubSim", "TokenInfo"]

ACTIONS_TOKEN = "ghs_simActionsToken0000000000000000000000"
PAT_TOKEN = "ghp_simPersonalToken000000000000000000000"
ANONYMOUS_LIMIT = 60
MAX_COMMENT = 65536
MAX_CHECK_TEXT = 65535
CONCLUSIONS = ("action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out")
STATUSES = ("queued", "in_progress", "completed")
_DOCS = "https://docs.github.com/rest"
_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
_NAME = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class TokenInfo:
    """Who a token is and what it may do.

    `installation`: a GitHub App installation token (Actions' `GITHUB_TOKEN`): `GET /user` is
    forbidden and its user is a `Bot`. `can_create_check_runs`: the Checks API is open to it
    (`permissions: checks: write`). `can_write`: comments may be created and edited.
    """

    login: str
    can_create_check_runs: bool = False
    installation: bool = False
    can_write: bool = True
    rate_limit: int = 5000


DEFAULT_TOKENS: Mapping[str, TokenInfo] = {
    ACTIONS_TOKEN: TokenInfo("github-actions[bot]", can_create_check_runs=True, installation=True, rate_limit=1000),
    PAT_TOKEN: TokenInfo("octocat"),
}


class _Failure(Exception):
    def __init__(self, status: int, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"message": self.message, "documentation_url": _DOCS, "status": str(self.status)}
        if self.errors is not None:
            payload["errors"] = self.errors
        return payload


def _not_found() -> _Failure:
    return _Failure(404, "Not Found")


def _too_long(resource: str, name: str, limit: int) -> _Failure:
    detail = f"{name} is too long (maximum is {limit} characters)"
    return _Failure(
        422, "Validation Failed", [{"resource": resource, "code": "custom", "field": name, "message": detail}]
    )


@dataclass
class _Comment:
    id: int
    user: str
    bot: bool
    body: str
    created_at: str
    updated_at: str


@dataclass
class _Issue:
    id: int
    number: int
    title: str
    is_pr: bool
    user: str
    body: str
    created_at: str
    comments: list[_Comment] = field(default_factory=list)


@dataclass
class _Repo:
    id: int
    owner: str
    name: str
    issues: dict[int, _Issue] = field(default_factory=dict)
    check_runs: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class _Reply:
    status: int
    payload: object
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Caller:
    token: str | None
    info: TokenInfo | None  # None: anonymous, or a token the sim does not know
    known: bool  # False when a token was sent that the sim does not know


class GitHubSim(StandIn[tuple[str, str]]):
    """A threaded HTTP server on 127.0.0.1 that answers like the GitHub REST API (the part we use).

    `url` is the API base (`http://127.0.0.1:PORT`): PyGithub's `base_url`, the Action's `GITHUB_API_URL`.
    """

    thread_name = "github-sim"

    def __init__(self, port: int = 0, *, tokens: Mapping[str, TokenInfo] | None = None) -> None:
        self._tokens = dict(DEFAULT_TOKENS if tokens is None else tokens)
        self._lock = threading.RLock()  # guards everything below
        self._repos: dict[str, _Repo] = {}  # lower-cased full name → repo
        self._comment_index: dict[int, tuple[str, int]] = {}  # comment id → (repo key, issue number)
        self._user_ids: dict[str, int] = {}
        self._next_id = 1000
        self._ticks = 0
        self._used: dict[str | None, int] = {}  # rate-limit bucket (token, or None) → requests used
        self._reset = int(time.time()) + 3600
        super().__init__(StandInServer(port, _Handler, self))  # `requests`: (method, path with query), for assertions

    # -- test-facing helpers (thread-safe; no permission checks) -------------------------------

    def add_repo(self, full_name: str) -> str:
        """Create a public repo `owner/name`; returns its full name. ValueError if malformed or taken."""
        owner, _, name = full_name.partition("/")
        if not (_NAME.fullmatch(owner) and _NAME.fullmatch(name)):
            raise ValueError(f"repository must look like owner/name, not {full_name!r}")
        with self._lock:
            if full_name.lower() in self._repos:
                raise ValueError(f"repository {full_name} already exists")
            self._repos[full_name.lower()] = _Repo(self._new_id(), owner, name)
        return full_name

    def add_issue(
        self, repo: str, number: int, title: str, is_pr: bool = False, *, user: str = "alice", body: str = ""
    ) -> None:
        """Open issue (or pull request, `is_pr`) #`number` in `repo`. ValueError if the number is taken."""
        with self._lock:
            found = self._repo(repo)
            if number < 1 or number in found.issues:
                raise ValueError(f"{repo}#{number} already exists or is not a valid number")
            found.issues[number] = _Issue(self._new_id(), number, title, is_pr, user, body, self._tick())

    def add_comment(self, repo: str, number: int, body: str, *, user: str = "alice", bot: bool = False) -> int:
        """A comment on issue/PR #`number` by `user` (a `Bot` when `bot`); returns its id."""
        with self._lock:
            return self._create_comment(self._repo(repo), self._issue(self._repo(repo), number), body, user, bot).id

    def comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        """The comments of issue/PR #`number` as the API shows them, oldest first."""
        with self._lock:
            found = self._repo(repo)
            issue = self._issue(found, number)
            return [self._comment_json(found, issue, c) for c in issue.comments]

    def check_runs(self, repo: str) -> list[dict[str, Any]]:
        """The check runs created in `repo`, oldest first, as the API shows them."""
        with self._lock:
            return [copy.deepcopy(run) for run in self._repo(repo).check_runs.values()]

    def request_count(self, method: str | None = None, path_prefix: str | None = None) -> int:
        """Requests logged with `method` (None: any) whose path (with query) starts with `path_prefix`."""
        return count_requests(self.recorded(), method, path_prefix)

    def rate_limit_remaining(self, token: str | None) -> int:
        """What `X-RateLimit-Remaining` would say now for `token` (None: anonymous)."""
        with self._lock:
            caller = self._caller(token)
            limit, used = self._bucket(caller)
            return max(limit - used, 0)

    # -- internals: state (call with the lock held) -------------------------------------------

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _tick(self) -> str:
        self._ticks += 1
        return (_EPOCH + timedelta(seconds=self._ticks)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _repo(self, full_name: str) -> _Repo:
        found = self._repos.get(full_name.lower())
        if found is None:
            raise _not_found()
        return found

    def _issue(self, repo: _Repo, number: int) -> _Issue:
        issue = repo.issues.get(number)
        if issue is None:
            raise _not_found()
        return issue

    def _create_comment(self, repo: _Repo, issue: _Issue, body: str, user: str, bot: bool) -> _Comment:
        now = self._tick()
        comment = _Comment(self._new_id(), user, bot, body, now, now)
        issue.comments.append(comment)
        self._comment_index[comment.id] = (repo.full_name.lower(), issue.number)
        return comment

    def _find_comment(self, repo: _Repo, comment_id: int) -> tuple[_Issue, _Comment]:
        where = self._comment_index.get(comment_id)
        if where is None or where[0] != repo.full_name.lower():
            raise _not_found()
        issue = repo.issues[where[1]]
        for comment in issue.comments:
            if comment.id == comment_id:
                return issue, comment
        raise _not_found()  # pragma: no cover - the index and the issues agree

    def _caller(self, token: str | None) -> _Caller:
        if token is None:
            return _Caller(None, None, True)
        info = self._tokens.get(token)
        return _Caller(token if info is not None else None, info, info is not None)

    def _bucket(self, caller: _Caller) -> tuple[int, int]:
        limit = caller.info.rate_limit if caller.info is not None else ANONYMOUS_LIMIT
        return limit, self._used.get(caller.token, 0)

    # -- internals: JSON the API answers with ---------------------------------------------------

    def _user_json(self, login: str, bot: bool = False, kind: str | None = None) -> dict[str, Any]:
        uid = self._user_ids.setdefault(login, 100 + len(self._user_ids))
        return {
            "login": login,
            "id": uid,
            "node_id": f"U_sim{uid}",
            "type": kind or ("Bot" if bot else "User"),
            "site_admin": False,
            "url": f"{self.url}/users/{login}",
            "html_url": f"{self.url}/{login}",
        }

    def _repo_json(self, repo: _Repo) -> dict[str, Any]:
        api = f"{self.url}/repos/{repo.full_name}"
        return {
            "id": repo.id,
            "node_id": f"R_sim{repo.id}",
            "name": repo.name,
            "full_name": repo.full_name,
            "private": False,
            "visibility": "public",
            "owner": self._user_json(repo.owner, kind="Organization"),
            "html_url": f"{self.url}/{repo.full_name}",
            "description": None,
            "fork": False,
            "url": api,
            "issues_url": f"{api}/issues{{/number}}",
            "issue_comment_url": f"{api}/issues/comments{{/number}}",
            "default_branch": "main",
            "has_issues": True,
            "archived": False,
            "disabled": False,
        }

    def _issue_json(self, repo: _Repo, issue: _Issue) -> dict[str, Any]:
        api = f"{self.url}/repos/{repo.full_name}"
        payload: dict[str, Any] = {
            "id": issue.id,
            "node_id": f"{'PR' if issue.is_pr else 'I'}_sim{issue.id}",
            "url": f"{api}/issues/{issue.number}",
            "repository_url": api,
            "comments_url": f"{api}/issues/{issue.number}/comments",
            "html_url": self._issue_html(repo, issue),
            "number": issue.number,
            "title": issue.title,
            "state": "open",
            "locked": False,
            "user": self._user_json(issue.user),
            "body": issue.body,
            "labels": [],
            "assignee": None,
            "assignees": [],
            "comments": len(issue.comments),
            "created_at": issue.created_at,
            "updated_at": issue.comments[-1].updated_at if issue.comments else issue.created_at,
            "closed_at": None,
            "author_association": "CONTRIBUTOR",
        }
        if issue.is_pr:
            payload["pull_request"] = {
                "url": f"{api}/pulls/{issue.number}",
                "html_url": self._issue_html(repo, issue),
                "diff_url": f"{self._issue_html(repo, issue)}.diff",
                "patch_url": f"{self._issue_html(repo, issue)}.patch",
                "merged_at": None,
            }
        return payload

    def _issue_html(self, repo: _Repo, issue: _Issue) -> str:
        return f"{self.url}/{repo.full_name}/{'pull' if issue.is_pr else 'issues'}/{issue.number}"

    def _comment_json(self, repo: _Repo, issue: _Issue, comment: _Comment) -> dict[str, Any]:
        api = f"{self.url}/repos/{repo.full_name}"
        return {
            "id": comment.id,
            "node_id": f"IC_sim{comment.id}",
            "url": f"{api}/issues/comments/{comment.id}",
            "html_url": f"{self._issue_html(repo, issue)}#issuecomment-{comment.id}",
            "issue_url": f"{api}/issues/{issue.number}",
            "body": comment.body,
            "user": self._user_json(comment.user, comment.bot),
            "created_at": comment.created_at,
            "updated_at": comment.updated_at,
            "author_association": "NONE" if comment.bot else "CONTRIBUTOR",
            "performed_via_github_app": {"slug": "github-actions", "name": "GitHub Actions"} if comment.bot else None,
        }

    def _rate_json(self, caller: _Caller) -> dict[str, Any]:
        limit, used = self._bucket(caller)
        core = {"limit": limit, "remaining": max(limit - used, 0), "reset": self._reset, "used": used}
        search = {"limit": 30, "remaining": 30, "reset": self._reset, "used": 0}
        return {
            "resources": {
                "core": {**core, "resource": "core"},
                "search": {**search, "resource": "search"},
                "graphql": {**core, "used": 0, "remaining": limit, "resource": "graphql"},
            },
            "rate": {**core, "resource": "core"},
        }

    # -- internals: answering -----------------------------------------------------------------

    def _answer(self, method: str, raw_path: str, token: str | None, body: bytes) -> _Reply:
        split = urlsplit(raw_path)
        parts = [unquote(p) for p in split.path.strip("/").split("/")]
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        with self._lock:
            self.record((method, raw_path))
            caller = self._caller(token)
            if parts != ["rate_limit"]:
                self._used[caller.token] = self._used.get(caller.token, 0) + 1
            try:
                if not caller.known:
                    raise _Failure(401, "Bad credentials")
                reply = self._route(method, parts, query, caller, body)
            except _Failure as failure:
                reply = _Reply(failure.status, failure.body())
            limit, used = self._bucket(caller)
            reply.headers += [
                ("X-RateLimit-Limit", str(limit)),
                ("X-RateLimit-Remaining", str(max(limit - used, 0))),
                ("X-RateLimit-Reset", str(self._reset)),
                ("X-RateLimit-Used", str(used)),
                ("X-RateLimit-Resource", "core"),
            ]
            return reply

    def _route(self, method: str, parts: list[str], query: dict[str, str], caller: _Caller, body: bytes) -> _Reply:
        get, post, patch = method == "GET", method == "POST", method == "PATCH"
        if parts == ["rate_limit"] and get:
            return _Reply(200, self._rate_json(caller))
        if parts == ["user"] and get:
            info = self._signed_in(caller)
            if info.installation:
                raise _Failure(403, "Resource not accessible by integration")
            return _Reply(200, {**self._user_json(info.login), "name": info.login})
        if len(parts) < 3 or parts[0] != "repos":
            raise _not_found()
        repo = self._repo(f"{parts[1]}/{parts[2]}")
        rest = parts[3:]
        if not rest and get:
            return _Reply(200, self._repo_json(repo))
        if rest[:1] == ["issues"] and len(rest) >= 2 and rest[1].isdigit():
            issue = self._issue(repo, int(rest[1]))
            if len(rest) == 2 and get:
                return _Reply(200, self._issue_json(repo, issue))
            if rest[2:] == ["comments"] and get:
                return self._list_comments(repo, issue, query)
            if rest[2:] == ["comments"] and post:
                info = self._writer(caller)
                text = self._body(body, "IssueComment")
                comment = self._create_comment(repo, issue, text, info.login, info.installation)
                location = f"{self.url}/repos/{repo.full_name}/issues/comments/{comment.id}"
                return _Reply(201, self._comment_json(repo, issue, comment), [("Location", location)])
        if rest[:2] == ["issues", "comments"] and len(rest) == 3 and rest[2].isdigit():
            issue, comment = self._find_comment(repo, int(rest[2]))
            if get:
                return _Reply(200, self._comment_json(repo, issue, comment))
            if patch:
                self._writer(caller)
                comment.body = self._body(body, "IssueComment")
                comment.updated_at = self._tick()
                return _Reply(200, self._comment_json(repo, issue, comment))
        if rest == ["check-runs"] and post:
            self._checks_writer(caller)
            return _Reply(201, self._create_check_run(repo, _json(body)))
        if rest[:1] == ["check-runs"] and len(rest) == 2 and rest[1].isdigit():
            run = repo.check_runs.get(int(rest[1]))
            if run is None:
                raise _not_found()
            if get:
                return _Reply(200, copy.deepcopy(run))
            if patch:
                self._checks_writer(caller)
                self._apply_check_run(run, _json(body), creating=False)
                return _Reply(200, copy.deepcopy(run))
        raise _not_found()

    def _signed_in(self, caller: _Caller) -> TokenInfo:
        if caller.info is None:
            raise _Failure(401, "Requires authentication")
        return caller.info

    def _writer(self, caller: _Caller) -> TokenInfo:
        info = self._signed_in(caller)
        if not info.can_write:
            kind = "integration" if info.installation else "personal access token"
            raise _Failure(403, f"Resource not accessible by {kind}")
        return info

    def _checks_writer(self, caller: _Caller) -> TokenInfo:
        info = self._signed_in(caller)
        if not info.can_create_check_runs:
            if info.installation:
                raise _Failure(403, "Resource not accessible by integration")
            raise _Failure(403, "You must authenticate via a GitHub App.")
        return info

    def _body(self, raw: bytes, resource: str) -> str:
        text = _json(raw).get("body")
        if not isinstance(text, str):
            raise _Failure(422, 'Invalid request.\n\n"body" wasn\'t supplied.')
        if len(text) > MAX_COMMENT:
            raise _too_long(resource, "body", MAX_COMMENT)
        return text

    def _list_comments(self, repo: _Repo, issue: _Issue, query: dict[str, str]) -> _Reply:
        try:
            per_page = min(max(int(query.get("per_page") or 30), 1), 100)
            page = max(int(query.get("page") or 1), 1)
        except ValueError:
            raise _Failure(400, "Invalid page or per_page") from None
        total = len(issue.comments)
        last = max((total + per_page - 1) // per_page, 1)
        chunk = issue.comments[(page - 1) * per_page : page * per_page]
        base = f"{self.url}/repos/{repo.full_name}/issues/{issue.number}/comments"
        extra = {k: v for k, v in query.items() if k not in ("page", "per_page")}

        def link(n: int, rel: str) -> str:
            return f'<{base}?{urlencode({**extra, "per_page": per_page, "page": n})}>; rel="{rel}"'

        links = []
        if page > 1:
            links += [link(page - 1, "prev"), link(1, "first")]
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        headers = [("Link", ", ".join(links))] if links else []
        return _Reply(200, [self._comment_json(repo, issue, c) for c in chunk], headers)

    def _create_check_run(self, repo: _Repo, payload: dict[str, Any]) -> dict[str, Any]:
        name, head_sha = payload.get("name"), payload.get("head_sha")
        if not isinstance(name, str) or not name or not isinstance(head_sha, str) or not head_sha:
            raise _Failure(422, "Invalid request.\n\nname and head_sha are required.")
        run_id = self._new_id()
        now = self._tick()
        run: dict[str, Any] = {
            "id": run_id,
            "node_id": f"CR_sim{run_id}",
            "url": f"{self.url}/repos/{repo.full_name}/check-runs/{run_id}",
            "html_url": f"{self.url}/{repo.full_name}/runs/{run_id}",
            "details_url": None,
            "external_id": "",
            "name": name,
            "head_sha": head_sha,
            "status": "queued",
            "conclusion": None,
            "started_at": now,
            "completed_at": None,
            "output": {"title": None, "summary": None, "text": None, "annotations_count": 0},
            "app": {"id": 15368, "slug": "github-actions", "name": "GitHub Actions"},
            "check_suite": {"id": run_id + 1},
            "pull_requests": [],
        }
        self._apply_check_run(run, payload, creating=True)
        repo.check_runs[run_id] = run
        return copy.deepcopy(run)

    def _apply_check_run(self, run: dict[str, Any], payload: dict[str, Any], *, creating: bool) -> None:
        status, conclusion = payload.get("status"), payload.get("conclusion")
        if status is not None and status not in STATUSES:
            raise _Failure(422, f"Invalid request.\n\nstatus {status!r} is not one of {list(STATUSES)}.")
        if conclusion is not None and conclusion not in CONCLUSIONS:
            raise _Failure(422, f"Invalid request.\n\nconclusion {conclusion!r} is not one of {list(CONCLUSIONS)}.")
        if status == "completed" and conclusion is None and run["conclusion"] is None:
            raise _Failure(422, "Invalid request.\n\nconclusion is required when status is completed.")
        output = payload.get("output")
        if output is not None:
            if not isinstance(output, dict) or (creating and not output.get("title")) or not output.get("summary"):
                raise _Failure(422, "Invalid request.\n\noutput needs a title and a summary.")
            for key in ("summary", "text"):
                if isinstance(output.get(key), str) and len(output[key]) > MAX_CHECK_TEXT:
                    raise _too_long("CheckRun", key, MAX_CHECK_TEXT)
            for key in ("title", "summary", "text"):
                if key in output:
                    run["output"][key] = output[key]
        for key in ("name", "details_url", "external_id", "started_at"):
            if key in payload and not (creating and key == "name"):
                run[key] = payload[key]
        if conclusion is not None:  # a conclusion completes the run (as on GitHub)
            run["conclusion"] = conclusion
            run["status"] = "completed"
            run["completed_at"] = payload.get("completed_at") or self._tick()
        elif status is not None:
            run["status"] = status


def _json(raw: bytes) -> dict[str, Any]:
    try:
        return json_object(raw)
    except ValueError:
        raise _Failure(400, "Problems parsing JSON") from None


class _Handler(StandInHandler[GitHubSim]):
    methods = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})

    def answer(self) -> None:
        auth = self.headers.get("Authorization", "").strip()
        token = parse_authorization(auth, ("token", "bearer")) or auth or None  # a malformed header: unknown, 401
        body = self.read_body()
        try:
            reply = self.owner._answer(self.command, self.path, token, body)
        except Exception as e:  # a bug in the stand-in: answer 500 and say so on stderr
            traceback.print_exc()
            reply = _Reply(500, {"message": f"GitHub stand-in error: {type(e).__name__}"})
        self.send_json(reply.status, reply.payload, reply.headers, "application/json; charset=utf-8")
