"""Hub webhook payloads (v3, as in reference/hub-protocol.md §3.2) → HubEvent, keys and classification."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from bot.core.events import (
    CommentInfo,
    DiscussionInfo,
    HubEvent,
    RefUpdate,
    author_ids,
    event_key,
    is_comment,
    is_model_repo,
    is_new_repo,
    main_commit,
    parse_webhook,
)
from bot.errors import InputError, PayloadError

OLD = "0" * 40
NEW = "1" * 40
PR_SHA = "2" * 40
REPO_ID = "6655f2b0c1d3e4f5a6b7c8d9"
BOT_ID = "65a0000000000000000000b0"
USER_ID = "60f1234567890abcdef01234"
WEBHOOK_ID = "6650aaaabbbbccccddddeeee"
WEBHOOK: dict[str, Any] = {"id": WEBHOOK_ID, "version": 3}


def repo(*, head_sha: str | None = NEW, type_: str = "model") -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": type_,
        "name": "acme/foo-7b",
        "id": REPO_ID,
        "private": False,
        "url": {"web": "https://huggingface.co/acme/foo-7b", "api": "https://huggingface.co/api/models/acme/foo-7b"},
        "tags": ["license:mit", "text-generation"],
        "owner": {"id": "60aaaaaaaaaaaaaaaaaaaaaa"},
    }
    if head_sha is not None:
        data["headSha"] = head_sha
    return data


PUSH_TO_MAIN: dict[str, Any] = {
    "event": {"action": "update", "scope": "repo.content"},
    "repo": repo(),
    "updatedRefs": [{"ref": "refs/heads/main", "oldSha": OLD, "newSha": NEW}],
    "webhook": WEBHOOK,
}

NEW_PR_REF: dict[str, Any] = {  # repo.content also fires when a PR is opened (a new refs/pr/N)
    "event": {"action": "update", "scope": "repo.content"},
    "repo": repo(head_sha=OLD),
    "updatedRefs": [{"ref": "refs/pr/3", "oldSha": None, "newSha": PR_SHA}],
    "webhook": WEBHOOK,
}

REPO_CREATED: dict[str, Any] = {
    "event": {"action": "create", "scope": "repo"},
    "repo": repo(),
    "webhook": WEBHOOK,
}

PR_OPENED: dict[str, Any] = {  # scope discussion: no headSha; the opening post comes as `comment`
    "event": {"action": "create", "scope": "discussion"},
    "repo": repo(head_sha=None),
    "discussion": {
        "id": "6660000000000000000000d1",
        "num": 3,
        "title": "Add evaluation results",
        "status": "open",
        "isPullRequest": True,
        "author": {"id": BOT_ID},
        "url": {
            "web": "https://huggingface.co/acme/foo-7b/discussions/3",
            "api": "https://huggingface.co/api/models/acme/foo-7b/discussions/3",
        },
        "changes": {"base": "refs/heads/main"},
        "pinned": False,
    },
    "comment": {
        "id": "6660000000000000000000c0",
        "author": {"id": BOT_ID},
        "content": "This PR adds evaluation results.",
        "hidden": False,
        "url": {"web": "https://huggingface.co/acme/foo-7b/discussions/3#6660000000000000000000c0"},
    },
    "webhook": WEBHOOK,
}

COMMENTED: dict[str, Any] = {
    "event": {"action": "create", "scope": "discussion.comment"},
    "repo": repo(head_sha=None),
    "discussion": {
        "id": "6660000000000000000000d2",
        "num": 4,
        "title": "Scores?",
        "status": "open",
        "isPullRequest": False,
        "author": {"id": USER_ID},
    },
    "comment": {
        "id": "6660000000000000000000c1",
        "author": {"id": USER_ID},
        "content": "@evalbot evaluate leaderboard|mmlu|5",
        "hidden": False,
        "url": {"web": "https://huggingface.co/acme/foo-7b/discussions/4#6660000000000000000000c1"},
    },
    "webhook": WEBHOOK,
}


def with_changes(payload: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy with top-level keys replaced (a value of None deletes the key)."""
    data = copy.deepcopy(payload)
    for k, v in changes.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    return data


