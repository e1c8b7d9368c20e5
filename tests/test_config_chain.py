"""The one precedence chain (bot.config.settings.load_settings), every layer against the others:

    flags > environment > Action inputs > evalbot.yaml > .env > defaults

and what each layer may hold: an explicit 0 / false / empty value is a value (it never loses to a
lower layer), empty text is "not set", a bad value is one line naming the setting, a bad .env
line names file:line, and no message or repr ever shows a token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.action.inputs import action_settings
from bot.config.dotenv import parse_dotenv
from bot.config.settings import Secret, Settings, load_settings
from bot.core.parse import FALSE_WORDS, TRUE_WORDS, parse_bool, parse_choices, parse_csv, parse_int
from bot.errors import ConfigError

TOKEN = "hf_chainSecretToken123"


def chain(
    tmp_path: Path,
    *,
    flags: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    inputs: dict[str, str] | None = None,
    yaml: str | None = None,
    dotenv: str | None = None,
) -> Settings:
    """load_settings over the given layers (files written under tmp_path; no login token on disk)."""
    base = {"HF_TOKEN_PATH": str(tmp_path / "no-login-token")}
    config = None
    if yaml is not None:
        config = tmp_path / "evalbot.yaml"
        config.write_text(yaml, encoding="utf-8")
    env_file = None
    if dotenv is not None:
        env_file = tmp_path / "chain.env"
        env_file.write_text(dotenv, encoding="utf-8")
    return load_settings(flags=flags, env=base | (env or {}), action_inputs=inputs, config_file=config, dotenv=env_file)


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, Path]:
    """A templates folder per layer, so each layer's value is told apart."""
    found = {}
    for name in ("flag", "env", "action", "file", "dotenv"):
        found[name] = tmp_path / f"templates-{name}"
        found[name].mkdir()
    return found


