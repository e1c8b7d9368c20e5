"""evalbot.yaml: the eval: section (what the `eval` source runs in run/scan) and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config.file import load_config_file
from bot.config.settings import Settings
from bot.errors import ConfigError
from evaluators import EvalSettings
from evaluators.request import EvalRequest


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "evalbot.yaml"
    path.write_text(text)
    return path


def test_eval_section_becomes_an_eval_request(tmp_path: Path) -> None:
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "mine.py").write_text("# custom tasks\n")
    path = write(
        tmp_path,
        "eval:\n  tasks: ['gsm8k|5', ' mmlu|5 ']\n  engine: inspect\n  backend: vllm\n  runner: hf-jobs\n"
        "  limit: 50\n  allow_partial: true\n  custom_tasks: tasks/mine.py\n  chat_template: 'on'\n"
        "  dtype: bfloat16\n  max_new_tokens: 512\n  temperature: 0.5\n  tensor_parallel_size: 2\n"
        "  gpu_memory_utilization: 0.8\n  max_model_len: 4096\n  provider: together\n  device: cuda:1\n",
    )
    assert load_config_file(path).eval == EvalRequest(
        tasks=("gsm8k|5", "mmlu|5"),
        settings=EvalSettings(
            engine="inspect",
            backend="vllm",
            provider="together",
            dtype="bfloat16",
            device="cuda:1",
            tensor_parallel_size=2,
            gpu_memory_utilization=0.8,
            max_model_len=4096,
            max_new_tokens=512,
            temperature=0.5,
            chat_template="on",
            limit=50,
            allow_partial=True,
            custom_tasks=(tmp_path / "tasks" / "mine.py").resolve(),
        ),
        runner="hf-jobs",
    )
    assert Settings().with_config_file(path).eval_request == load_config_file(path).eval


def test_eval_defaults_are_the_honest_ones(tmp_path: Path) -> None:
    request = load_config_file(write(tmp_path, "eval:\n  tasks: ['gsm8k|5']\n")).eval
    assert request is not None
    assert request.runner == "local"
    assert request.settings == EvalSettings()  # greedy, the task's own max tokens, chat template auto
    assert (request.settings.temperature, request.settings.max_new_tokens, request.settings.chat_template) == (
        0.0,
        None,
        "auto",
    )


def test_eval_older_spellings(tmp_path: Path) -> None:
    text = "eval:\n  tasks: ['a|0']\n  use_chat_template: false\n  max_length: 2048\n"
    request = load_config_file(write(tmp_path, text)).eval
    assert request is not None
    assert (request.settings.chat_template, request.settings.max_model_len) == ("off", 2048)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("eval: []\n", "eval: expected a mapping"),
        ("eval:\n  engine: lighteval\n", "eval: tasks: expected a non-empty list"),
        ("eval:\n  tasks: ['a|0']\n  engine: harness\n", "eval: engine: 'harness' is not one of lighteval, inspect"),
        ("eval:\n  tasks: ['a|0']\n  limit: 0\n", "eval: limit: expected a whole number of at least 1, got 0"),
        ("eval:\n  tasks: ['a|0']\n  trust_remote_code: 'yes'\n", "eval: trust_remote_code: expected true or false"),
        ("eval:\n  tasks: ['a|0']\n  custom_tasks: nope.py\n", "nope.py does not exist"),
        ("eval:\n  tasks: ['a|0']\n  gpus: 8\n", "eval: unknown key(s) gpus"),
        ("eval:\n  tasks: ['a|0']\n  chat_template: yes\n", "eval: chat_template: True is not one of auto, on, off"),
        ("eval:\n  tasks: ['a|0']\n  provider: together\n", "Inference Providers are run with inspect"),
        ("eval:\n  tasks: ['a|0']\n  temperature: -1\n", "temperature -1.0: must be at least 0"),
        ("eval:\n  tasks: ['a|0']\n  base_url: http://x/v1\n", "--base-url needs --provider"),
        (
            "eval:\n  tasks: ['a|0']\n  use_chat_template: true\n  chat_template: auto\n",
            "not also use_chat_template",
        ),
    ],
)
def test_bad_eval_section_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config_file(write(tmp_path, text))


# --- the bot service's keys (watch, sources, outputs, budgets, chatops, deny, secrets, workers) ---

FULL = """\
aa:
  acme/model-7b: acme/model-7b