HIDDEN_COMMENT = with_changes(COMMENTED, event={"action": "update", "scope": "discussion.comment"})
HIDDEN_COMMENT["comment"].update(hidden=True, content="")


def parse(payload: dict[str, Any]) -> HubEvent:
    return parse_webhook(json.dumps(payload).encode())


# --- parsed fields ------------------------------------------------------------------------------


def test_push_to_main_is_parsed() -> None:
    event = parse(PUSH_TO_MAIN)
    assert event == HubEvent(
        action="update",
        scope="repo.content",
        repo_type="model",
        repo_id="acme/foo-7b",
        repo_private=False,
        head_sha=NEW,
        updated_refs=(RefUpdate("refs/heads/main", OLD, NEW),),
        discussion=None,
        comment=None,
        webhook_id=WEBHOOK_ID,
        webhook_version=3,
    )


def test_new_pr_ref_keeps_null_old_sha() -> None:
    event = parse(NEW_PR_REF)
    assert event.updated_refs == (RefUpdate("refs/pr/3", None, PR_SHA),)
    assert event.head_sha == OLD


def test_repo_create_is_parsed() -> None:
    event = parse(REPO_CREATED)
    assert (event.scope, event.action, event.repo_type, event.head_sha) == ("repo", "create", "model", NEW)
    assert event.updated_refs == ()


def test_pr_opened_carries_discussion_and_opening_post() -> None:
    event = parse(PR_OPENED)
    assert event.head_sha is None
    assert event.discussion == DiscussionInfo(
        id="6660000000000000000000d1",
        num=3,
        title="Add evaluation results",
        status="open",
        is_pull_request=True,
        author_id=BOT_ID,
    )
    assert event.comment == CommentInfo(
        id="6660000000000000000000c0", author_id=BOT_ID, content="This PR adds evaluation results.", hidden=False
    )


def test_comment_is_parsed() -> None:
    event = parse(COMMENTED)
    assert event.comment is not None and event.discussion is not None
    assert event.comment.content == "@evalbot evaluate leaderboard|mmlu|5"
    assert (event.discussion.num, event.discussion.is_pull_request) == (4, False)


def test_hidden_comment_is_parsed() -> None:
    event = parse(HIDDEN_COMMENT)
    assert event.comment is not None
    assert event.comment.hidden is True


def test_private_repo_flag() -> None:
    data = copy.deepcopy(PUSH_TO_MAIN)
    data["repo"]["private"] = True
    assert parse(data).repo_private is True


def test_unknown_fields_are_ignored_and_unknown_scopes_kept() -> None:
    data = with_changes(PUSH_TO_MAIN, event={"action": "update", "scope": "repo.content.lfs"}, futureField={"x": 1})
    data["repo"]["subdomain"] = "whatever"
    event = parse(data)
    assert event.scope == "repo.content.lfs"
    assert main_commit(event) == NEW  # a narrower scope counts as the broader one


def test_missing_optional_fields_get_defaults() -> None:
    data = with_changes(PUSH_TO_MAIN, updatedRefs=None)
    data["repo"] = {"type": "model", "name": "acme/foo-7b"}
    data["webhook"] = {"version": 3}
    event = parse(data)
    assert (event.repo_private, event.head_sha, event.updated_refs, event.webhook_id) == (False, None, (), "")


# --- errors -------------------------------------------------------------------------------------