# (case id, layers, setting, expected value, the layer it came from: None for the default)
CASES: list[tuple[str, dict[str, Any], str, Any, str | None]] = [
    ("default", {}, "workers", 4, None),
    ("file_alone", {"yaml": "workers: 8\n"}, "workers", 8, "file"),
    ("dotenv_alone", {"dotenv": "EVALBOT_WORKERS=3\n"}, "workers", 3, "dotenv"),
    ("file_beats_dotenv", {"yaml": "workers: 8\n", "dotenv": "EVALBOT_WORKERS=3\n"}, "workers", 8, "file"),
    (
        "env_beats_file_and_dotenv",
        {"env": {"EVALBOT_WORKERS": "5"}, "yaml": "workers: 8\n", "dotenv": "EVALBOT_WORKERS=3\n"},
        "workers",
        5,
        "env",
    ),
    ("flag_beats_env", {"flags": {"workers": 7}, "env": {"EVALBOT_WORKERS": "5"}}, "workers", 7, "flag"),
    ("flag_none_is_not_given", {"flags": {"workers": None}, "env": {"EVALBOT_WORKERS": "5"}}, "workers", 5, "env"),
    ("empty_env_is_not_set", {"env": {"EVALBOT_WORKERS": " "}, "yaml": "workers: 8\n"}, "workers", 8, "file"),
    (
        "env_zero_beats_file",
        {"env": {"EVALBOT_MAX_OPEN_PER_NAMESPACE": "0"}, "yaml": "budgets: {max_open_per_namespace: 10}\n"},
        "max_open_per_namespace",
        0,
        "env",
    ),
    (
        "flag_zero_beats_env",
        {"flags": {"max_prs_per_hour": 0}, "env": {"EVALBOT_MAX_PRS_PER_HOUR": "5"}},
        "max_prs_per_hour",
        0,
        "flag",
    ),
    (
        "dotenv_zero_loses_to_file",
        {"dotenv": "EVALBOT_MAX_OPEN_PER_NAMESPACE=0\n", "yaml": "budgets: {max_open_per_namespace: 10}\n"},
        "max_open_per_namespace",
        10,
        "file",
    ),
    (
        "dotenv_zero_beats_default",
        {"dotenv": "EVALBOT_MAX_OPEN_PER_NAMESPACE=0\n"},
        "max_open_per_namespace",
        0,
        "dotenv",
    ),
    (
        "env_false_beats_dotenv_true",
        {"env": {"EVALBOT_ALLOW_PRIVATE": "false"}, "dotenv": "EVALBOT_ALLOW_PRIVATE=true\n"},
        "allow_private",
        False,
        "env",
    ),
    (
        "flag_false_beats_env_yes",
        {"flags": {"allow_private": False}, "env": {"EVALBOT_ALLOW_PRIVATE": "yes"}},
        "allow_private",
        False,
        "flag",
    ),
    ("env_off_spelling", {"env": {"EVALBOT_IGNORE_HUMAN_PRS": "On"}}, "defer_to_human_prs", False, "env"),
    (
        "env_token_beats_action_input",
        {"env": {"HF_TOKEN": "hf_env"}, "inputs": {"hf_token": "hf_input"}},
        "hf_token",
        Secret("hf_env"),
        "env",
    ),
    (
        "action_token_beats_dotenv",
        {"inputs": {"hf_token": "hf_input"}, "dotenv": "HF_TOKEN=hf_dotenv\n"},
        "hf_token",
        Secret("hf_input"),
        "action",
    ),
    ("dotenv_token", {"dotenv": "export HF_TOKEN='hf_dotenv'\n"}, "hf_token", Secret("hf_dotenv"), "dotenv"),
    (
        "empty_input_is_not_set",
        {"inputs": {"hf_token": ""}, "dotenv": "HF_TOKEN=hf_dotenv\n"},
        "hf_token",
        Secret("hf_dotenv"),
        "dotenv",
    ),
    (
        "endpoint_env_beats_dotenv",
        {"env": {"HF_ENDPOINT": "http://env/"}, "dotenv": "HF_ENDPOINT=http://dotenv\n"},
        "hf_endpoint",
        "http://env",
        "env",
    ),
    (
        "deny_adds_up",
        {"env": {"EVALBOT_DENY": "a/*"}, "yaml": "deny: [b/*]\n", "dotenv": "EVALBOT_DENY=c/x, a/*\n"},
        "deny",
        ("a/*", "b/*", "c/x"),
        "env",
    ),
]


