"""The in-memory model behind the Hub stand-in: repos, commits, PR refs, discussions, users.

Pure Python, no HTTP: every operation takes the acting user (None for anonymous) and either
returns the JSON the Hub would send or raises `HubFailure` (status, `X-Error-Code`, message).
One re-entrant lock guards all state; every public method takes it.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.sim._hub_files import (
    HubFailure,
    Op,
    apply_ops,
    changed_paths,
    front_matter,
    git_blob_sha1,
    tree_sha1,
    unified_diff,
)

MAIN = "main"
MAIN_REF = "refs/heads/main"
_PR_REF = re.compile(r"refs/pr/([1-9][0-9]*)")
_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Commit:
    oid: str
    parent: str | None
    files: Mapping[str, bytes]  # the full snapshot; never mutated
    summary: str
    description: str
    author: str
    created_at: str


@dataclass
class Event:
    id: str
    type: str  # comment | status-change | commit | title-change
    created_at: str
    author: str
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "createdAt": self.created_at,
            "author": _user_json(self.author),
            "data": self.data,
        }


@dataclass
class Discussion:
    num: int
    title: str
    author: str
    is_pr: bool
    status: str  # open | closed | merged | draft
    created_at: str
    events: list[Event] = field(default_factory=list)
    base: str | None = None  # PRs: main's head when the PR branched
    head: str | None = None  # PRs: head of refs/pr/N
    merge_commit: str | None = None
    pinned: bool = False

    @property
    def description(self) -> str:
        """The first comment's text, as on the Hub."""
        return next((str(e.data["latest"]["raw"]) for e in self.events if e.type == "comment"), "")

    @property
    def ref(self) -> str | None:
        return f"refs/pr/{self.num}" if self.is_pr else None

    def comments(self) -> list[tuple[str, str]]:
        """(author, text) of every comment after the first one (the description)."""
        found = [(e.author, str(e.data["latest"]["raw"])) for e in self.events if e.type == "comment"]
        return found[1:]


@dataclass
class Repo:
    repo_id: str
    private: bool
    gated: bool
    writers: set[str]
    readers: set[str]
    created_at: str
    commits: dict[str, Commit]
    main: str
    discussions: dict[int, Discussion] = field(default_factory=dict)
    repo_type: str = "model"  # model | dataset; non-model repos are keyed `datasets/<id>` (see `repo_key`)

    @property
    def owner(self) -> str:
        return self.repo_id.split("/", 1)[0]

    @property
    def next_num(self) -> int:
        return max(self.discussions, default=0) + 1


@dataclass(frozen=True)
class SimDiscussion:
    """A plain snapshot of a discussion or PR, for test assertions."""

    num: int
    title: str
    status: str
    is_pr: bool
    author: str
    description: str
    comments: list[tuple[str, str]]  # (author, text), the description excluded
    ref: str | None  # refs/pr/N for PRs
    head: str | None  # the PR head commit
    base: str | None  # main's head when the PR branched
    merge_commit: str | None


