"""Hub webhook payloads (version 3) → `HubEvent`, and the few questions the server asks of one (pure).

The payload is documented in reference/hub-protocol.md §3.2. Two quirks shape this module:

* `repo.headSha` is read under that name (huggingface_hub's own model looks for `head_sha` and
  always gets None); it is sent only on `repo*` scopes.
* `author` objects carry only an id, never a user name: loop prevention compares ids
  (`author_ids`) with the bot's own.

There is no delivery id header, so `event_key` builds an idempotency key from the payload itself.
Fields evalbot does not read are ignored; a scope evalbot does not know is kept as given.
What it reads is validated at the door: the repo id as the Hub validates it (huggingface_hub's
`validate_repo_id`), ids, shas and names short printable strings, and the whole payload valid
UTF-8 with no lone surrogates (`"\ud800"` escapes), so nothing malformed is queued or logged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from huggingface_hub.errors import HFValidationError
from huggingface_hub.utils import validate_repo_id

from bot.core.parse import parse_bool
from bot.errors import ConfigError, PayloadError

SUPPORTED_VERSION = 3
ACTIONS = frozenset({"create", "delete", "move", "update"})
MAIN_REF = "refs/heads/main"
_MAX_KEY = 200  # longer keys (many refs in one push) end in a digest instead
_MAX_FIELD = 200  # ids, shas, scopes, refs: no real one is longer


@dataclass(frozen=True)
class RefUpdate:
    """One entry of `updatedRefs`; a sha is None where the ref was created (old) or deleted (new)."""

    ref: str
    old_sha: str | None
    new_sha: str | None


@dataclass(frozen=True)
class DiscussionInfo:
    """The `discussion` object: a discussion or a pull request (`is_pull_request`)."""

    id: str
    num: int
    title: str
    status: str  # open | closed | merged | draft
    is_pull_request: bool
    author_id: str | None


@dataclass(frozen=True)
class CommentInfo:
    """The `comment` object (also sent with a new discussion: its opening post)."""

    id: str
    author_id: str | None
    content: str
    hidden: bool


@dataclass(frozen=True)
class HubEvent:
    """What evalbot reads from one webhook delivery."""

    action: str  # create | delete | update | move
    scope: str  # repo | repo.content | repo.config | discussion | discussion.comment | (kept as sent)
    repo_type: str  # model | dataset | space
    repo_id: str  # "org/name"
    repo_private: bool
    head_sha: str | None  # `repo.headSha`: only on repo* scopes
    updated_refs: tuple[RefUpdate, ...] = ()  # empty when the payload has none
    discussion: DiscussionInfo | None = None
    comment: CommentInfo | None = None
    webhook_id: str = ""
    webhook_version: int = SUPPORTED_VERSION


def parse_webhook(body: bytes, *, max_bytes: int = 1_000_000) -> HubEvent:
    """Read one webhook body.

    Raises:
        PayloadError: a one-line reason; `status` is 413 when the body is larger than `max_bytes`,
            400 for anything else (not UTF-8, not JSON, not an object, a missing or invalid field,
            a payload version other than 3).

    >>> body = b'{"event": {"action": "update", "scope": "repo.content"}, "webhook": {"id": "w1", "version": 3},'
    >>> body += b' "repo": {"type": "model", "name": "org/m", "headSha": "abc"}}'
    >>> parse_webhook(body).head_sha
    'abc'
    """
    if len(body) > max_bytes:
        raise PayloadError(f"payload is {len(body):,} bytes; evalbot accepts at most {max_bytes:,}", status=413)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PayloadError(f"payload is not UTF-8 text (invalid byte at offset {e.start})") from e
    try:
        data = json.loads(text, parse_int=_bounded_int)
    except json.JSONDecodeError as e:
        raise PayloadError(f"payload is not JSON: {e.msg} at line {e.lineno} column {e.colno}") from e
    except ValueError as e:  # an integer literal too long to be a real field (see _bounded_int)
        raise PayloadError("payload is not JSON evalbot can read: a number is too long") from e
    except RecursionError as e:  # hostile nesting such as [[[[...]]]]
        raise PayloadError("payload is not JSON evalbot can read: nested too deeply") from e
    if not isinstance(data, dict):
        raise PayloadError(f"payload is not a JSON object (got {_kind(data)})")
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as e:  # "\ud800" escapes decode to lone surrogates no store or log can hold
        raise PayloadError("payload is not valid Unicode: it contains a lone surrogate escape such as \\ud800") from e

    event = _object(data, "event", required=True)
    action = _required_string(event, "event.action")
    if action not in ACTIONS:
        raise PayloadError(f"payload: event.action must be one of {', '.join(sorted(ACTIONS))}; got {_show(action)}")
    scope = _required_string(event, "event.scope")

    webhook = _object(data, "webhook")
    version = webhook.get("version")
    if version is None:
        raise PayloadError(f"payload: webhook.version is missing; evalbot reads version {SUPPORTED_VERSION}")
    if type(version) is not int or version != SUPPORTED_VERSION:
        got = json.dumps(version)[:40]
        raise PayloadError(f"unsupported webhook payload version {got}; evalbot reads version {SUPPORTED_VERSION}")

    repo = _object(data, "repo", required=True)
    return HubEvent(
        action=action,
        scope=scope,
        repo_type=_required_string(repo, "repo.type"),
        repo_id=_repo_id(repo),
        repo_private=_bool(repo, "repo.private"),
        head_sha=_string(repo, "repo.headSha"),
        updated_refs=_refs(data),
        discussion=_discussion(data),
        comment=_comment(data),
        webhook_id=_string(webhook, "webhook.id") or "",
        webhook_version=version,
    )


def event_key(event: HubEvent) -> str:
    """A stable idempotency key: the same event delivered twice gives the same key.

    webhook id + scope + action + repo + the most specific id the event carries: the comment id,
    else the discussion id and status, else the updated refs with their new shas, else headSha.

    >>> event_key(HubEvent("update", "repo.content", "model", "org/m", False, "abc", webhook_id="w1"))
    'hub:w1:repo.content:update:model/org/m:head=abc'
    """
    if event.comment is not None:
        detail = f"comment={event.comment.id}"
    elif event.discussion is not None:
        detail = f"discussion={event.discussion.id}:{event.discussion.status}"
    elif event.updated_refs:
        detail = "refs=" + ",".join(sorted(f"{u.ref}@{u.new_sha or '-'}" for u in event.updated_refs))
    elif event.head_sha:
        detail = f"head={event.head_sha}"
    else:
        detail = "-"
    prefix = f"hub:{event.webhook_id}:{event.scope}:{event.action}:{event.repo_type}/{event.repo_id}:"
    if len(prefix) + len(detail) > _MAX_KEY:
        detail = "sha256=" + hashlib.sha256(detail.encode()).hexdigest()
    return prefix + detail


def main_commit(event: HubEvent) -> str | None:
    """The new head of `refs/heads/main` when this is a content update that moved it, else None.

    Updates of `refs/pr/*`, tags and other branches are not main commits. When the payload has no
    `updatedRefs` at all, `headSha` (the sha of main) stands in for it.
    """
    if not _in_scope(event.scope, "repo.content"):
        return None
    if not event.updated_refs:
        return event.head_sha
    main = [u.new_sha for u in event.updated_refs if u.ref == MAIN_REF and u.new_sha]
    return main[-1] if main else None


def is_model_repo(event: HubEvent) -> bool:
    return event.repo_type == "model"


def is_new_repo(event: HubEvent) -> bool:
    """A model repo was just created."""
    return event.scope == "repo" and event.action == "create" and is_model_repo(event)


def is_comment(event: HubEvent) -> bool:
    """A new, visible comment on a discussion or pull request (where ChatOps commands arrive)."""
    return (
        _in_scope(event.scope, "discussion.comment")
        and event.action == "create"
        and event.comment is not None
        and not event.comment.hidden
    )


def author_ids(event: HubEvent) -> set[str]:
    """Hub ids of the discussion's and the comment's authors (ids only: the payload has no names)."""
    ids = {event.discussion.author_id if event.discussion else None, event.comment.author_id if event.comment else None}
    return {i for i in ids if i}


def _in_scope(scope: str, broad: str) -> bool:
    # the Hub may send narrower scopes later ("repo.content.x"); they count as the broader one
    return scope == broad or scope.startswith(broad + ".")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _field(obj: Mapping[str, Any], path: str) -> Any:
    return obj.get(path.rsplit(".", 1)[-1])


def _object(obj: Mapping[str, Any], path: str, *, required: bool = False) -> Mapping[str, Any]:
    value = _field(obj, path)
    if value is None:
        if required:
            raise PayloadError(f"payload: {path} is missing")
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"payload: {path} must be an object, got {_kind(value)}")
    return value


def _optional_object(obj: Mapping[str, Any], path: str) -> Mapping[str, Any] | None:
    return _object(obj, path) if _field(obj, path) is not None else None


def _string(obj: Mapping[str, Any], path: str, *, free_text: bool = False) -> str | None:
    value = _field(obj, path)
    if value is not None and not isinstance(value, str):
        raise PayloadError(f"payload: {path} must be a string, got {_kind(value)}")
    if value is not None and not free_text and (len(value) > _MAX_FIELD or not value.isprintable()):
        raise PayloadError(f"payload: {path} must be a short printable string, got {_show(value)}")
    return value


def _repo_id(repo: Mapping[str, Any]) -> str:
    """`repo.name`, valid as the Hub validates repo ids (no `..`, `/` at most once, 96 characters)."""
    value = _required_string(repo, "repo.name", free_text=True)
    try:
        validate_repo_id(value)
    except HFValidationError as e:
        rules = "letters, digits, '-', '_', '.', at most one '/', no '--' or '..', at most 96 characters"
        raise PayloadError(f"payload: repo.name {_show(value)} is not a valid Hub repo id ({rules})") from e
    return value


def _show(value: str) -> str:
    """A value for an error message: its repr, cut to 60 characters (one line, control chars escaped)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _required_string(obj: Mapping[str, Any], path: str, *, free_text: bool = False) -> str:
    value = _field(obj, path)
    if value is None:
        raise PayloadError(f"payload: {path} is missing")
    value = _string(obj, path, free_text=free_text)
    assert value is not None
    if not value.strip():
        raise PayloadError(f"payload: {path} is empty")
    return value


