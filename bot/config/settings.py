"""Settings, built once per entry point by the one precedence chain, `load_settings`.

    flags > environment > Action inputs > evalbot.yaml > .env > defaults

Precedence lives here and nowhere else (DESIGN §2): entry points hand over their layers (the
CLI's flags, `os.environ`, the Action's inputs) and get one `Settings`; `Settings.origins` says
which layer set each field. Hub variables keep the names huggingface_hub uses (HF_TOKEN,
HF_ENDPOINT); without a token in any layer the token `hf auth login` saved is used, as
huggingface_hub does (`--token-from env|login` picks one). Values are parsed by `bot.core.parse`,
so `EVALBOT_ALLOW_PRIVATE=yes` and `allow_partial: on` mean what they say everywhere. Secrets are
wrapped in `Secret`, whose repr and str never show the value, and no error message shows one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Final

from bot.config.dotenv import ENV_FILE_VAR, read_dotenv
from bot.config.file import ConfigFile, load_config_file
from bot.core.parse import is_unset, parse_bool, parse_csv, parse_int, show
from bot.errors import ConfigError
from evaluators.request import EvalRequest

DEFAULT_ENDPOINT = "https://huggingface.co"


class Secret:
    """A token that never prints itself.

    >>> Secret("hf_abc")
    Secret('***')
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The value, for handing to a client library; never log what this returns."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Settings:
    """Everything an entry point needs to know, decided once."""

    hf_token: Secret | None = None
    hf_endpoint: str = DEFAULT_ENDPOINT
    home: Path = field(default_factory=lambda: Path.home() / ".cache" / "evalbot")
    templates_dir: Path | None = None
    bot_user: str | None = None  # the bot's Hub user; default: whoever the token belongs to
    workers: int = 4
    allow_private: bool = False  # touch private and gated repos the token can see
    deny: tuple[str, ...] = ()  # repo id patterns never touched (fnmatch: "org/*")
    defer_to_human_prs: bool = True
    max_open_per_namespace: int | None = None
    max_prs_per_hour: int | None = None
    lease_seconds: float = 600.0
    lease_wait_seconds: float = 60.0
    job_deadline_seconds: float = 3600.0  # serve: a job running longer fails (evaluations add their runner's timeout)
    aa_api_key: Secret | None = None
    aa_api_base: str = "https://artificialanalysis.ai/api/v2"
    aa_endpoint: str = "/data/llms/models"
    aa_cache_hours: float = 12.0
    registry_ttl_hours: float = 24.0  # how long the Hub's benchmark registry and leaderboards are reused
    aa_mapping: Mapping[str, str] = field(default_factory=dict)  # repo → AA model, from evalbot.yaml
    eval_request: EvalRequest | None = None  # the eval: section of evalbot.yaml
    readme_min_confidence: float | None = None  # readme: min_confidence (None: the strict default)
    results_repo: str | None = None  # the dataset repo HF Jobs write their Run JSON to
    jobs_namespace: str | None = None
    gpu_image: str | None = None  # the image HF Jobs run evaluations in
    # EVALBOT_DATABASE_URL (it may hold a password: kept as a Secret); None: SQLite under `home`
    database_url: Secret | None = None
    config: ConfigFile | None = None  # evalbot.yaml, when one was read
    # which layer set each field ("flag", "env", "action", "file", "dotenv"); a field not here has its default
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """The environment layer alone, over the defaults (no evalbot.yaml, no .env): `load_settings(env=env)`."""
        return load_settings(env=env, config_file=None, dotenv=None)

    def with_config_file(self, path: Path | None) -> Settings:
        """These settings with evalbot.yaml (`path`, else ./evalbot.yaml if present) as the file layer.

        The file fills what no higher layer set, by the chain's own rule (`load_settings` is what
        entry points call; this is for settings built some other way, as tests do)."""
        if path is None:
            path = Path("evalbot.yaml") if Path("evalbot.yaml").is_file() else None
        if path is None:
            return self
        layers = [(self._origin(name), {name: getattr(self, name)}) for name in _FIELDS]
        kept = [(origin, layer) for origin, layer in layers if origin not in ("default", "file")]  # a new file replaces
        return _build([*kept, _file(load_config_file(path))])

    @property
    def store_path(self) -> Path:
        return self.home / "evalbot.sqlite3"

    @property
    def store_url(self) -> Secret:
        """Where the ledger lives: ``EVALBOT_DATABASE_URL``, else ``sqlite:///$EVALBOT_HOME/evalbot.sqlite3``."""
        return self.database_url or Secret(f"sqlite:///{self.store_path}")

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with flags applied (None means "not given"): the top layer, so they simply win."""
        given = {k: v for k, v in changes.items() if v is not None}
        return replace(self, **given, origins={**self.origins, **dict.fromkeys(given, "flag")})

    def _origin(self, name: str) -> str:
        """The layer `name` came from; a value set when constructing counts as a flag, the default as none."""
        if name in self.origins:
            return self.origins[name]
        default = _DEFAULTS[name]
        return "default" if getattr(self, name) == default else "flag"

    def repo_url(self, repo_id: str) -> str:
        """The public page of a model repo on this Hub."""
        return f"{self.hf_endpoint}/{repo_id}"


TOKEN_SOURCES = ("auto", "env", "login")
LAYERS = ("flag", "env", "action", "file", "dotenv")  # highest first; below them all, the defaults
AUTO: Final = "auto"
Layer = tuple[str, Mapping[str, Any]]  # (origin, Settings field → value) for the fields that layer sets

# A Settings field read from the environment (and .env): (variable names, first set wins) → parse.
_ENV: dict[str, tuple[tuple[str, ...], Callable[[str, str], Any]]] = {
    "hf_endpoint": (("EVALBOT_HF_ENDPOINT", "HF_ENDPOINT"), lambda v, n: v.strip().rstrip("/")),
    "home": (("EVALBOT_HOME",), lambda v, n: Path(v.strip()).expanduser()),
    "templates_dir": (("EVALBOT_TEMPLATES_DIR",), lambda v, n: Path(v.strip()).expanduser()),
    "bot_user": (("EVALBOT_BOT_USER",), lambda v, n: v.strip()),
    "workers": (("EVALBOT_WORKERS",), lambda v, n: parse_int(v, n, minimum=1)),
    "allow_private": (("EVALBOT_ALLOW_PRIVATE",), parse_bool),
    "deny": (("EVALBOT_DENY",), lambda v, n: tuple(parse_csv(v))),
    "defer_to_human_prs": (("EVALBOT_IGNORE_HUMAN_PRS",), lambda v, n: not parse_bool(v, n)),
    "max_open_per_namespace": (("EVALBOT_MAX_OPEN_PER_NAMESPACE",), lambda v, n: parse_int(v, n, minimum=0)),
    "max_prs_per_hour": (("EVALBOT_MAX_PRS_PER_HOUR",), lambda v, n: parse_int(v, n, minimum=0)),
    "aa_api_key": (("AA_API_KEY",), lambda v, n: Secret(v.strip())),
    "aa_api_base": (("AA_API_BASE",), lambda v, n: v.strip().rstrip("/")),
    "aa_endpoint": (("AA_API_ENDPOINT",), lambda v, n: v.strip()),
    "aa_cache_hours": (("EVALBOT_AA_CACHE_HOURS",), lambda v, n: float(parse_int(v, n, minimum=0))),
    "registry_ttl_hours": (("EVALBOT_REGISTRY_TTL_HOURS",), lambda v, n: float(parse_int(v, n, minimum=0))),
    "lease_seconds": (("EVALBOT_LEASE_SECONDS",), lambda v, n: float(parse_int(v, n, minimum=1))),
    "job_deadline_seconds": (("EVALBOT_JOB_DEADLINE_SECONDS",), lambda v, n: float(parse_int(v, n, minimum=1))),
    "results_repo": (("EVALBOT_RESULTS_REPO",), lambda v, n: v.strip()),
    "jobs_namespace": (("EVALBOT_JOBS_NAMESPACE",), lambda v, n: v.strip()),
    "gpu_image": (("EVALBOT_GPU_IMAGE",), lambda v, n: v.strip()),
    "database_url": (("EVALBOT_DATABASE_URL",), lambda v, n: Secret(v.strip())),
}
TOKEN_ENV = ("EVALBOT_HF_TOKEN", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")  # huggingface_hub's order
CONFIG_ENV, TOKEN_FROM_ENV = "EVALBOT_CONFIG", "EVALBOT_TOKEN_FROM"
# The Action inputs that are settings (the rest are job options: bot.action.inputs)
ACTION_INPUTS: dict[str, tuple[str, Callable[[str, str], Any]]] = {
    "hf_token": ("hf_token", lambda v, n: Secret(v.strip())),
    "aa_api_key": ("aa_api_key", lambda v, n: Secret(v.strip())),
    "templates_dir": ("templates_dir", lambda v, n: Path(v.strip()).expanduser()),
}


def load_settings(
    *,
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    action_inputs: Mapping[str, str] | None = None,
    config_file: ConfigFile | Path | str | None = AUTO,
    dotenv: Path | str | None = AUTO,
) -> Settings:
    """The one precedence chain: flags > environment > Action inputs > evalbot.yaml > .env > defaults.

    Each layer sets only what it names; the highest layer that names a setting wins, and a value
    that is "off" (0, false, an empty list) is still a value: `EVALBOT_MAX_OPEN_PER_NAMESPACE=0`
    beats `budgets: {max_open_per_namespace: 10}`. Empty text is "not named" (the runner passes
    every Action input, set or not). `deny` is the exception: its patterns add up across layers,
    so no layer can un-deny what another denies.

    flags:         Settings field → value (None: not given), plus `config_path` (evalbot.yaml) and `token_from`
    env:           the environment (pass `os.environ`); never read from anywhere else
    action_inputs: the Action's inputs by name (hf_token, aa_api_key, templates_dir, config), as text
    config_file:   "auto": the file the layers name (flag `config_path` > EVALBOT_CONFIG > the `config`
                   input > EVALBOT_CONFIG in .env), else ./evalbot.yaml if present; a path; an already
                   loaded ConfigFile; None for none
    dotenv:        "auto": $EVALBOT_ENV_FILE, else ./.env if present; a path; None for none

    Without a token in any layer, the one `hf auth login` saved is the default (`token_from`:
    `env` refuses it, `login` takes only it), as huggingface_hub's `get_token()` does.
    """
    env = env or {}
    given = {k: v for k, v in (flags or {}).items() if v is not None}
    unknown = sorted(set(given) - _FLAGS)
    if unknown:
        raise TypeError(f"load_settings: unknown flag(s) {', '.join(unknown)}")  # a bug in the caller
    inputs = {k: v for k, v in (action_inputs or {}).items() if not is_unset(v)}
    dot_path = _dotenv_path(dotenv, env)
    dot_vars = read_dotenv(dot_path) if dot_path is not None else {}
    dot_where = f"{dot_path}: " if dot_path is not None else ""

    token_from = _token_from(given.get("token_from"), env, dot_vars, dot_where)
    env_layer = _env_layer(env, token_from, "")
    dot_layer = _env_layer(dot_vars, token_from, dot_where)
    action_layer = {}
    for key, (name, parse) in ACTION_INPUTS.items():
        if name in inputs and not (key == "hf_token" and token_from == "login"):
            action_layer[key] = parse(inputs[name], name)
    layers: list[Layer] = [
        ("flag", {k: v for k, v in given.items() if k in _FIELDS}),  # not config_path, token_from
        ("env", env_layer),
        ("action", action_layer),
    ]
    config = _config(config_file, given.get("config_path"), env.get(CONFIG_ENV), inputs.get("config"), dot_vars)
    if config is not None:
        layers.append(_file(config))
    layers.append(("dotenv", dot_layer))
    if token_from != "env" and not any("hf_token" in layer for _, layer in layers):
        token = _login_token({**dot_vars, **env})  # the default: where `hf auth login` put it
        if token:
            layers.append(("default", {"hf_token": Secret(token)}))
    return _build(layers)


def _build(layers: Sequence[Layer]) -> Settings:
    """Settings from `layers`: each field from the highest layer naming it (deny: from all of them)."""
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for origin, layer in sorted(layers, key=lambda item: _RANK[item[0]]):  # stable: equal ranks keep order
        for name, value in layer.items():
            if name == "deny":
                values["deny"] = tuple(dict.fromkeys((*values.get("deny", ()), *value)))
                origins.setdefault("deny", origin)
            elif name not in values:
                values[name], origins[name] = value, origin
    origins = {k: v for k, v in origins.items() if v != "default"}
    return Settings(**values, origins=origins)


def _env_layer(env: Mapping[str, str], token_from: str, where: str) -> dict[str, Any]:
    """What `env` (the environment, or a .env file's variables) sets; `where` prefixes its errors."""
    layer: dict[str, Any] = {}
    for name, (keys, parse) in _ENV.items():
        key = next((k for k in keys if not is_unset(env.get(k))), None)
        if key is not None:
            layer[name] = parse(env[key], f"{where}{key}")
    if token_from != "login":
        token = next((env[k].strip() for k in TOKEN_ENV if not is_unset(env.get(k))), None)
        if token:
            layer["hf_token"] = Secret(token)
    return layer


def _file(config: ConfigFile) -> Layer:
    """What evalbot.yaml sets (a key left out of the file sets nothing)."""
    layer: dict[str, Any] = {
        "config": config,
        "aa_mapping": config.aa,
        "deny": config.deny or None,  # (no deny key: the file adds none)
        "templates_dir": config.templates_dir,
        "eval_request": config.eval,
        "readme_min_confidence": config.readme_min_confidence,
        "max_open_per_namespace": config.budgets.max_open_per_namespace,
        "max_prs_per_hour": config.budgets.max_prs_per_hour,
        "workers": config.workers,
    }
    return "file", {k: v for k, v in layer.items() if v is not None}


def _token_from(flag: object, env: Mapping[str, str], dot_vars: Mapping[str, str], dot_where: str) -> str:
    """`token_from` by the same chain (flag > environment > .env > auto)."""
    for value, where in ((flag, "--token-from"), (env.get(TOKEN_FROM_ENV), TOKEN_FROM_ENV)):
        if not is_unset(value):
            return _token_source(value, where)
    if not is_unset(dot_vars.get(TOKEN_FROM_ENV)):
        return _token_source(dot_vars[TOKEN_FROM_ENV], f"{dot_where}{TOKEN_FROM_ENV}")
    return "auto"


def _token_source(value: object, where: str) -> str:
    source = str(value).strip().casefold()
    if source not in TOKEN_SOURCES:
        raise ConfigError(f"{where}: {show(value)} is not one of env, login (or auto: env, then login)")
    return source


def _config(
    choice: ConfigFile | Path | str | None,
    flag: object,
    env_value: str | None,
    input_value: str | None,
    dot_vars: Mapping[str, str],
) -> ConfigFile | None:
    if isinstance(choice, ConfigFile):
        return choice
    if choice is None:
        return None
    if choice != AUTO:
        return load_config_file(Path(choice))
    for named in (flag, env_value, input_value, dot_vars.get(CONFIG_ENV)):
        if not is_unset(named):
            return load_config_file(Path(str(named).strip()).expanduser())
    default = Path("evalbot.yaml")
    return load_config_file(default) if default.is_file() else None


def _dotenv_path(choice: Path | str | None, env: Mapping[str, str]) -> Path | None:
    if choice is None:
        return None
    if choice != AUTO:
        return Path(choice)
    named = env.get(ENV_FILE_VAR)
    if not is_unset(named):
        return Path(str(named).strip()).expanduser()  # named: it must exist (read_dotenv says so)
    default = Path(".env")
    return default if default.is_file() else None


def _login_token(env: Mapping[str, str]) -> str | None:
    """The token file `hf auth login` writes: $HF_TOKEN_PATH, else $HF_HOME/token, else
    $XDG_CACHE_HOME/huggingface/token, else ~/.cache/huggingface/token (huggingface_hub's rule)."""
    if env.get("HF_TOKEN_PATH"):
        path = Path(env["HF_TOKEN_PATH"]).expanduser()
    else:
        cache = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser()
        path = Path(env.get("HF_HOME") or cache / "huggingface").expanduser() / "token"
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        raise ConfigError(f"cannot read the saved Hub token {path}: {e.strerror or e}; run `hf auth login`") from e
    return token or None


_FIELDS = tuple(f.name for f in fields(Settings) if f.name != "origins")
_DEFAULTS: dict[str, Any] = {name: getattr(Settings(), name) for name in _FIELDS}
_FLAGS = (set(_FIELDS) - {"config"}) | {"config_path", "token_from"}  # `config` is the loaded file, not a flag
_RANK = {name: rank for rank, name in enumerate((*LAYERS, "default"))}