watch:
  authors: [acme, Beta-Org]
  repos: [other/model, "third/*-instruct"]
sources:
  "acme/*-gguf": []
  "acme/*": [readme, aa]
  "*/special": [eval, eval, readme]
new_repo_sources: [eval]
outputs: [model-index, eval-results, section]
templates_dir: ./my-templates
budgets: {max_open_per_namespace: 10, max_prs_per_hour: 20}
chatops:
  allow: [alice, bob]
  bot_name: "@helper"
deny: ["acme/private-*", other/secret]
webhook_secret_env: MY_WEBHOOK_SECRET
workers: 3
"""


def test_full_bot_config_is_read(tmp_path: Path) -> None:
    from bot.config.file import Budgets, ChatOps, Watch

    (tmp_path / "my-templates").mkdir()
    config = load_config_file(write(tmp_path, FULL))
    assert config.aa == {"acme/model-7b": "acme/model-7b"}
    assert config.watch == Watch(authors=("acme", "Beta-Org"), repos=("other/model", "third/*-instruct"))
    assert config.sources == {
        "acme/*-gguf": (),
        "acme/*": ("readme", "aa"),
        "*/special": ("eval", "readme"),  # duplicates dropped, order kept
    }
    assert config.new_repo_sources == ("eval",)
    assert config.outputs == ("model-index", "eval-results", "section")
    assert config.templates_dir == (tmp_path / "my-templates").resolve()
    assert config.budgets == Budgets(max_open_per_namespace=10, max_prs_per_hour=20)
    assert config.chatops == ChatOps(allow=("alice", "bob"), bot_name="helper")
    assert config.deny == ("acme/private-*", "other/secret")
    assert config.webhook_secret_env == "MY_WEBHOOK_SECRET"
    assert config.workers == 3
    assert Settings().with_config_file(write(tmp_path, FULL)).config == config


def test_absent_keys_mean_the_defaults(tmp_path: Path) -> None:
    from bot.config.file import Budgets, ChatOps, ConfigFile

    path = write(tmp_path, "aa: {}\n")
    config = load_config_file(path)
    assert config == ConfigFile(path)
    assert (config.watch, config.sources, config.new_repo_sources, config.templates_dir) == (None, {}, (), None)
    assert config.outputs == ("model-index", "eval-results")
    assert (config.budgets, config.chatops) == (Budgets(), ChatOps(allow=(), bot_name="evalbot"))
    assert (config.deny, config.webhook_secret_env, config.workers) == ((), None, None)
    assert config.is_watched("anyone/anything") and config.sources_for("anyone/anything") == ("readme",)


def test_null_values_mean_the_defaults(tmp_path: Path) -> None:
    from bot.config.file import ConfigFile

    keys = ("watch", "sources", "new_repo_sources", "outputs", "templates_dir", "budgets", "chatops", "deny")
    path = write(tmp_path, "".join(f"{k}:\n" for k in (*keys, "webhook_secret_env", "workers")))
    assert load_config_file(path) == ConfigFile(path)


@pytest.mark.parametrize(
    ("repo_id", "watched"),
    [
        ("acme/model", True),
        ("ACME/Model", True),  # the Hub resolves ids case-insensitively
        ("beta-org/x", True),
        ("acme-labs/model", False),  # an author is a whole namespace, not a prefix
        ("other/model", True),
        ("other/model-2", False),
        ("third/llama-instruct", True),
        ("third/llama-base", False),
        ("stranger/acme", False),
    ],
)
def test_is_watched(tmp_path: Path, repo_id: str, watched: bool) -> None:
    path = write(tmp_path, "watch:\n  authors: [acme, Beta-Org]\n  repos: [other/model, 'third/*-instruct']\n")
    assert load_config_file(path).is_watched(repo_id) is watched


def test_only_repos_or_only_authors_can_be_watched(tmp_path: Path) -> None:
    only_repos = load_config_file(write(tmp_path, "watch:\n  repos: ['other/*']\n"))
    assert only_repos.is_watched("other/x") and not only_repos.is_watched("acme/x")
    only_authors = load_config_file(write(tmp_path, "watch:\n  authors: [acme]\n"))
    assert only_authors.is_watched("acme/x") and not only_authors.is_watched("other/x")


@pytest.mark.parametrize(
    ("repo_id", "sources"),
    [
        ("acme/model-gguf", ()),  # the first match wins, even when it says "nothing"
        ("acme/Model-GGUF", ()),
        ("acme/model", ("readme", "aa")),
        ("acme/special", ("readme", "aa")),  # "acme/*" comes before "*/special"
        ("other/special", ("eval", "readme")),
        ("other/model", ("readme",)),  # no pattern matches: the default
    ],
)
def test_sources_for(tmp_path: Path, repo_id: str, sources: tuple[str, ...]) -> None:
    (tmp_path / "my-templates").mkdir()
    assert load_config_file(write(tmp_path, FULL)).sources_for(repo_id) == sources


@pytest.mark.parametrize(
    ("repo_id", "denied"),
    [("acme/private-x", True), ("Acme/Private-X", True), ("other/secret", True), ("acme/public", False)],
)
def test_is_denied(tmp_path: Path, repo_id: str, denied: bool) -> None:
    (tmp_path / "my-templates").mkdir()
    assert load_config_file(write(tmp_path, FULL)).is_denied(repo_id) is denied


def test_an_empty_config_object_watches_everything_with_the_default_sources() -> None:
    from bot.config.file import ConfigFile

    assert ConfigFile().is_watched("a/b") and ConfigFile().sources_for("a/b") == ("readme",)
    assert not ConfigFile().is_denied("a/b")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("wach: {}\n", "unknown key(s) wach; known keys: aa, eval, watch, sources,"),
        ("watch: [acme]\n", "watch: expected a mapping with authors, repos"),
        ("watch: {}\n", "watch: name at least one of authors or repos (or leave watch out to watch all)"),
        ("watch:\n  orgs: [acme]\n", "watch: unknown key(s) orgs; known: authors, repos"),
        ("watch:\n  authors: acme\n", "watch: authors: expected a list of user or org names"),
        ("watch:\n  authors: [acme/model]\n", "watch: authors: 'acme/model' is a repo id, not a user or org name;"
         " list it under watch: repos"),
        ("watch:\n  authors: [42]\n", "watch: authors: 42 is not a user or org name"),
        ("watch:\n  authors: ['a b']\n", "watch: authors: 'a b' is not a user or org name"),
        ("watch:\n  repos: other/model\n", "watch: repos: expected a list of repo ids or patterns such as org/*"),
        ("watch:\n  repos: [model]\n", "watch: repos: 'model' never matches a repo id; write org/name or a pattern"),
        ("watch:\n  repos: ['']\n", "watch: repos: '' is not a repo id or pattern such as org/name or org/*"),
        ("watch:\n  repos: [[a]]\n", "watch: repos: ['a'] is not a repo id or pattern"),
        (f"watch:\n  repos: [a/{'x' * 300}]\n", "is longer than a repo id can be (200 characters)"),
        ("sources: [readme]\n", "sources: expected a mapping of repo pattern → list of sources"),
        ("sources:\n  acme/*: readme\n", "sources: acme/*: expected a list of sources (readme, aa, eval, results"),
        ("sources:\n  acme/*:\n", "sources: acme/*: expected a list of sources; write [] for none"),
        ("sources:\n  acme/*: [readme, tables]\n", "sources: acme/*: 'tables' is not one of readme, aa, eval"),
        ("sources:\n  acme: [readme]\n", "sources: 'acme' never matches a repo id"),
        ("new_repo_sources: eval\n", "new_repo_sources: expected a list of sources (readme, aa, eval, results"),
        ("new_repo_sources: [evals]\n", "new_repo_sources: 'evals' is not one of readme, aa, eval"),
        ("outputs: []\n", "outputs: expected a non-empty list of model-index, eval-results, section"),
        ("outputs: model-index\n", "outputs: expected a non-empty list of model-index, eval-results, section"),
        ("outputs: [model_index]\n", "outputs: 'model_index' is not one of model-index, eval-results, section"),
        ("templates_dir: 3\n", "templates_dir: expected a folder path, got 3"),
        ("templates_dir: nowhere\n", "nowhere is not a folder (paths are relative to"),
        ("templates_dir: evalbot.yaml\n", "evalbot.yaml is not a folder"),
        ("budgets: 10\n", "budgets: expected a mapping with max_open_per_namespace, max_prs_per_hour"),
        ("budgets: {max_prs: 1}\n", "budgets: unknown key(s) max_prs; known: max_open_per_namespace, max_prs_per_hour"),
        ("budgets: {max_prs_per_hour: 0}\n", "budgets: max_prs_per_hour: expected a whole number of at least 1, got 0"),
        ("budgets: {max_open_per_namespace: '5'}\n", "budgets: max_open_per_namespace: expected a whole number of"
         " at least 1, got '5'"),
        ("budgets: {max_open_per_namespace: true}\n", "got True"),
        ("chatops: [alice]\n", "chatops: expected a mapping with allow, bot_name"),
        ("chatops: {admins: [alice]}\n", "chatops: unknown key(s) admins; known: allow, bot_name"),
        ("chatops: {allow: alice}\n", "chatops: allow: expected a list of user or org names"),
        ("chatops: {allow: [acme/x]}\n", "chatops: allow: 'acme/x' is a repo id, not a user or org name"),
        ("chatops: {bot_name: ''}\n", "chatops: bot_name: expected the bot's Hub user name such as evalbot, got ''"),
        ("chatops: {bot_name: 'two words'}\n", "chatops: bot_name: expected the bot's Hub user name"),
        ("deny: acme/*\n", "deny: expected a list of repo ids or patterns such as org/*"),
        ("deny: [acme]\n", "deny: 'acme' never matches a repo id"),
        ("workers: 0\n", "workers: expected a whole number from 1 to 64, got 0"),
        ("workers: 65\n", "workers: expected a whole number from 1 to 64, got 65"),
        ("workers: two\n", "workers: expected a whole number from 1 to 64, got 'two'"),
        ("workers: 2.5\n", "workers: expected a whole number from 1 to 64, got 2.5"),
        ("webhook_secret_env: 12\n", "webhook_secret_env: expected the NAME of an environment variable such as"
         " EVALBOT_WEBHOOK_SECRET (the value is not shown); put the secret itself in that variable"),
    ],
)  # fmt: skip
def test_bad_bot_config_names_the_file_key_and_problem(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    assert str(caught.value).startswith(f"{path}") and message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_literal_webhook_secret_is_refused_and_never_echoed(tmp_path: Path) -> None:
    path = write(tmp_path, "webhook_secret: hunter2-very-secret\n")
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    assert str(caught.value) == (
        f"{path}: webhook_secret: never put the secret in evalbot.yaml; set it in an environment variable and name"
        " that variable in webhook_secret_env (e.g. webhook_secret_env: EVALBOT_WEBHOOK_SECRET)"
    )
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("key", "variable"),
    [("hf_token", "HF_TOKEN"), ("token", "HF_TOKEN"), ("aa_api_key", "AA_API_KEY"), ("github_token", "GITHUB_TOKEN")],
)
def test_tokens_in_the_file_are_refused_with_the_variable_to_use(tmp_path: Path, key: str, variable: str) -> None:
    path = write(tmp_path, f"{key}: hf_abcdefghijklmnop\n")
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    assert str(caught.value) == (
        f"{path}: {key}: never put a token in evalbot.yaml; set the {variable} environment variable instead"
    )


@pytest.mark.parametrize("value", ["'whsec_9f8e7d6c!'", "'my secret'", "[a, b]", "'-abc'"])
def test_a_secret_in_webhook_secret_env_is_refused_without_showing_it(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="expected the NAME of an environment variable") as caught:
        load_config_file(write(tmp_path, f"webhook_secret_env: {value}\n"))
    assert value.strip("'[]") not in str(caught.value)


# --- hostile files: each is a one-line ConfigError (or, for an empty file, the defaults), and fast ---


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n", "---\n", "~\n"])
def test_an_empty_file_means_the_defaults(tmp_path: Path, text: str) -> None:
    from bot.config.file import ConfigFile

    path = write(tmp_path, text)
    assert load_config_file(path) == ConfigFile(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- watch\n- aa\n", "expected a mapping of settings at the top level"),
        ("just a string\n", "expected a mapping of settings at the top level"),
        ("42\n", "expected a mapping of settings at the top level"),
        ("watch: {authors: [a]}\nwatch: {authors: [b]}\n", "line 2: not valid YAML (the key 'watch' appears twice)"),
        ("sources:\n  a/*: [readme]\n  a/*: [aa]\n", "line 3: not valid YAML (the key 'a/*' appears twice)"),
        ("watch:\n\tauthors: [a]\n", "line 2: not valid YAML"),
        ("!!python/object/apply:os.system ['true']\n", "not valid YAML"),
        ("? [a, b]\n: c\n", "not valid YAML"),
        ('"a\\nb": 1\n', "unknown key(s) 'a\\nb'"),
    ],
)
def test_hostile_structures_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_yaml_merge_keys_are_not_duplicates(tmp_path: Path) -> None:
    path = write(tmp_path, "budgets: &b {max_prs_per_hour: 5}\nchatops:\n  bot_name: evalbot\nworkers: 2\n")
    assert load_config_file(path).budgets.max_prs_per_hour == 5
    merged = write(tmp_path, "eval:\n  <<: {tasks: ['a|0'], limit: 5}\n  limit: 7\n")
    request = load_config_file(merged).eval
    assert request is not None and request.settings.limit == 7


@pytest.mark.parametrize(
    "text",
    [
        "[" * 50_000 + "]" * 50_000,
        "watch: " + "{a: " * 5_000 + "1" + "}" * 5_000,
        "".join("  " * i + "a:\n" for i in range(900)),
    ],
    ids=["deep-flow-list", "deep-flow-map", "deep-block-map"],
)
def test_deep_nesting_is_an_error_not_a_crash(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match="nested too deeply to be a config file; fix the file"):
        load_config_file(path)


def test_an_alias_bomb_is_a_short_error(tmp_path: Path) -> None:
    # 9**9 strings once expanded; the anchors sit under deny, which is checked after outputs
    levels = ["deny:", "  - &l0 [x, x, x, x, x, x, x, x, x]"]
    levels += [f"  - &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
    path = write(tmp_path, "\n".join([*levels, "outputs: [*l8]"]) + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    assert "outputs: [[[...], [...], [...], [...], ...], " in str(caught.value)
    assert "is not one of model-index" in str(caught.value) and len(str(caught.value)) < 300


def test_a_5_mb_file_is_refused_without_parsing_it(tmp_path: Path) -> None:
    path = tmp_path / "evalbot.yaml"
    path.write_text("aa:\n" + "".join(f"  org/model-{i}: org/slug-{i}\n" for i in range(200_000)))
    assert path.stat().st_size > 5_000_000
    with pytest.raises(ConfigError, match=r"evalbot.yaml: larger than 1 MB; a config file is a few hundred lines"):
        load_config_file(path)


def test_a_large_but_reasonable_file_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "aa:\n" + "".join(f"  org/model-{i}: org/slug-{i}\n" for i in range(5_000)))
    assert len(load_config_file(path).aa) == 5_000


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"\xff\xfe\x00w\x00a", "not UTF-8 text (byte 0); save it as UTF-8"), (None, "cannot read the config file")],
)
def test_unreadable_files_are_one_line_errors(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "evalbot.yaml"
    if content is None:
        path.mkdir()  # a folder where the file should be
    else:
        path.write_bytes(content)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config_file(path)


def test_errors_never_grow_with_the_value(tmp_path: Path) -> None:
    path = write(tmp_path, f"outputs: ['{'x' * 100_000}']\n")
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize("value", ["high", -0.1, 1.5, True])
def test_readme_min_confidence_must_be_a_number_from_0_to_1(tmp_path: Path, value: object) -> None:
    path = tmp_path / "evalbot.yaml"
    path.write_text(f"readme:\n  min_confidence: {value!r}\n".replace("'", ""))
    with pytest.raises(ConfigError, match="readme: min_confidence: expected a number from 0 to 1"):
        load_config_file(path)


def test_readme_min_confidence_is_read(tmp_path: Path) -> None:
    path = tmp_path / "evalbot.yaml"
    path.write_text("readme: {min_confidence: 0.9}\n")
    assert load_config_file(path).readme_min_confidence == 0.9
    path.write_text("readme: {threshold: 0.9}\n")
    with pytest.raises(ConfigError, match="readme: unknown key"):
        load_config_file(path)


def test_a_budget_set_in_the_environment_beats_the_file_even_when_zero(tmp_path: Path) -> None:
    """env > evalbot.yaml > defaults: `EVALBOT_MAX_OPEN_PER_NAMESPACE=0` (open nothing) is a setting, not unset."""
    path = write(tmp_path, "budgets: {max_open_per_namespace: 10, max_prs_per_hour: 20}\n")
    env = {"EVALBOT_MAX_OPEN_PER_NAMESPACE": "0"}
    settings = Settings.from_env(env).with_config_file(path)
    assert (settings.max_open_per_namespace, settings.max_prs_per_hour) == (0, 20)
    assert Settings.from_env({}).with_config_file(path).max_open_per_namespace == 10
