"""ChatOps: parsing `@evalbot` commands, who may run them, and the reply texts (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.chatops import (
    COSTS_GPU,
    Command,
    is_authorized,
    needs_authorization,
    parse_command,
    reply_help,
    reply_ignored,
    reply_queued,
    reply_refused,
    reply_unknown,
)

KEY = "acme/foo-7b#4:6660000000000000000000c1"
MARKER = f"<!-- evalbot-reply {KEY} -->"

# --- parsing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("@evalbot refresh", Command("refresh", (), "@evalbot refresh"), id="plain"),
        pytest.param("@EvalBot REFRESH", Command("refresh", (), "@EvalBot REFRESH"), id="case_insensitive"),
        pytest.param("@evalbot, refresh", Command("refresh", (), "@evalbot, refresh"), id="comma"),
        pytest.param("@evalbot: refresh", Command("refresh", (), "@evalbot: refresh"), id="colon"),
        pytest.param("@evalbot refresh.", Command("refresh", (), "@evalbot refresh."), id="trailing_period"),
        pytest.param("   @evalbot refresh  ", Command("refresh", (), "@evalbot refresh"), id="indented"),
        pytest.param(
            "@evalbot evaluate leaderboard|mmlu|5 gsm8k|5",
            Command("evaluate", ("leaderboard|mmlu|5", "gsm8k|5"), "@evalbot evaluate leaderboard|mmlu|5 gsm8k|5"),
            id="evaluate_args",
        ),
        pytest.param(
            "@evalbot evaluate leaderboard|mmlu|5, gsm8k|5,,  arc",
            Command(
                "evaluate",
                ("leaderboard|mmlu|5", "gsm8k|5", "arc"),
                "@evalbot evaluate leaderboard|mmlu|5, gsm8k|5,,  arc",
            ),
            id="args_split_on_commas_and_spaces",
        ),
        pytest.param("@evalbot evaluate", Command("evaluate", (), "@evalbot evaluate"), id="evaluate_no_args"),
        pytest.param("@evalbot ignore", Command("ignore", (), "@evalbot ignore"), id="ignore"),
        pytest.param("@evalbot help", Command("help", (), "@evalbot help"), id="help"),
        pytest.param("@evalbot", Command("help", (), "@evalbot"), id="bare_mention"),
        pytest.param("@evalbot!", Command("help", (), "@evalbot!"), id="bare_mention_punctuated"),
        pytest.param("@evalbot dance now", Command("unknown", ("dance", "now"), "@evalbot dance now"), id="unknown"),
        pytest.param(
            "Thanks for the model!\n\n@evalbot refresh\n\nCheers",
            Command("refresh", (), "@evalbot refresh"),
            id="among_other_lines",
        ),
        pytest.param("@evalbot\n@evalbot refresh", Command("refresh", (), "@evalbot refresh"), id="command_beats_bare"),
        pytest.param(
            "@evalbot refresh\r\n@evalbot ignore", Command("refresh", (), "@evalbot refresh"), id="first_wins"
        ),
    ],
)
def test_parse_command(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("Nice model, thanks!", id="no_mention"),
        pytest.param("I think @evalbot refresh would help here", id="mention_mid_line"),
        pytest.param("> @evalbot evaluate mmlu", id="quoted"),
        pytest.param("  >  @evalbot refresh\nsounds good", id="quoted_indented"),
        pytest.param(">> @evalbot refresh", id="nested_quote"),
        pytest.param("```\n@evalbot evaluate mmlu\n```", id="backtick_fence"),
        pytest.param("~~~text\n@evalbot refresh\n~~~", id="tilde_fence"),
        pytest.param("````\n```\n@evalbot refresh\n````", id="shorter_fence_does_not_close"),
        pytest.param("```\n@evalbot refresh", id="unclosed_fence"),
        pytest.param("`@evalbot refresh` is how you ask", id="inline_code"),
        pytest.param("@evalbot-dev refresh", id="other_bot_with_our_prefix"),
        pytest.param("@evalbot2 refresh", id="other_bot_digit"),
        pytest.param("@evalbot.test refresh", id="other_bot_dot"),
        pytest.param("@otherbot refresh", id="other_bot"),
        pytest.param("evalbot refresh", id="no_at_sign"),
        pytest.param("email me at x@evalbot refresh", id="email_like"),
    ],
)
def test_no_command(text: str) -> None:
    assert parse_command(text) is None


def test_fenced_code_then_real_command() -> None:
    text = "Try this:\n```\n@evalbot ignore\n```\n> @evalbot ignore\n@evalbot refresh"
    assert parse_command(text) == Command("refresh", (), "@evalbot refresh")


def test_other_bot_name() -> None:
    assert parse_command("@scorebot evaluate mmlu", bot_name="scorebot") == Command(
        "evaluate", ("mmlu",), "@scorebot evaluate mmlu"
    )
    assert parse_command("@evalbot evaluate mmlu", bot_name="scorebot") is None
    assert parse_command("@ScoreBot: help", bot_name="@scorebot") == Command("help", (), "@ScoreBot: help")


# --- authorization ------------------------------------------------------------------------------


def test_which_commands_need_authorization() -> None:
    assert set(COSTS_GPU) == {"evaluate"}
    assert needs_authorization(Command("evaluate", ("mmlu",)))
    assert needs_authorization(Command("refresh"))
    assert needs_authorization(Command("ignore"))
    assert not needs_authorization(Command("help"))
    assert not needs_authorization(Command("unknown", ("dance",)))


@pytest.mark.parametrize(
    ("user", "repo_id", "members", "allow", "expected"),
    [
        pytest.param("alice", "alice/model", [], [], True, id="owner"),
        pytest.param("Alice", "alice/model", [], [], True, id="owner_case_insensitive"),
        pytest.param("bob", "alice/model", [], [], False, id="stranger"),
        pytest.param("bob", "acme/model", ["carol", "Bob"], [], True, id="org_member"),
        pytest.param("dave", "acme/model", ["carol", "bob"], [], False, id="not_a_member"),
        pytest.param("dave", "acme/model", [], ["DAVE"], True, id="allow_listed"),
        pytest.param("dave", "acme/model", [], ["dav"], False, id="allow_list_is_exact"),
        pytest.param("acme", "acme/model", [], [], True, id="org_account_itself"),
        pytest.param("", "acme/model", [""], [""], False, id="empty_user"),
        pytest.param("gpt2", "gpt2", [], [], False, id="legacy_repo_without_namespace"),
        pytest.param("alic", "alice/model", [], [], False, id="namespace_prefix_is_not_owner"),
    ],
)
def test_is_authorized(user: str, repo_id: str, members: list[str], allow: list[str], expected: bool) -> None:
    assert is_authorized(user, repo_id, org_members=members, allow=allow) is expected


# --- replies ------------------------------------------------------------------------------------


def test_reply_queued_evaluate() -> None:
    text = reply_queued(Command("evaluate", ("leaderboard|mmlu|5", "gsm8k|5")), 42, KEY)
    assert text.endswith(MARKER)
    assert "`leaderboard|mmlu|5`" in text and "`gsm8k|5`" in text
    assert "42" in text and "pull request" in text


def test_reply_queued_evaluate_without_tasks_and_refresh() -> None:
    assert "configured" in reply_queued(Command("evaluate"), 7, KEY)
    refresh = reply_queued(Command("refresh"), "7", KEY)
    assert "refresh" in refresh and refresh.endswith(MARKER)


def test_reply_refused_is_polite_and_says_who_and_how() -> None:
    text = reply_refused("mallory", Command("evaluate", ("mmlu",), "@evalbot evaluate mmlu"), KEY)
    assert text.startswith("Sorry @mallory")
    assert "`@evalbot evaluate mmlu`" in text
    assert "GPU" in text
    for words in ("owner", "organization", "allow-list", "ask a maintainer"):
        assert words in text
    assert text.endswith(MARKER)
    assert "GPU" not in reply_refused("mallory", Command("refresh", (), "@evalbot refresh"), KEY)


def test_reply_help_lists_every_command_with_an_example() -> None:
    text = reply_help(KEY)
    for example in ("@evalbot evaluate leaderboard|mmlu|5", "@evalbot refresh", "@evalbot ignore", "@evalbot help"):
        assert example in text
    assert text.endswith(MARKER)
    assert "@scorebot refresh" in reply_help(KEY, bot_name="scorebot")


def test_reply_ignored_explains_opt_out_and_undo() -> None:
    text = reply_ignored("acme/foo-7b", KEY)
    assert "`acme/foo-7b`" in text and "opted out" in text
    assert "`evalbot: ignore`" in text and "re-enable" in text
    assert text.endswith(MARKER)


def test_reply_unknown_names_the_word_and_lists_commands() -> None:
    text = reply_unknown(Command("unknown", ("dance", "now"), "@evalbot dance now"), KEY)
    assert "`dance`" in text
    assert "@evalbot refresh" in text
    assert text.endswith(MARKER)


def test_replies_never_trigger_the_bot_themselves() -> None:
    cmd = Command("evaluate", ("mmlu",), "@evalbot evaluate mmlu")
    replies = [
        reply_queued(cmd, 1, KEY),
        reply_refused("x", cmd, KEY),
        reply_help(KEY),
        reply_ignored("a/b", KEY),
        reply_unknown(Command("unknown", ("x",), "@evalbot x"), KEY),
    ]
    for text in replies:
        assert parse_command(text) is None


def test_echoed_user_text_cannot_inject_markdown() -> None:
    text = reply_unknown(Command("unknown", ("`[click](https://evil)`",), "@evalbot `x`"), KEY)
    assert "`'[click](https://evil)'`" in text
    long = reply_refused("user<script>", Command("evaluate", (), "@evalbot evaluate " + "x" * 500), KEY)
    assert "x" * 100 not in long and "<script>" not in long


@pytest.mark.parametrize("bad_key", ["a-->b", "a\nb"])
def test_reply_key_that_would_break_the_marker_is_refused(bad_key: str) -> None:
    with pytest.raises(ValueError, match="hidden marker"):
        reply_help(bad_key)


def test_evaluate_takes_a_provider_name_never_a_url() -> None:
    from bot.core.chatops import evaluate_args

    assert evaluate_args(("inspect_evals/gsm8k", "provider=together")) == (("inspect_evals/gsm8k",), "together")
    assert evaluate_args(("gsm8k|5",)) == (("gsm8k|5",), None)
    # an endpoint URL is not a provider name: dropped, never sent a token
    assert evaluate_args(("x", "provider=http://evil.example/v1")) == (("x",), None)


def test_the_worker_turns_provider_into_an_inspect_provider_run(tmp_path: Path) -> None:
    from bot.app.compose import build_app
    from bot.config.file import ConfigFile
    from bot.config.settings import Settings
    from bot.edges.hub import HubClient
    from bot.edges.store import JobRow, Store
    from bot.serve.worker import JobHandler
    from evaluators.request import EvalRequest
    from evaluators.settings import EvalSettings

    configured = EvalRequest(
        ("gsm8k|5",), EvalSettings(engine="inspect", provider="local", base_url="http://127.0.0.1:9/v1", limit=3)
    )
    settings = Settings(home=tmp_path, eval_request=configured)
    app = build_app(settings, hub=HubClient(settings), dry_run=True)
    handler = JobHandler(
        ConfigFile(), run=app.run, hub=app.hub, store=Store.open(tmp_path), eval_request=settings.eval_request
    )

    def row(options: dict[str, object]) -> JobRow:
        return JobRow(1, "run", "acme/m", ("eval",), None, "k", options, "queued", 0, 0, 0.0, None, None, 0.0,
                      None, None, None, None)  # fmt: skip

    asked = handler._eval_for(row({"tasks": ["inspect_evals/gsm8k"], "provider": "together"}))
    assert asked is not None and asked.tasks == ("inspect_evals/gsm8k",)
    assert asked.settings == EvalSettings(engine="inspect", provider="together", limit=3)  # no URL from a comment
    same = handler._eval_for(row({"tasks": ["inspect_evals/x"], "provider": "local"}))
    assert same is not None and same.settings.base_url == "http://127.0.0.1:9/v1"  # the configured endpoint


# --- which tasks `evaluate` may run -------------------------------------------------------------


def test_lighteval_task_names_pass_and_anything_else_is_refused() -> None:
    from bot.core.chatops import TaskPolicy, check_tasks
    from bot.errors import InputError

    policy = TaskPolicy(engine="lighteval")
    assert check_tasks(["gsm8k|5", " leaderboard|mmlu|5 ", "arc:challenge|25"], policy) == (
        "gsm8k|5",
        "leaderboard|mmlu|5",
        "arc:challenge|25",
    )
    for bad in ("/etc/passwd", "x.py@t", "pkg/task", "../gsm8k|5", "gsm8k|5\x00", "gsm8k|5 x", "a" * 201, "~/t|5"):
        with pytest.raises(InputError, match=r"^task "):
            check_tasks([bad], policy)


def test_inspect_tasks_come_from_the_registry_the_config_or_a_task_dir(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.core.chatops import TaskPolicy, check_tasks
    from bot.errors import InputError

    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "mine.py").write_text("")
    (tmp_path / "outside.py").write_text("")
    (folder / "link.py").symlink_to(tmp_path / "outside.py")
    policy = TaskPolicy(engine="inspect", configured=frozenset({"other_pkg/task"}), task_dirs=(folder,))
    assert check_tasks(["inspect_evals/gsm8k", "other_pkg/task", "mine.py@t", "mine.py"], policy) == (
        "inspect_evals/gsm8k",
        "other_pkg/task",
        f"{(folder / 'mine.py').resolve()}@t",
        str((folder / "mine.py").resolve()),
    )
    refused = {
        f"{tmp_path}/outside.py@t": "is a path",
        "../outside.py@t": "is a path",
        "tasks/mine.py@t": "is a path",
        "outside.py@t": "no configured task directory holds outside.py",
        "link.py@t": "not a regular file inside the task directory",
        "os/path": "'os' is not a task registry evalbot allows",
        "bare_name": "is not configured",
    }
    for name, reason in refused.items():
        with pytest.raises(InputError, match=reason):
            check_tasks([name], policy)
    with_custom = TaskPolicy(engine="inspect", custom_tasks=folder / "mine.py")
    assert check_tasks(["bare_name", "mine.py@t"], with_custom) == ("bare_name", f"{(folder / 'mine.py').resolve()}@t")
