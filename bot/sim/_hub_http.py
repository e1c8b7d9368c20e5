"""The HTTP side of the Hub stand-in: server, handler, routing, replies, fault application.

Each request is logged, routed to a named route (the names faults use), run through the fault
plan, then answered from `HubState`. `drop_before` closes the connection without applying the
request; `drop_after` applies it, then closes without answering.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from bot.sim import _hub_benchmarks
from bot.sim._http import StandInHandler, StandInServer, json_object
from bot.sim._hub_files import HubFailure, git_blob_sha1, parse_commit_payload, validate_yaml
from bot.sim._hub_state import HubState, repo_key
from bot.sim._jobs import JobCaller, JobsSim
from bot.sim._ratelimit import RateLimiter
from bot.sim.faults import Fault, FaultPlan


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "application/json"


@dataclass
class _Request:
    method: str
    parts: list[str]  # path segments, each URL-decoded
    query: dict[str, str]
    body: bytes
    token: str | None
    base_url: str
    lists: dict[str, list[str]] = field(default_factory=dict)  # every value of repeated query keys

    def json(self) -> dict[str, Any]:
        try:
            return json_object(self.body)
        except ValueError as e:
            raise HubFailure(400, "BadRequest", str(e)) from None


_Action = Callable[[HubState, _Request], _Reply]


@dataclass
class HubBackend:
    """What the Hub's handlers answer from: the state, the fault plan, the request log, Jobs, limits."""

    state: HubState
    faults: FaultPlan
    record: Callable[[tuple[str, str]], None]
    jobs: JobsSim | None = None
    limiter: RateLimiter | None = None


def hub_server(port: int, backend: HubBackend) -> StandInServer[HubBackend]:
    """A threaded server on 127.0.0.1 answering from `backend`."""
    return StandInServer(port, _Handler, backend)


class _Handler(StandInHandler[HubBackend]):
    methods = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE"})

    def answer(self) -> None:
        hub = self.owner
        hub.record((self.command, self.path))
        body = self.read_body()
        split = urlsplit(self.path)
        parts = [unquote(p) for p in split.path.strip("/").split("/")]
        lists = parse_qs(split.query, keep_blank_values=True)
        query = {k: v[0] for k, v in lists.items()}
        token = self.authorization()
        limits: list[tuple[str, str]] = []
        if hub.limiter is not None:
            verdict = hub.limiter.take(f"token:{token}" if token else "anonymous", split.path)
            limits = verdict.headers
            if not verdict.allowed:
                failure = HubFailure(429, "RateLimited", "You have exceeded the rate limit; wait for the reset")
                reply = _error_reply(failure)
                reply.headers += limits
                self._send(reply)
                return
        route, action = _route(self.command, parts, hub.jobs)
        decision = hub.faults.decide(route, self.command)
        if decision.delay:
            time.sleep(decision.delay)
        fault = decision.fault
        if fault is not None and fault.kind == "drop_before":
            self.close_connection = True
            return
        if fault is not None and fault.status is not None:
            self._send(_fault_reply(fault))
            return
        request = _Request(self.command, parts, query, body, token, self.server.url, lists)
        reply = _run(hub.state, request, route, action)
        if fault is not None and fault.kind == "drop_after":
            self.close_connection = True
            return
        reply.headers += limits
        self._send(reply)

    def _send(self, reply: _Reply) -> None:
        self.send_body(reply.status, reply.body, reply.content_type, reply.headers)


def _run(state: HubState, request: _Request, route: str, action: _Action | None) -> _Reply:
    try:
        if action is None:
            raise HubFailure(404, "NotFound", f"no route for {request.method} /{'/'.join(request.parts)}")
        if route != "agent_harnesses":
            state.user_for(request.token)  # 401 for an unknown token, whatever the route
        return action(state, request)
    except HubFailure as failure:
        return _error_reply(failure)
    except Exception as e:  # a bug in the stand-in: answer 500 and say so on stderr
        traceback.print_exc()
        return _error_reply(HubFailure(500, "InternalError", f"hub stand-in error: {type(e).__name__}: {e}"))