@pytest.mark.parametrize(("layers", "name", "expected", "origin"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_highest_layer_that_sets_a_value_wins(
    layers: dict[str, Any], name: str, expected: Any, origin: str | None, tmp_path: Path
) -> None:
    settings = chain(tmp_path, **layers)
    assert getattr(settings, name) == expected
    assert settings.origins.get(name) == origin


@pytest.mark.parametrize(
    ("winner", "layers"),
    [
        ("flag", ("flag", "env", "action", "file", "dotenv")),
        ("env", ("env", "action", "file", "dotenv")),
        ("action", ("action", "file", "dotenv")),
        ("file", ("file", "dotenv")),
        ("dotenv", ("dotenv",)),
    ],
)
def test_every_layer_of_templates_dir_against_every_lower_one(
    winner: str, layers: tuple[str, ...], dirs: dict[str, Path], tmp_path: Path
) -> None:
    # templates_dir is the one setting all five layers can give
    given: dict[str, Any] = {}
    if "flag" in layers:
        given["flags"] = {"templates_dir": dirs["flag"]}
    if "env" in layers:
        given["env"] = {"EVALBOT_TEMPLATES_DIR": str(dirs["env"])}
    if "action" in layers:
        given["inputs"] = {"templates_dir": str(dirs["action"])}
    if "file" in layers:
        given["yaml"] = f"templates_dir: {dirs['file']}\n"
    if "dotenv" in layers:
        given["dotenv"] = f'EVALBOT_TEMPLATES_DIR="{dirs["dotenv"]}"\n'
    settings = chain(tmp_path, **given)
    assert settings.templates_dir == dirs[winner]
    assert settings.origins["templates_dir"] == winner


def test_the_file_layer_comes_from_the_highest_layer_that_names_it(tmp_path: Path) -> None:
    for name in ("flag", "env", "input", "dotenv"):
        (tmp_path / f"{name}.yaml").write_text(f"workers: {len(name)}\n", encoding="utf-8")
    env_file = tmp_path / ".env"
    env_file.write_text(f"EVALBOT_CONFIG={tmp_path / 'dotenv.yaml'}\n", encoding="utf-8")
    layers: dict[str, Any] = {
        "flags": {"config_path": tmp_path / "flag.yaml"},
        "env": {"EVALBOT_CONFIG": str(tmp_path / "env.yaml")},
        "action_inputs": {"config": str(tmp_path / "input.yaml")},
    }
    expected = {"flags": 4, "env": 3, "action_inputs": 5}  # len("flag"), len("env"), len("input")
    for top in list(layers):
        assert load_settings(**layers, dotenv=env_file).workers == expected[top]
        del layers[top]
    assert load_settings(dotenv=env_file).workers == len("dotenv")


def test_auto_discovery_of_evalbot_yaml_and_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings(env={}).origins == {}  # neither file: only the defaults
    (tmp_path / ".env").write_text("EVALBOT_WORKERS=3\nEVALBOT_MAX_PRS_PER_HOUR=2\n", encoding="utf-8")
    (tmp_path / "evalbot.yaml").write_text("workers: 8\n", encoding="utf-8")
    settings = load_settings(env={})
    assert (settings.workers, settings.max_prs_per_hour) == (8, 2)
    assert settings.config is not None and settings.config.workers == 8
    other = tmp_path / "other.env"
    other.write_text("EVALBOT_MAX_PRS_PER_HOUR=9\n", encoding="utf-8")
    assert load_settings(env={"EVALBOT_ENV_FILE": str(other)}).max_prs_per_hour == 9
    assert load_settings(env={}, dotenv=None, config_file=None).origins == {}


def test_a_named_env_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read the env file .*missing\.env.*EVALBOT_ENV_FILE"):
        load_settings(env={"EVALBOT_ENV_FILE": str(tmp_path / "missing.env")})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"A=1\n" * 250_001, r"big\.env: larger than 1 MB; an env file is a few lines"),
        (b"A=\xff\n", r"big\.env: not UTF-8 text \(byte 2\); save it as UTF-8"),
    ],
)
def test_an_env_file_too_big_or_not_utf8_is_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "big.env"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        load_settings(env={"EVALBOT_ENV_FILE": str(path)})


def test_an_env_file_may_start_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.env"
    path.write_bytes(b"\xef\xbb\xbfEVALBOT_MAX_PRS_PER_HOUR=7\n")
    assert load_settings(env={"EVALBOT_ENV_FILE": str(path)}, config_file=None).max_prs_per_hour == 7


def test_settings_from_env_with_config_file_follow_the_same_rule(tmp_path: Path) -> None:
    path = tmp_path / "evalbot.yaml"
    path.write_text("budgets: {max_open_per_namespace: 10}\nworkers: 8\n", encoding="utf-8")
    settings = Settings.from_env({"EVALBOT_MAX_OPEN_PER_NAMESPACE": "0"}).with_config_file(path)
    assert (settings.max_open_per_namespace, settings.workers) == (0, 8)
    assert settings.origins["max_open_per_namespace"] == "env"
    assert Settings(workers=2).with_config_file(path).workers == 2  # a constructed value counts as a flag
    other = tmp_path / "other.yaml"
    other.write_text("workers: 3\n", encoding="utf-8")
    again = settings.with_config_file(other)  # a second file replaces the first, not merges under it
    assert (again.workers, again.max_open_per_namespace, again.config and again.config.path) == (3, 0, other)