def raw(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"\xff\xfe{}", "payload is not UTF-8 text (invalid byte at offset 0)", id="not_utf8"),
        pytest.param(
            b"{not json",
            "payload is not JSON: Expecting property name enclosed in double quotes at line 1 column 2",
            id="not_json",
        ),
        pytest.param(b"", "payload is not JSON: Expecting value at line 1 column 1", id="empty"),
        pytest.param(b"[1, 2]", "payload is not a JSON object (got array)", id="array"),
        pytest.param(b'"hello"', "payload is not a JSON object (got string)", id="string"),
        pytest.param(b"null", "payload is not a JSON object (got null)", id="null"),
        pytest.param(
            b"[" * 100_000 + b"]" * 100_000, "payload is not JSON evalbot can read: nested too deeply", id="deep"
        ),
        pytest.param(
            b'{"n": ' + b"9" * 5000 + b"}", "payload is not JSON evalbot can read: a number is too long", id="bigint"
        ),
        pytest.param(raw(with_changes(PUSH_TO_MAIN, event=None)), "payload: event is missing", id="no_event"),
        pytest.param(
            raw(with_changes(PUSH_TO_MAIN, event="update")),
            "payload: event must be an object, got string",
            id="event_str",
        ),
        pytest.param(
            raw(with_changes(PUSH_TO_MAIN, event={"scope": "repo.content"})),
            "payload: event.action is missing",
            id="no_action",
        ),
        pytest.param(
            raw(with_changes(PUSH_TO_MAIN, event={"action": 1, "scope": "repo.content"})),
            "payload: event.action must be a string, got number",
            id="action_number",
        ),
        pytest.param(
            raw(with_changes(PUSH_TO_MAIN, event={"action": "explode", "scope": "repo.content"})),
            "payload: event.action must be one of create, delete, move, update; got 'explode'",
            id="action_unknown",
        ),
        pytest.param(
            raw(with_changes(PUSH_TO_MAIN, event={"action": "update"})),
            "payload: event.scope is missing",
            id="no_scope",
        ),
        pytest.param(
            raw(with_changes(PUSH_TO_MAIN, event={"action": "update", "scope": " "})),
            "payload: event.scope is empty",
            id="scope_empty",
        ),
        pytest.param(
            raw(with_changes(PUSH_TO_MAIN, webhook={"id": "w", "version": 2})),
            "unsupported webhook payload version 2; evalbot reads version 3",
            id="version_2",
        ),
        pytest.param(
            raw(with_changes(PUSH_TO_MAIN, webhook={"id": "w", "version": "3"})),
            'unsupported webhook payload version "3"; evalbot reads version 3',
            id="version_string",
        ),
        pytest.param(
            raw(with_changes(PUSH_TO_MAIN, webhook=None)),
            "payload: webhook.version is missing; evalbot reads version 3",
            id="no_webhook",
        ),
        pytest.param(raw(with_changes(PUSH_TO_MAIN, repo=None)), "payload: repo is missing", id="no_repo"),
        pytest.param(
            raw(with_changes(PUSH_TO_MAIN, repo={"type": "model"})), "payload: repo.name is missing", id="no_name"
        ),
        pytest.param(
            raw(with_changes(PUSH_TO_MAIN, repo={"name": "a/b"})), "payload: repo.type is missing", id="no_type"
        ),
        pytest.param(
            raw(with_changes(PUSH_TO_MAIN, repo={"name": "a/b", "type": "model", "private": "no"})),
            "payload: repo.private: expected true or false, got 'no'",
            id="private_string",
        ),
        pytest.param(
            raw(with_changes(PUSH_TO_MAIN, updatedRefs={"ref": "refs/heads/main"})),
            "payload: updatedRefs must be an array, got object",
            id="refs_object",
        ),
        pytest.param(
            raw(with_changes(PUSH_TO_MAIN, updatedRefs=[{"oldSha": OLD, "newSha": NEW}])),
            "payload: updatedRefs[0].ref is missing",
            id="ref_missing",
        ),
        pytest.param(
            raw(with_changes(PR_OPENED, discussion={"id": "d", "num": "3"})),
            "payload: discussion.num must be a number, got string",
            id="num_string",
        ),
        pytest.param(
            raw(with_changes(COMMENTED, comment={"content": "hi"})),
            "payload: comment.id is missing",
            id="comment_no_id",
        ),
    ],
)
def test_bad_payloads_are_rejected_with_one_line_400(body: bytes, message: str) -> None:
    with pytest.raises(PayloadError) as exc:
        parse_webhook(body)
    assert str(exc.value) == message
    assert exc.value.status == 400
    assert "\n" not in str(exc.value)