def _json_reply(payload: object, status: int = 200, headers: list[tuple[str, str]] | None = None) -> _Reply:
    return _Reply(status, json.dumps(payload).encode(), headers or [])


def _error_reply(failure: HubFailure) -> _Reply:
    message = " ".join(failure.message.split()).encode("latin-1", "replace").decode("latin-1")
    headers = [("X-Error-Code", failure.code), ("X-Error-Message", message)]
    if failure.commit is not None:
        headers.append(("X-Repo-Commit", failure.commit))
    return _json_reply(failure.body, failure.status, headers)


def _fault_reply(fault: Fault) -> _Reply:
    status = HTTPStatus(fault.status or 500)
    failure = HubFailure(status.value, "InjectedFault", f"{status.value} {status.phrase} (injected fault)")
    reply = _error_reply(failure)
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        reply.headers.append(("Retry-After", str(fault.retry_after)))
    return reply


# -- routes --------------------------------------------------------------------------------------


def _route(method: str, parts: list[str], jobs: JobsSim | None = None) -> tuple[str, _Action | None]:
    """The route name (for faults) and its action; ("not_found", None) when nothing matches."""
    if len(parts) >= 3 and parts[:2] == ["api", "jobs"] and jobs is not None:
        return _jobs_route(jobs, method, parts[2:])
    if parts == ["api", "agent-harnesses"]:
        return "agent_harnesses", None
    if parts == ["api", "whoami-v2"] and method == "GET":
        return "whoami", lambda s, r: _json_reply(s.whoami(s.user_for(r.token)))
    if parts == ["api", "validate-yaml"] and method == "POST":
        return "validate_yaml", _validate_yaml_route
    if len(parts) == 4 and parts[:2] == ["api", "organizations"] and parts[3] == "members" and method == "GET":
        org = parts[2]
        return "org_members", lambda s, r: _json_reply(s.org_members(org))
    if parts == ["api", "models"] and method == "GET":
        return "list_models", _list_models
    if len(parts) >= 4 and parts[:2] == ["api", "models"]:
        return _repo_api_route(method, f"{parts[2]}/{parts[3]}", parts[4:])
    if parts == ["api", "datasets"] and method == "GET":
        return "list_datasets", _list_datasets
    if len(parts) == 5 and parts[:2] == ["api", "datasets"] and parts[4] == "leaderboard" and method == "GET":
        dataset_id = f"{parts[2]}/{parts[3]}"
        return "leaderboard", lambda s, r: _json_reply(
            _hub_benchmarks.leaderboard(s, dataset_id, base_model_only=r.query.get("base_model", "").lower() != "false")
        )
    if len(parts) >= 4 and parts[:2] == ["api", "datasets"]:
        return _repo_api_route(method, repo_key(f"{parts[2]}/{parts[3]}", "dataset"), parts[4:])
    if len(parts) >= 6 and parts[0] == "datasets" and parts[3] == "resolve" and method in ("GET", "HEAD"):
        key, rev, path = repo_key(f"{parts[1]}/{parts[2]}", "dataset"), parts[4], "/".join(parts[5:])
        return "resolve", lambda s, r: _resolve(s, r, key, rev, path)
    if len(parts) >= 5 and parts[2] == "resolve" and method in ("GET", "HEAD"):
        repo_id, rev, path = f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:])
        return "resolve", lambda s, r: _resolve(s, r, repo_id, rev, path)
    return "not_found", None