def test_the_login_token_is_the_default_and_never_used_by_the_action(tmp_path: Path) -> None:
    login = tmp_path / "token"
    login.write_text("hf_login\n", encoding="utf-8")
    env = {"HF_TOKEN_PATH": str(login)}
    assert load_settings(env=env, config_file=None, dotenv=None).hf_token == Secret("hf_login")
    assert load_settings(env=env, flags={"token_from": "env"}, config_file=None, dotenv=None).hf_token is None
    only_login = load_settings(env=env | {"HF_TOKEN": "hf_env"}, flags={"token_from": "login"}, dotenv=None)
    assert only_login.hf_token == Secret("hf_login")
    assert action_settings(env, {"hf_token": ""}).hf_token is None
    assert action_settings(env | {"HF_TOKEN": "hf_env"}, {"hf_token": "hf_input"}).hf_token == Secret("hf_env")


def test_the_action_reads_no_workspace_dotenv_unless_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # on a pull request the workspace may be a fork's: its .env could send the token elsewhere
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("HF_ENDPOINT=http://attacker.example\n", encoding="utf-8")
    assert action_settings({}, {}).hf_endpoint == "https://huggingface.co"
    assert action_settings({"EVALBOT_ENV_FILE": ".env"}, {}).hf_endpoint == "http://attacker.example"


# ---- errors: one line, naming the setting (and the file:line), never a token ------------------------


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        (
            {"env": {"EVALBOT_ALLOW_PRIVATE": "maybe"}},
            "EVALBOT_ALLOW_PRIVATE: expected true or false (or yes/no, on/off, 1/0), got 'maybe'",
        ),
        ({"env": {"EVALBOT_WORKERS": "0"}}, "EVALBOT_WORKERS: expected a whole number of at least 1, got '0'"),
        ({"env": {"EVALBOT_TOKEN_FROM": "disk"}}, "EVALBOT_TOKEN_FROM: 'disk' is not one of env, login"),
        ({"dotenv": "EVALBOT_ALLOW_PRIVATE=nope\n"}, "chain.env: EVALBOT_ALLOW_PRIVATE: expected true or false"),
        ({"dotenv": f"# tokens\n{TOKEN}\n"}, "chain.env:2: not a KEY=VALUE line (no '='); write KEY=VALUE"),
        ({"dotenv": f"HF-TOKEN={TOKEN}\n"}, "chain.env:1: the name before '=' is not a variable name"),
        ({"dotenv": f'HF_TOKEN="{TOKEN}\n'}, "chain.env:1: HF_TOKEN: the double quote is never closed"),
        ({"dotenv": f"HF_TOKEN='{TOKEN}' x\n"}, "chain.env:1: HF_TOKEN: text after the closing quote"),
        ({"dotenv": f'HF_TOKEN=a"{TOKEN}\n'}, "chain.env:1: HF_TOKEN: a quote inside a bare value"),
        ({"yaml": "eval:\n  tasks: [a|0]\n  allow_partial: 'yes'\n"}, "eval: allow_partial: expected true or false"),
        ({"yaml": f"hf_token: {TOKEN}\n"}, "never put a token in evalbot.yaml"),
    ],
)
def test_bad_values_are_one_line_config_errors_without_tokens(
    layers: dict[str, Any], message: str, tmp_path: Path
) -> None:
    env = {"HF_TOKEN": TOKEN, "AA_API_KEY": TOKEN} | layers.pop("env", {})
    with pytest.raises(ConfigError) as caught:
        chain(tmp_path, env=env, **layers)
    text = str(caught.value)
    assert message in text
    assert "\n" not in text
    assert TOKEN not in text


def test_no_repr_or_str_shows_a_token(tmp_path: Path) -> None:
    settings = chain(
        tmp_path,
        env={"EVALBOT_DATABASE_URL": f"postgresql://bot:{TOKEN}@db/evalbot"},
        inputs={"hf_token": TOKEN},
        dotenv=f"AA_API_KEY={TOKEN}\n",
    )
    assert settings.hf_token == Secret(TOKEN) and settings.aa_api_key == Secret(TOKEN)
    for text in (repr(settings), str(settings), repr(settings.origins), f"{settings.hf_token}"):
        assert TOKEN not in text