def test_too_large_body_is_413() -> None:
    body = raw(PUSH_TO_MAIN)
    with pytest.raises(PayloadError) as exc:
        parse_webhook(body, max_bytes=len(body) - 1)
    assert str(exc.value) == f"payload is {len(body):,} bytes; evalbot accepts at most {len(body) - 1:,}"
    assert exc.value.status == 413
    assert parse_webhook(body, max_bytes=len(body)).repo_id == "acme/foo-7b"  # the limit itself is fine


def test_payload_error_is_an_input_error() -> None:
    assert issubclass(PayloadError, InputError)
    assert issubclass(PayloadError, ValueError)


# --- idempotency keys ---------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [PUSH_TO_MAIN, NEW_PR_REF, REPO_CREATED, PR_OPENED, COMMENTED, HIDDEN_COMMENT])
def test_event_key_is_stable_across_reserialisation(payload: dict[str, Any]) -> None:
    first = parse_webhook(json.dumps(payload).encode())
    again = parse_webhook(json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False).encode())
    assert event_key(first) == event_key(again)


def test_event_key_names_the_most_specific_id() -> None:
    prefix = f"hub:{WEBHOOK_ID}"
    assert (
        event_key(parse(COMMENTED))
        == f"{prefix}:discussion.comment:create:model/acme/foo-7b:comment=6660000000000000000000c1"
    )
    assert (
        event_key(parse(PUSH_TO_MAIN)) == f"{prefix}:repo.content:update:model/acme/foo-7b:refs=refs/heads/main@{NEW}"
    )
    assert event_key(parse(REPO_CREATED)) == f"{prefix}:repo:create:model/acme/foo-7b:head={NEW}"
    discussion_only = with_changes(PR_OPENED, comment=None, event={"action": "update", "scope": "discussion"})
    discussion_only["discussion"]["status"] = "merged"
    assert event_key(parse(discussion_only)).endswith(":discussion=6660000000000000000000d1:merged")


def test_event_key_differs_across_commits() -> None:
    other = copy.deepcopy(PUSH_TO_MAIN)
    other["updatedRefs"][0].update(oldSha=NEW, newSha="3" * 40)
    other["repo"]["headSha"] = "3" * 40
    assert event_key(parse(PUSH_TO_MAIN)) != event_key(parse(other))


def test_event_key_differs_across_comments() -> None:
    other = copy.deepcopy(COMMENTED)
    other["comment"]["id"] = "6660000000000000000000c2"
    assert event_key(parse(COMMENTED)) != event_key(parse(other))


def test_event_key_differs_between_comment_create_and_hide() -> None:
    assert event_key(parse(COMMENTED)) != event_key(parse(HIDDEN_COMMENT))


def test_event_key_ignores_ref_order() -> None:
    refs = [
        {"ref": "refs/heads/main", "oldSha": OLD, "newSha": NEW},
        {"ref": "refs/tags/v1", "oldSha": None, "newSha": NEW},
    ]
    forward = with_changes(PUSH_TO_MAIN, updatedRefs=refs)
    backward = with_changes(PUSH_TO_MAIN, updatedRefs=refs[::-1])
    assert event_key(parse(forward)) == event_key(parse(backward))