def _bool(obj: Mapping[str, Any], path: str) -> bool:
    value = _field(obj, path)
    if value is None:
        return False
    try:
        return parse_bool(value, path, text=False)  # JSON has its own true/false: "no" is a mistake
    except ConfigError as e:
        raise PayloadError(f"payload: {e}") from None


def _author_id(obj: Mapping[str, Any], path: str) -> str | None:
    author = _object(obj, f"{path}.author")
    return _string(author, f"{path}.author.id")


def _refs(data: Mapping[str, Any]) -> tuple[RefUpdate, ...]:
    value = data.get("updatedRefs")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise PayloadError(f"payload: updatedRefs must be an array, got {_kind(value)}")
    refs = []
    for i, item in enumerate(value):
        path = f"updatedRefs[{i}]"
        if not isinstance(item, dict):
            raise PayloadError(f"payload: {path} must be an object, got {_kind(item)}")
        refs.append(
            RefUpdate(
                ref=_required_string(item, f"{path}.ref"),
                old_sha=_string(item, f"{path}.oldSha"),
                new_sha=_string(item, f"{path}.newSha"),
            )
        )
    return tuple(refs)


def _discussion(data: Mapping[str, Any]) -> DiscussionInfo | None:
    d = _optional_object(data, "discussion")
    if d is None:
        return None
    num = d.get("num")
    if num is None:
        raise PayloadError("payload: discussion.num is missing")
    if type(num) is not int:
        raise PayloadError(f"payload: discussion.num must be a number, got {_kind(num)}")
    return DiscussionInfo(
        id=_required_string(d, "discussion.id"),
        num=num,
        title=_string(d, "discussion.title", free_text=True) or "",
        status=_string(d, "discussion.status") or "",
        is_pull_request=_bool(d, "discussion.isPullRequest"),
        author_id=_author_id(d, "discussion"),
    )


def _comment(data: Mapping[str, Any]) -> CommentInfo | None:
    c = _optional_object(data, "comment")
    if c is None:
        return None
    return CommentInfo(
        id=_required_string(c, "comment.id"),
        author_id=_author_id(c, "comment"),
        content=_string(c, "comment.content", free_text=True) or "",
        hidden=_bool(c, "comment.hidden"),
    )


_MAX_INT_DIGITS = 64


def _bounded_int(literal: str) -> int:
    """No webhook field is a 64-digit number; refuse longer ones whatever Python's own limit is set to."""
    if len(literal.lstrip("-")) > _MAX_INT_DIGITS:
        raise ValueError("integer literal too long")
    return int(literal)