# ---- the .env reader and the shared parsers -------------------------------------------------------


def test_dotenv_syntax() -> None:
    text = "\n".join(
        [
            "# a comment",
            "",
            "PLAIN = value  # a trailing comment",
            "export EXPORTED=yes",
            "HASH=a#b",
            "SINGLE='lit # \\n $x'",
            'DOUBLE="tab\\there \\"quoted\\" # kept"  # comment',
            "EMPTY=",
            "TWICE=1",
            "TWICE=2",
        ]
    )
    assert parse_dotenv(text) == {
        "PLAIN": "value",
        "EXPORTED": "yes",
        "HASH": "a#b",
        "SINGLE": "lit # \\n $x",
        "DOUBLE": 'tab\there "quoted" # kept',
        "EMPTY": "",
        "TWICE": "2",
    }


@pytest.mark.parametrize("word", [*TRUE_WORDS, *FALSE_WORDS, " TRUE ", "Off"])
def test_one_spelling_set_for_booleans(word: str) -> None:
    assert parse_bool(word, "x") is (word.strip().casefold() in TRUE_WORDS)


@pytest.mark.parametrize("value", ["y", "enabled", "2", "", None, 1])
def test_other_spellings_are_refused(value: object) -> None:
    with pytest.raises(ConfigError, match=r"^x: expected true or false \(or yes/no, on/off, 1/0\), got "):
        parse_bool(value, "x")


def test_documents_accept_only_their_own_booleans_and_numbers() -> None:
    assert parse_bool(True, "x", text=False) is True
    with pytest.raises(ConfigError, match=r"^x: expected true or false, got 'yes'$"):
        parse_bool("yes", "x", text=False)
    with pytest.raises(ConfigError, match=r"^n: expected a whole number from 1 to 3, got '2'$"):
        parse_int("2", "n", minimum=1, maximum=3, text=False)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ten", "n: expected a whole number from 1 to 64, got 'ten'"),
        ("0", "n: expected a whole number from 1 to 64, got '0'"),
        (65, "n: expected a whole number from 1 to 64, got 65"),
        (True, "n: expected a whole number from 1 to 64, got True"),
        (2.5, "n: expected a whole number from 1 to 64, got 2.5"),
    ],
)
def test_whole_numbers_have_bounds(value: object, message: str) -> None:
    assert parse_int(" 64 ", "n", minimum=1, maximum=64) == 64
    with pytest.raises(ConfigError) as caught:
        parse_int(value, "n", minimum=1, maximum=64)
    assert str(caught.value) == message


def test_choices_and_lists() -> None:
    assert parse_csv("a, b\n# c\nd  # e\n,,") == ["a", "b", "d"]
    assert parse_choices(["aa", "readme", "aa"], "sources", ("readme", "aa")) == ("aa", "readme")
    with pytest.raises(ConfigError, match=r"^sources: 'tables' is not one of readme, aa$"):
        parse_choices(["readme", "tables"], "sources", ("readme", "aa"))


def test_cli_flags_are_the_top_layer(tmp_path: Path) -> None:
    from bot.cli import _setting_flags, build_parser

    config = tmp_path / "evalbot.yaml"
    config.write_text("workers: 8\nbudgets: {max_prs_per_hour: 4}\n", encoding="utf-8")
    args = build_parser().parse_args(["scan", "--author", "acme", "--workers", "3", "--config", str(config)])
    settings = load_settings(flags=_setting_flags(args), env={"EVALBOT_WORKERS": "5"}, dotenv=None)
    assert (settings.workers, settings.origins["workers"]) == (3, "flag")
    assert settings.config is not None and settings.config.path == config
    assert (settings.max_prs_per_hour, settings.origins["max_prs_per_hour"]) == (4, "file")
    with pytest.raises(TypeError, match="unknown flag"):
        load_settings(flags={"config": config})  # the path is `config_path`; `config` is the loaded file