def test_event_key_stays_short_for_huge_pushes() -> None:
    refs = [{"ref": f"refs/tags/v{i}", "oldSha": None, "newSha": NEW} for i in range(50)]
    key = event_key(parse(with_changes(PUSH_TO_MAIN, updatedRefs=refs)))
    assert len(key) < 300
    assert ":sha256=" in key
    fewer = event_key(parse(with_changes(PUSH_TO_MAIN, updatedRefs=refs[:-1])))
    assert key != fewer


# --- classification -----------------------------------------------------------------------------


def test_main_commit_of_a_push_to_main() -> None:
    assert main_commit(parse(PUSH_TO_MAIN)) == NEW


def test_main_commit_ignores_pr_refs_tags_and_other_branches() -> None:
    assert main_commit(parse(NEW_PR_REF)) is None  # headSha is present but refs were listed: not main
    for ref in ("refs/tags/v1.0", "refs/heads/dev", "refs/heads/main-old", "refs/pr/12"):
        event = parse(with_changes(PUSH_TO_MAIN, updatedRefs=[{"ref": ref, "oldSha": OLD, "newSha": NEW}]))
        assert main_commit(event) is None, ref


def test_main_commit_picks_main_among_several_refs() -> None:
    refs = [
        {"ref": "refs/pr/3", "oldSha": None, "newSha": PR_SHA},
        {"ref": "refs/heads/main", "oldSha": OLD, "newSha": NEW},
        {"ref": "refs/tags/v1", "oldSha": None, "newSha": NEW},
    ]
    assert main_commit(parse(with_changes(PUSH_TO_MAIN, updatedRefs=refs))) == NEW


def test_main_commit_deleted_main_is_none() -> None:
    refs = [{"ref": "refs/heads/main", "oldSha": OLD, "newSha": None}]
    assert main_commit(parse(with_changes(PUSH_TO_MAIN, updatedRefs=refs))) is None


def test_main_commit_falls_back_to_head_sha_without_updated_refs() -> None:
    assert main_commit(parse(with_changes(PUSH_TO_MAIN, updatedRefs=None))) == NEW


def test_main_commit_needs_a_content_scope() -> None:
    assert main_commit(parse(REPO_CREATED)) is None
    assert main_commit(parse(with_changes(PUSH_TO_MAIN, event={"action": "update", "scope": "repo.config"}))) is None
    assert main_commit(parse(with_changes(PUSH_TO_MAIN, event={"action": "update", "scope": "repo.contentx"}))) is None


def test_is_new_repo() -> None:
    assert is_new_repo(parse(REPO_CREATED))
    assert not is_new_repo(parse(PUSH_TO_MAIN))
    assert not is_new_repo(parse(with_changes(REPO_CREATED, event={"action": "delete", "scope": "repo"})))
    dataset = with_changes(REPO_CREATED, repo=repo(type_="dataset"))
    assert not is_new_repo(parse(dataset))
    assert not is_model_repo(parse(dataset))
    assert is_model_repo(parse(REPO_CREATED))


def test_is_comment() -> None:
    assert is_comment(parse(COMMENTED))
    assert not is_comment(parse(HIDDEN_COMMENT))
    hidden_on_create = copy.deepcopy(COMMENTED)
    hidden_on_create["comment"]["hidden"] = True
    assert not is_comment(parse(hidden_on_create))
    assert not is_comment(parse(with_changes(COMMENTED, event={"action": "update", "scope": "discussion.comment"})))
    assert not is_comment(parse(PR_OPENED))  # the opening post arrives with scope `discussion`
    assert not is_comment(parse(PUSH_TO_MAIN))


def test_author_ids_are_ids_only() -> None:
    assert author_ids(parse(PR_OPENED)) == {BOT_ID}
    assert author_ids(parse(COMMENTED)) == {USER_ID}
    assert author_ids(parse(PUSH_TO_MAIN)) == set()
    mixed = copy.deepcopy(COMMENTED)
    mixed["discussion"]["author"] = {"id": BOT_ID}
    del mixed["comment"]["author"]
    assert author_ids(parse(mixed)) == {BOT_ID}
