"""Settings, built once per entry point from a mapping (the environment, or a test's dict).

Precedence lives here and nowhere else: CLI flag > EVALBOT_* > defaults. Hub variables keep
the names huggingface_hub uses (HF_TOKEN, HF_ENDPOINT); without HF_TOKEN the token `hf auth login`
saved is used, as huggingface_hub does (`--token-from env|login` picks one). Secrets are wrapped in `Secret`, whose
repr and str never show the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.config.file import ConfigFile, load_config_file
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

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read the settings from `env` (pass `os.environ`, or a dict in tests)."""
        token = _hub_token(env)
        endpoint = env.get("EVALBOT_HF_ENDPOINT") or env.get("HF_ENDPOINT") or DEFAULT_ENDPOINT
        home = env.get("EVALBOT_HOME")
        templates = env.get("EVALBOT_TEMPLATES_DIR")
        return cls(
            hf_token=Secret(token) if token else None,
            hf_endpoint=endpoint.rstrip("/"),
            home=Path(home).expanduser() if home else Path.home() / ".cache" / "evalbot",
            templates_dir=Path(templates).expanduser() if templates else None,
            bot_user=env.get("EVALBOT_BOT_USER") or None,
            workers=_int(env, "EVALBOT_WORKERS", 4, minimum=1),
            allow_private=_flag(env, "EVALBOT_ALLOW_PRIVATE"),
            deny=tuple(p.strip() for p in env.get("EVALBOT_DENY", "").split(",") if p.strip()),
            defer_to_human_prs=not _flag(env, "EVALBOT_IGNORE_HUMAN_PRS"),
            max_open_per_namespace=_optional_int(env, "EVALBOT_MAX_OPEN_PER_NAMESPACE"),
            max_prs_per_hour=_optional_int(env, "EVALBOT_MAX_PRS_PER_HOUR"),
            aa_api_key=Secret(env["AA_API_KEY"]) if env.get("AA_API_KEY") else None,
            aa_api_base=(env.get("AA_API_BASE") or "https://artificialanalysis.ai/api/v2").rstrip("/"),
            aa_endpoint=env.get("AA_API_ENDPOINT") or "/data/llms/models",
            aa_cache_hours=float(_int(env, "EVALBOT_AA_CACHE_HOURS", 12, minimum=0)),
            registry_ttl_hours=float(_int(env, "EVALBOT_REGISTRY_TTL_HOURS", 24, minimum=0)),
            lease_seconds=float(_int(env, "EVALBOT_LEASE_SECONDS", 600, minimum=1)),
            job_deadline_seconds=float(_int(env, "EVALBOT_JOB_DEADLINE_SECONDS", 3600, minimum=1)),
            results_repo=env.get("EVALBOT_RESULTS_REPO") or None,
            jobs_namespace=env.get("EVALBOT_JOBS_NAMESPACE") or None,
            gpu_image=env.get("EVALBOT_GPU_IMAGE") or None,
            database_url=Secret(env["EVALBOT_DATABASE_URL"].strip())
            if env.get("EVALBOT_DATABASE_URL", "").strip()
            else None,
        )

    def with_config_file(self, path: Path | None) -> Settings:
        """Settings with evalbot.yaml applied (`path`, else ./evalbot.yaml if present)."""
        if path is None:
            path = Path("evalbot.yaml") if Path("evalbot.yaml").is_file() else None
        if path is None:
            return self
        config = load_config_file(path)
        # evalbot.yaml fills what the environment left unset (env > file > defaults, DESIGN §2)
        return replace(
            self,
            aa_mapping=config.aa,
            eval_request=config.eval,
            readme_min_confidence=config.readme_min_confidence,
            config=config,
            deny=tuple(self.deny) + tuple(config.deny),
            templates_dir=self.templates_dir or config.templates_dir,
            # `is None`, not `or`: EVALBOT_MAX_OPEN_PER_NAMESPACE=0 (no new PRs at all) must beat the file
            max_open_per_namespace=_first_set(self.max_open_per_namespace, config.budgets.max_open_per_namespace),
            max_prs_per_hour=_first_set(self.max_prs_per_hour, config.budgets.max_prs_per_hour),
        )

    @property
    def store_path(self) -> Path:
        return self.home / "evalbot.sqlite3"

    @property
    def store_url(self) -> Secret:
        """Where the ledger lives: ``EVALBOT_DATABASE_URL``, else ``sqlite:///$EVALBOT_HOME/evalbot.sqlite3``."""
        return self.database_url or Secret(f"sqlite:///{self.store_path}")

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with the CLI's flags applied (None means "not given")."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def repo_url(self, repo_id: str) -> str:
        """The public page of a model repo on this Hub."""
        return f"{self.hf_endpoint}/{repo_id}"


TOKEN_SOURCES = ("auto", "env", "login")


def _hub_token(env: Mapping[str, str]) -> str | None:
    """The Hub token as huggingface_hub's `get_token()` finds it: the environment (EVALBOT_HF_TOKEN,
    HF_TOKEN, HUGGING_FACE_HUB_TOKEN), else the token `hf auth login` saved. `EVALBOT_TOKEN_FROM`
    (`--token-from`) narrows it to one of the two: `env` or `login`."""
    source = (env.get("EVALBOT_TOKEN_FROM") or "auto").strip().casefold()
    if source not in TOKEN_SOURCES:
        raise ConfigError(f"EVALBOT_TOKEN_FROM={source!r}: expected env or login (or auto: env, then login)")
    if source != "login":
        token = env.get("EVALBOT_HF_TOKEN") or env.get("HF_TOKEN") or env.get("HUGGING_FACE_HUB_TOKEN")
        if token or source == "env":
            return token or None
    return _login_token(env)


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


def _flag(env: Mapping[str, str], key: str) -> bool:
    value = env.get(key, "").strip().casefold()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{key}={env[key]!r}: expected true or false")


def _first_set(value: int | None, fallback: int | None) -> int | None:
    return fallback if value is None else value


def _optional_int(env: Mapping[str, str], key: str) -> int | None:
    return _int(env, key, None, minimum=0) if env.get(key, "").strip() else None


def _int(env: Mapping[str, str], key: str, default: int | None, *, minimum: int) -> Any:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{key}={raw!r}: expected a whole number") from None
    if value < minimum:
        raise ConfigError(f"{key}={value}: must be at least {minimum}")
    return value