def _repo_api_route(method: str, repo_id: str, rest: list[str]) -> tuple[str, _Action | None]:
    get, post = method == "GET", method == "POST"
    if get and (not rest or (rest[0] == "revision" and len(rest) >= 2)):
        rev = "/".join(rest[1:]) or "main"
        return "model_info", lambda s, r: _json_reply(s.model_info(repo_id, rev, s.user_for(r.token)))
    if get and rest[:1] == ["tree"] and len(rest) >= 2:
        # /tree/<rev>[/<path>]; a quoted refs/pr/N arrives split into three segments
        width = 3 if rest[1] == "refs" else 1
        rev, prefix = "/".join(rest[1 : 1 + width]), "/".join(rest[1 + width :])
        return "tree", lambda s, r: _json_reply(
            s.tree(repo_id, rev, prefix, _flag(r, "recursive"), s.user_for(r.token))
        )
    if get and rest == ["refs"]:
        return "refs", lambda s, r: _json_reply(s.refs(repo_id, _flag(r, "include_prs"), s.user_for(r.token)))
    if rest[:1] == ["preupload"] and len(rest) >= 2 and post:
        rev = "/".join(rest[1:])
        return "preupload", lambda s, r: _preupload(s, r, repo_id, rev)
    if rest[:1] == ["commit"] and len(rest) >= 2 and post:
        rev = "/".join(rest[1:])
        return "commit", lambda s, r: _commit(s, r, repo_id, rev)
    if rest == ["discussions"]:
        if get:
            return "discussions", lambda s, r: _list_discussions(s, r, repo_id)
        if post:
            return "create_discussion", lambda s, r: _create_discussion(s, r, repo_id)
    if len(rest) >= 2 and rest[0] == "discussions" and rest[1].isdigit():
        num = int(rest[1])
        if get and len(rest) == 2:
            return "discussion_details", lambda s, r: _json_reply(
                s.discussion_details(repo_id, num, s.user_for(r.token), diff=r.query.get("diff") == "1")
            )
        if post and len(rest) == 5 and rest[2] == "comment" and rest[4] == "edit":
            comment_id = rest[3]
            return "edit_comment", lambda s, r: _json_reply(
                {"updatedComment": s.edit_comment(repo_id, num, comment_id, _content(r), s.user_for(r.token))}
            )
        if post and len(rest) == 3 and rest[2] in ("comment", "status", "title", "merge"):
            return rest[2], lambda s, r: _discussion_change(s, r, repo_id, num, rest[2])
    return "not_found", None


def _jobs_route(jobs: JobsSim, method: str, rest: list[str]) -> tuple[str, _Action | None]:
    """`/api/jobs/...` goes to the Jobs stand-in (`bot.sim._jobs`), acting as the token's user."""
    name, handler = jobs.route(method, rest)
    if handler is None:
        return name, None
    run = handler

    def action(state: HubState, request: _Request) -> _Reply:
        me = state.whoami(state.user_for(request.token))  # 401 without a valid token
        with state.lock:
            admin = me["name"] in state.admins
        answer = run(JobCaller(str(me["name"]), str(me["id"]), admin), request)
        return _Reply(answer.status, answer.body, [], answer.content_type)

    return name, action


def _list_datasets(state: HubState, request: _Request) -> _Reply:
    cursor = _query_int(request, "cursor", "cursor")
    filters = request.lists.get("filter", [])
    items, following = _hub_benchmarks.list_datasets(
        state, filters, cursor, request.base_url, state.user_for(request.token)
    )
    return _json_reply(items, headers=[("Link", f'<{following}>; rel="next"')] if following else [])


def _list_models(state: HubState, request: _Request) -> _Reply:
    cursor = _query_int(request, "cursor", "cursor")
    author, expand = request.query.get("author"), request.lists.get("expand", [])
    items, following = state.list_models(author, state.user_for(request.token), expand=expand, cursor=cursor)
    if following is None:
        return _json_reply(items)
    query = [("author", author)] if author else []
    query += [("expand", e) for e in expand] + [("cursor", str(following))]
    return _json_reply(items, headers=[("Link", f'<{request.base_url}/api/models?{urlencode(query)}>; rel="next"')])


def _validate_yaml_route(state: HubState, request: _Request) -> _Reply:
    body = request.json()
    content = body.get("content")
    if not isinstance(content, str):
        raise HubFailure(400, "BadRequest", "content must be a string")
    return _json_reply(validate_yaml(content))