class HubState:
    """Everything the stand-in knows, behind one lock."""

    def __init__(self, users: Mapping[str, str], admins: Iterable[str] = (), page_size: int = 50) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.orgs: dict[str, set[str]] = {}  # org → member user names
        self.lock = threading.RLock()
        self.users = dict(users)
        self.admins = set(admins)
        self.page_size = page_size
        self.repos: dict[str, Repo] = {}
        self.benchmarks: set[str] = set()  # allow-listed benchmark datasets (see bot.sim._hub_benchmarks)
        self.dataset_page_size = 1000
        self.model_page_size = 1000  # the Hub's model listing pages (`Link: rel="next"`)
        self._ticks = 0
        self._serial = 0

    # -- identity and permissions -------------------------------------------------------------

    def user_for(self, token: str | None) -> str | None:
        """The user a bearer token belongs to; None when no token; 401 for an unknown token."""
        if token is None:
            return None
        with self.lock:
            user = self.users.get(token)
        if user is None:
            raise HubFailure(401, "Unauthorized", "Invalid credentials in Authorization header")
        return user

    def org_members(self, org: str) -> list[dict[str, Any]]:
        """`GET /api/organizations/{org}/members` (public membership, as the Hub shows it)."""
        with self.lock:
            members = self.orgs.get(org)
            if members is None:
                raise HubFailure(404, "RepoNotFound", f"Organization {org} not found")
            return [{"user": name, "fullname": name, "type": "user"} for name in sorted(members)]

    def whoami(self, user: str | None) -> dict[str, Any]:
        user = _need_user(user)
        return {
            "type": "user",
            "id": hashlib.sha1(user.encode(), usedforsecurity=False).hexdigest()[:24],
            "name": user,
            "fullname": user,
            "orgs": [{"name": org} for org, members in sorted(self.orgs.items()) if user in members],
            "auth": {"type": "access_token", "accessToken": {"displayName": f"{user}-token", "role": "write"}},
        }

    def _repo(self, repo_id: str, user: str | None) -> Repo:
        repo = self.repos.get(repo_id)
        if repo is None or (repo.private and not self._member(repo, user)):
            raise HubFailure(404, "RepoNotFound", f"Repository not found: {repo_id}")
        return repo

    def _member(self, repo: Repo, user: str | None) -> bool:
        return user is not None and (user in repo.readers or self._can_write(repo, user))

    def _can_write(self, repo: Repo, user: str | None) -> bool:
        return user is not None and (
            user == repo.owner or user in repo.writers or user in self.admins or user in self.orgs.get(repo.owner, ())
        )

    def _gate(self, repo: Repo, user: str | None) -> None:
        if repo.gated and not self._member(repo, user):
            status = 401 if user is None else 403
            raise HubFailure(status, "GatedRepo", f"Access to model {repo.repo_id} is restricted.")

    def _oid(self, repo: Repo, rev: str) -> str:
        if rev in (MAIN, MAIN_REF):
            return repo.main
        match = _PR_REF.fullmatch(rev)
        if match:
            pr = repo.discussions.get(int(match[1]))
            if pr is not None and pr.is_pr and pr.head is not None:
                return pr.head
        elif rev in repo.commits:
            return rev
        raise HubFailure(404, "RevisionNotFound", f"Invalid rev id: {rev}")

    def _tick(self) -> str:
        self._ticks += 1
        return (_EPOCH + timedelta(seconds=self._ticks)).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def _event(self, kind: str, author: str, data: dict[str, Any]) -> Event:
        self._serial += 1
        return Event(f"{self._serial:024x}", kind, self._tick(), author, data)

    def _comment(self, author: str, text: str) -> Event:
        stamp = self._tick()
        event = self._event("comment", author, {})
        event.data.update(
            edited=False, hidden=False, latest={"raw": text, "html": _html(text), "updatedAt": stamp, "author": author}
        )
        return event

    def _discussion(self, repo_id: str, num: int, user: str | None) -> tuple[Repo, Discussion]:
        repo = self._repo(repo_id, user)
        found = repo.discussions.get(num)
        if found is None:
            raise HubFailure(404, "DiscussionNotFound", f"Discussion #{num} not found on {repo_id}")
        return repo, found

    # -- reads ---------------------------------------------------------------------------------

    def list_models(
        self, author: str | None, user: str | None, *, expand: Iterable[str] = (), cursor: int = 0
    ) -> tuple[list[dict[str, Any]], int | None]:
        """`GET /api/models?author=&expand=...`: one page of the repos `user` can see, by id, and the
        cursor of the next page (None on the last). Without `expand`: id, author, private; with it,
        `_id`, `id` and exactly the expanded fields, as `model_info` at main has them."""
        wanted = tuple(expand)
        with self.lock:
            repos = [
                (repo_id, repo)
                for repo_id, repo in sorted(self.repos.items())
                if repo.repo_type == "model"
                and (author is None or repo.owner == author)
                and (not repo.private or self._member(repo, user))
            ]
            page = repos[cursor : cursor + self.model_page_size]
            items = []
            for repo_id, repo in page:
                if not wanted:
                    summary = {"_id": repo_id, "id": repo_id, "modelId": repo_id, "author": repo.owner}
                    items.append(summary | {"private": repo.private})
                    continue
                info = self.model_info(repo_id, MAIN, user)
                items.append({"_id": info["_id"], "id": repo_id} | {k: info[k] for k in wanted if k in info})
        following = cursor + self.model_page_size if cursor + self.model_page_size < len(repos) else None
        return items, following

    def model_info(self, repo_id: str, rev: str, user: str | None) -> dict[str, Any]:
        with self.lock:
            repo = self._repo(repo_id, user)
            commit = repo.commits[self._oid(repo, rev)]
            info: dict[str, Any] = {
                "_id": repo.commits[_first_oid(repo)].oid[:24],
                "id": repo_id,
                "modelId": repo_id,
                "author": repo.owner,
                "sha": commit.oid,
                "lastModified": commit.created_at,
                "createdAt": repo.created_at,
                "private": repo.private,
                "gated": "auto" if repo.gated else False,
                "disabled": False,
                "downloads": 0,
                "likes": 0,
                "tags": [],
                "siblings": [
                    {"rfilename": p, "size": len(d), "blobId": git_blob_sha1(d)}
                    for p, d in sorted(commit.files.items())
                ],
            }
            card = front_matter(commit.files.get("README.md", b""))
            if isinstance(card, dict):
                info["cardData"] = card
            return info

    def resolve(self, repo_id: str, rev: str, path: str, user: str | None) -> tuple[str, bytes]:
        with self.lock:
            repo = self._repo(repo_id, user)
            oid = self._oid(repo, rev)
            self._gate(repo, user)
            data = repo.commits[oid].files.get(path)
            if data is None:
                raise HubFailure(404, "EntryNotFound", f"{path} does not exist on {rev}", commit=oid)
            return oid, data

    def tree(self, repo_id: str, rev: str, prefix: str, recursive: bool, user: str | None) -> list[dict[str, Any]]:
        """`list_repo_tree`: files (and folders) under `prefix` at `rev`, as the Hub lists them."""
        with self.lock:
            repo = self._repo(repo_id, user)
            files = repo.commits[self._oid(repo, rev)].files
            base = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
            entries: dict[str, dict[str, Any]] = {}
            for path, data in sorted(files.items()):
                if not path.startswith(base):
                    continue
                rest = path[len(base) :]
                if "/" in rest and not recursive:
                    folder = base + rest.split("/", 1)[0]
                    entries.setdefault(folder, {"type": "directory", "path": folder, "oid": tree_sha1({})})
                    continue
                if recursive:
                    parts = rest.split("/")[:-1]
                    for depth in range(1, len(parts) + 1):
                        folder = base + "/".join(parts[:depth])
                        entries.setdefault(folder, {"type": "directory", "path": folder, "oid": tree_sha1({})})
                entries[path] = {"type": "file", "path": path, "size": len(data), "oid": git_blob_sha1(data)}
            return [entries[k] for k in sorted(entries)]

    def refs(self, repo_id: str, include_prs: bool, user: str | None) -> dict[str, Any]:
        with self.lock:
            repo = self._repo(repo_id, user)
            out: dict[str, Any] = {
                "branches": [{"name": MAIN, "ref": MAIN_REF, "targetCommit": repo.main}],
                "converts": [],
                "tags": [],
            }
            if include_prs:
                out["pullRequests"] = [
                    {"name": f"pr/{d.num}", "ref": d.ref, "targetCommit": d.head}
                    for d in sorted(repo.discussions.values(), key=lambda d: d.num)
                    if d.is_pr
                ]
            return out

    def list_discussions(
        self, repo_id: str, user: str | None, *, page: int, kind: str, status: str, author: str | None
    ) -> dict[str, Any]:
        if kind not in ("all", "discussion", "pull_request"):
            raise HubFailure(400, "BadRequest", f"invalid type {kind!r}")
        if status not in ("all", "open", "closed"):
            raise HubFailure(400, "BadRequest", f"invalid status {status!r}")
        if page < 0:
            raise HubFailure(400, "BadRequest", f"invalid page {page}")
        with self.lock:
            repo = self._repo(repo_id, user)
            wanted = [
                d
                for d in sorted(repo.discussions.values(), key=lambda d: -d.num)  # newest first
                if (kind == "all" or d.is_pr == (kind == "pull_request"))
                and (status == "all" or _status_class(d.status) == status)
                and (author is None or d.author == author)
            ]
            start = page * self.page_size
            return {
                "discussions": [self._summary(repo, d) for d in wanted[start : start + self.page_size]],
                "count": len(wanted),
                "start": start,
                "numClosedDiscussions": sum(1 for d in wanted if _status_class(d.status) == "closed"),
            }

    def _summary(self, repo: Repo, d: Discussion) -> dict[str, Any]:
        return {
            "num": d.num,
            "title": d.title,
            "status": d.status,
            "isPullRequest": d.is_pr,
            "createdAt": d.created_at,
            "author": _user_json(d.author),
            "repo": {"name": repo.repo_id, "type": "model"},
            "numComments": sum(1 for e in d.events if e.type == "comment"),
            "pinned": d.pinned,
            "topReactions": [],
        }

    def discussion_details(self, repo_id: str, num: int, user: str | None, *, diff: bool) -> dict[str, Any]:
        with self.lock:
            repo, d = self._discussion(repo_id, num, user)
            out = self._summary(repo, d) | {"events": [e.to_json() for e in d.events], "locked": False}
            if d.is_pr:
                assert d.base is not None and d.head is not None
                base, head = repo.commits[d.base].files, repo.commits[d.head].files
                changes: dict[str, Any] = {"base": MAIN_REF}
                if d.merge_commit is not None:
                    changes["mergeCommitId"] = d.merge_commit
                out["changes"] = changes
                out["filesWithConflicts"] = self._conflicts(repo, d) if d.status in ("open", "draft") else []
                if diff:
                    out["diff"] = unified_diff(base, head)
            return out

    def _conflicts(self, repo: Repo, d: Discussion) -> list[str]:
        assert d.base is not None and d.head is not None
        base = repo.commits[d.base].files
        ours = changed_paths(base, repo.commits[d.head].files)
        theirs = changed_paths(base, repo.commits[repo.main].files)
        return sorted(ours & theirs)

    def preupload(
        self, repo_id: str, rev: str, paths: list[str], user: str | None, *, create_pr: bool
    ) -> dict[str, Any]:
        with self.lock:
            repo = self._repo(repo_id, user)
            files = repo.commits[self._oid(repo, rev)].files
            self._gate(repo, user)
            return {
                "files": [
                    {
                        "path": path,
                        "uploadMode": "regular",
                        "shouldIgnore": False,
                        "oid": git_blob_sha1(files[path]) if path in files else None,
                    }
                    for path in paths
                ]
            }

    # -- writes --------------------------------------------------------------------------------

    def commit(
        self, repo_id: str, rev: str, header: dict[str, Any], ops: list[Op], user: str | None, *, create_pr: bool
    ) -> tuple[str, int | None]:
        """Apply a commit; returns (commit oid, PR number when `rev` is or `create_pr` made a PR)."""
        summary = str(header.get("summary") or "").strip()
        description = str(header.get("description") or "")
        parent = header.get("parentCommit")
        if not summary:
            raise HubFailure(400, "BadRequest", "commit summary is required")
        with self.lock:
            author = _need_user(user)
            repo = self._repo(repo_id, author)
            self._gate(repo, author)
            if create_pr:
                base = self._oid(repo, rev)
                _check_parent(parent, base, rev)
                files = apply_ops(repo.commits[base].files, ops)
                new = Discussion(repo.next_num, summary, author, True, "open", self._tick(), base=base, head=base)
                new.events.append(self._comment(author, description))
                repo.discussions[new.num] = new
                return self._commit_to_pr(repo, new, files, summary, description, author), new.num
            match = _PR_REF.fullmatch(rev)
            if match:
                pr = repo.discussions.get(int(match[1]))
                if pr is None or not pr.is_pr or pr.head is None:
                    raise HubFailure(404, "RevisionNotFound", f"Invalid rev id: {rev}")
                if pr.status not in ("open", "draft"):
                    raise HubFailure(403, "Forbidden", f"Pull request #{pr.num} is {pr.status}; it accepts no commits")
                if author != pr.author and not self._can_write(repo, author):
                    raise HubFailure(403, "Forbidden", f"Only the author of #{pr.num} or a maintainer can push to it")
                _check_parent(parent, pr.head, rev)
                files = apply_ops(repo.commits[pr.head].files, ops)
                return self._commit_to_pr(repo, pr, files, summary, description, author), pr.num
            if rev not in (MAIN, MAIN_REF):
                self._oid(repo, rev)  # 404 for an unknown revision
                raise HubFailure(400, "BadRequest", f"Cannot commit to {rev}: not a branch or a PR ref")
            if not self._can_write(repo, author):
                raise HubFailure(
                    403,
                    "Forbidden",
                    f"You don't have the rights to create a commit on main of {repo_id}; "
                    "open a pull request instead (create_pr=True)",
                )
            _check_parent(parent, repo.main, rev)
            files = apply_ops(repo.commits[repo.main].files, ops)
            repo.main = self._new_commit(repo, repo.main, files, summary, description, author)
            return repo.main, None

    def _commit_to_pr(
        self, repo: Repo, pr: Discussion, files: dict[str, bytes], summary: str, description: str, author: str
    ) -> str:
        pr.head = self._new_commit(repo, pr.head, files, summary, description, author)
        pr.events.append(self._event("commit", author, {"subject": summary, "oid": pr.head}))
        return pr.head

    def _new_commit(
        self, repo: Repo, parent: str | None, files: Mapping[str, bytes], summary: str, description: str, author: str
    ) -> str:
        self._serial += 1
        seed = json.dumps([repo.repo_id, parent, tree_sha1(files), summary, description, author, self._serial])
        oid = hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()
        repo.commits[oid] = Commit(oid, parent, dict(files), summary, description, author, self._tick())
        return oid

    def create_discussion(
        self, repo_id: str, title: str, description: str, user: str | None, *, pull_request: bool
    ) -> int:
        title = title.strip()
        if not title:
            raise HubFailure(400, "BadRequest", "title is required")
        with self.lock:
            author = _need_user(user)
            repo = self._repo(repo_id, author)
            status = "draft" if pull_request else "open"
            base = repo.main if pull_request else None
            d = Discussion(repo.next_num, title, author, pull_request, status, self._tick(), base=base, head=base)
            d.events.append(self._comment(author, description))
            repo.discussions[d.num] = d
            return d.num

    def comment(self, repo_id: str, num: int, text: str, user: str | None) -> dict[str, Any]:
        if not text.strip():
            raise HubFailure(400, "BadRequest", "comment is empty")
        with self.lock:
            author = _need_user(user)
            _, d = self._discussion(repo_id, num, author)
            event = self._comment(author, text)
            d.events.append(event)
            return event.to_json()

    def edit_comment(self, repo_id: str, num: int, comment_id: str, text: str, user: str | None) -> dict[str, Any]:
        """`edit_discussion_comment`: only the comment's author may edit it (the first one is the description)."""
        if not text.strip():
            raise HubFailure(400, "BadRequest", "comment is empty")
        with self.lock:
            author = _need_user(user)
            _, d = self._discussion(repo_id, num, author)
            event = next((e for e in d.events if e.id == comment_id and e.type == "comment"), None)
            if event is None:
                raise HubFailure(404, "NotFound", f"comment {comment_id} not found on #{num}")
            if event.author != author:
                raise HubFailure(403, "Forbidden", f"only {event.author} can edit comment {comment_id}")
            event.data.update(
                edited=True, latest={"raw": text, "html": _html(text), "updatedAt": self._tick(), "author": author}
            )
            return event.to_json()

    def change_status(
        self, repo_id: str, num: int, status: str, comment: str | None, user: str | None
    ) -> dict[str, Any]:
        if status not in ("open", "closed"):
            raise HubFailure(400, "BadRequest", f"status must be open or closed, not {status!r}")
        with self.lock:
            author = _need_user(user)
            repo, d = self._discussion(repo_id, num, author)
            if author != d.author and not self._can_write(repo, author):
                raise HubFailure(403, "Forbidden", f"Only the author of #{num} or a maintainer can change its status")
            if d.status == "merged":
                raise HubFailure(400, "BadRequest", f"#{num} is merged; its status cannot change")
            if comment and comment.strip():
                d.events.append(self._comment(author, comment))
            d.status = status
            event = self._event("status-change", author, {"status": status})
            d.events.append(event)
            return event.to_json()

    def rename(self, repo_id: str, num: int, title: str, user: str | None) -> dict[str, Any]:
        title = title.strip()
        if not title:
            raise HubFailure(400, "BadRequest", "title is required")
        with self.lock:
            author = _need_user(user)
            repo, d = self._discussion(repo_id, num, author)
            if author != d.author and not self._can_write(repo, author):
                raise HubFailure(403, "Forbidden", f"Only the author of #{num} or a maintainer can rename it")
            event = self._event("title-change", author, {"from": d.title, "to": title})
            d.title = title
            d.events.append(event)
            return event.to_json()

    def merge(self, repo_id: str, num: int, comment: str | None, user: str | None) -> dict[str, Any]:
        with self.lock:
            author = _need_user(user)
            repo, d = self._discussion(repo_id, num, author)
            if not self._can_write(repo, author):
                raise HubFailure(403, "Forbidden", f"Only maintainers of {repo_id} can merge pull requests")
            if not d.is_pr or d.status != "open" or d.base is None or d.head is None:
                raise HubFailure(400, "BadRequest", f"#{num} is not an open pull request (it is {d.status})")
            conflicts = self._conflicts(repo, d)
            if conflicts:
                raise HubFailure(409, "MergeConflict", f"#{num} conflicts with main in: {', '.join(conflicts)}")
            files = dict(repo.commits[repo.main].files)
            base, head = repo.commits[d.base].files, repo.commits[d.head].files
            for path in changed_paths(base, head):
                if path in head:
                    files[path] = head[path]
                else:
                    files.pop(path, None)
            repo.main = self._new_commit(repo, repo.main, files, d.title, d.description, author)
            d.merge_commit = repo.main
            if comment and comment.strip():
                d.events.append(self._comment(author, comment))
            d.status = "merged"
            event = self._event("status-change", author, {"status": "merged"})
            d.events.append(event)
            return event.to_json()

    # -- test helpers (no permission checks) -------------------------------------------------

    def add_repo(
        self,
        repo_id: str,
        files: Mapping[str, bytes],
        *,
        private: bool,
        gated: bool,
        writers: Iterable[str],
        readers: Iterable[str],
        repo_type: str = "model",
    ) -> str:
        if repo_id.count("/") != 1 or not all(repo_id.split("/")):
            raise ValueError(f"repo id must be 'namespace/name', got {repo_id!r}")
        key = repo_key(repo_id, repo_type)
        with self.lock:
            if key in self.repos:
                raise ValueError(f"repo {key} already exists")
            oid = tree_sha1(files)
            stamp = self._tick()
            first = Commit(oid, None, dict(files), "initial commit", "", repo_id.split("/")[0], stamp)
            self.repos[key] = Repo(
                repo_id, private, gated, set(writers), set(readers), stamp, {oid: first}, oid, repo_type=repo_type
            )
            return oid

    def push(self, repo_id: str, files: Mapping[str, bytes], summary: str, author: str, delete: Iterable[str]) -> str:
        with self.lock:
            repo = self._existing(repo_id)
            ops = [Op("file", p, d) for p, d in files.items()] + [Op("delete", p) for p in delete]
            repo.main = self._new_commit(
                repo, repo.main, apply_ops(repo.commits[repo.main].files, ops), summary, "", author
            )
            return repo.main

    def open_pr(self, repo_id: str, files: Mapping[str, bytes], author: str, title: str, description: str) -> int:
        with self.lock:
            repo = self._existing(repo_id)
            pr = Discussion(repo.next_num, title, author, True, "open", self._tick(), base=repo.main, head=repo.main)
            pr.events.append(self._comment(author, description))
            repo.discussions[pr.num] = pr
            ops = [Op("file", p, d) for p, d in files.items()]
            self._commit_to_pr(repo, pr, apply_ops(repo.commits[repo.main].files, ops), title, description, author)
            return pr.num

    def file(self, repo_id: str, path: str, rev: str) -> bytes | None:
        with self.lock:
            repo = self._existing(repo_id)
            return repo.commits[self._oid(repo, rev)].files.get(path)

    def head(self, repo_id: str, rev: str) -> str:
        with self.lock:
            repo = self._existing(repo_id)
            return self._oid(repo, rev)

    def views(self, repo_id: str) -> list[SimDiscussion]:
        with self.lock:
            repo = self._existing(repo_id)
            return [
                SimDiscussion(
                    *(d.num, d.title, d.status, d.is_pr, d.author, d.description, d.comments()),
                    *(d.ref, d.head, d.base, d.merge_commit),
                )
                for d in sorted(repo.discussions.values(), key=lambda d: d.num)
            ]

    def _existing(self, repo_id: str) -> Repo:
        repo = self.repos.get(repo_id)
        if repo is None:
            raise KeyError(f"no repo {repo_id} in the sim")
        return repo