def _resolve(state: HubState, request: _Request, repo_id: str, rev: str, path: str) -> _Reply:
    oid, data = state.resolve(repo_id, rev, path, state.user_for(request.token))
    headers = [("ETag", f'"{git_blob_sha1(data)}"'), ("X-Repo-Commit", oid), ("Accept-Ranges", "bytes")]
    return _Reply(200, data, headers, "text/plain; charset=utf-8")


def _preupload(state: HubState, request: _Request, repo_id: str, rev: str) -> _Reply:
    files = request.json().get("files")
    if not isinstance(files, list) or not all(isinstance(f, dict) and isinstance(f.get("path"), str) for f in files):
        raise HubFailure(400, "BadRequest", "files must be a list of {path, sample, size}")
    paths = [str(f["path"]) for f in files]
    user = state.user_for(request.token)
    return _json_reply(state.preupload(repo_id, rev, paths, user, create_pr=_flag(request, "create_pr")))


def _commit(state: HubState, request: _Request, repo_id: str, rev: str) -> _Reply:
    header, ops = parse_commit_payload(request.body)
    user = state.user_for(request.token)
    oid, num = state.commit(repo_id, rev, header, ops, user, create_pr=_flag(request, "create_pr"))
    payload: dict[str, Any] = {
        "success": True,
        "commitOid": oid,
        "commitUrl": f"{request.base_url}/{repo_id}/commit/{oid}",
        "hookOutput": "",
    }
    if num is not None:
        payload["pullRequestUrl"] = f"{request.base_url}/{repo_id}/discussions/{num}"
    return _json_reply(payload)


def _list_discussions(state: HubState, request: _Request, repo_id: str) -> _Reply:
    q = request.query
    page = _query_int(request, "p", "page")
    return _json_reply(
        state.list_discussions(
            repo_id,
            state.user_for(request.token),
            page=page,
            kind=q.get("type") or "all",
            status=q.get("status") or "all",
            author=q.get("author") or None,
        )
    )


def _create_discussion(state: HubState, request: _Request, repo_id: str) -> _Reply:
    body = request.json()
    title, description = body.get("title"), body.get("description") or ""
    if not isinstance(title, str) or not isinstance(description, str):
        raise HubFailure(400, "BadRequest", "title and description must be strings")
    user = state.user_for(request.token)
    num = state.create_discussion(repo_id, title, description, user, pull_request=bool(body.get("pullRequest")))
    return _json_reply({"num": num, "url": f"{request.base_url}/{repo_id}/discussions/{num}"})


def _discussion_change(state: HubState, request: _Request, repo_id: str, num: int, what: str) -> _Reply:
    body = request.json()
    user = state.user_for(request.token)
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise HubFailure(400, "BadRequest", "comment must be a string")
    if what == "comment":
        return _json_reply({"newMessage": state.comment(repo_id, num, comment or "", user)})
    if what == "status":
        status = body.get("status")
        return _json_reply({"newStatus": state.change_status(repo_id, num, str(status), comment, user)})
    if what == "title":
        return _json_reply({"newTitle": state.rename(repo_id, num, str(body.get("title") or ""), user)})
    return _json_reply({"newStatus": state.merge(repo_id, num, comment, user)})


def _content(request: _Request) -> str:
    content = request.json().get("content")
    if not isinstance(content, str):
        raise HubFailure(400, "BadRequest", "content must be a string")
    return content


def _query_int(request: _Request, name: str, what: str) -> int:
    """The query's `name` as an integer, 0 when absent; a 400 `invalid <what> '<value>'` otherwise."""
    try:
        return int(request.query.get(name) or 0)
    except ValueError:
        raise HubFailure(400, "BadRequest", f"invalid {what} {request.query.get(name)!r}") from None


def _flag(request: _Request, name: str) -> bool:
    return request.query.get(name, "") in ("1", "true", "True")