# -- helpers ---------------------------------------------------------------------------------------


def repo_key(repo_id: str, repo_type: str = "model") -> str:
    """Where a repo lives in `HubState.repos`: models by id, datasets as `datasets/<id>` (its URL prefix)."""
    if repo_type not in ("model", "dataset"):
        raise ValueError(f"repo_type must be model or dataset, got {repo_type!r}")
    return repo_id if repo_type == "model" else f"{repo_type}s/{repo_id}"


def _check_parent(parent: object, head: str, rev: str) -> None:
    if parent is not None and parent != head:
        raise HubFailure(
            412,
            "ParentCommitMismatch",
            f"Parent commit {parent} is not the head of {rev} ({head}); fetch the latest revision and retry",
        )


def _need_user(user: str | None) -> str:
    if user is None:
        raise HubFailure(401, "Unauthorized", "Invalid credentials in Authorization header")
    return user


def _status_class(status: str) -> str:
    return "closed" if status in ("closed", "merged") else "open"


def _first_oid(repo: Repo) -> str:
    return next(iter(repo.commits))


def _user_json(name: str) -> dict[str, Any]:
    return {"name": name, "fullname": name, "type": "user", "isPro": False, "isHf": False, "avatarUrl": ""}


def _html(text: str) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<p>{escaped}</p>\n"
