"""Errors raised by evalbot on purpose. Each one says what went wrong and what to do next.

BotError
  + ConfigError            bad option, setting or config file            (also ValueError)
  + InputError             bad user input: a README, a table choice, a name (also ValueError)
      - CardError          front matter cannot be parsed; the card is never rewritten
      - TableError         a table number or column that does not exist
      - PayloadError       a webhook body evalbot cannot read; `status` 413 (too large) or 400
  + TemplateError          a template failed to render or rendered invalid YAML
  + NotAvailableError      a feature this build cannot do yet (never a silent no-op)
      - MissingExtraError    an optional extra is not installed; names the `pip install` that fixes it
  + JobDeadlineError       a service job ran past its deadline (never retried)
  + HubError               a Hub failure we could not recover from
      - RepoNotFoundError    missing, or private to someone else
      - GatedRepoError       gated: accept its terms first
      - AuthError            token missing or invalid
      - NoWriteAccessError   the token cannot write where the plan needs to
      - RateLimitedError     429 after retries; says how long to wait
      - StaleParentError     the branch moved since the snapshot (re-plan)
      - AmbiguousWriteError  a write whose outcome is unknown (re-list before retrying)
  + ArtificialAnalysisError  the AA API failed or answered something unexpected
      - ArtificialAnalysisKeyError   AA_API_KEY missing or invalid   (also ConfigError: exit 2)
      - ArtificialAnalysisRateLimited  429 after retries; says how long to wait
  + GitHubError            a GitHub API failure (the Action's comment and check run); `status`
  + EvaluatorUnavailable   an engine or backend is not installed (or cannot be imported)
  + EvaluationError        the engine ran but the evaluation failed (never zero scores)
"""

from __future__ import annotations

# The exit codes of every entry point (CLI, Action, hook): done, failed, bad input or config, nothing to do.
EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT, EXIT_NOTHING = 0, 1, 2, 3


def one_line(text: object, width: int | None = None) -> str:
    """An error (or any text) as one line for a message: whitespace runs folded, cut at `width`.

    >>> one_line("a\n  b", width=3), one_line(ValueError("x  y"))
    ('a b', 'x y')
    """
    line = " ".join(str(text).split())
    return line if width is None or len(line) <= width else line[: width - 1] + "…"


class BotError(Exception):
    """Base class for every error this project raises on purpose."""


class ConfigError(BotError, ValueError):
    """A setting or option is invalid."""


class InputError(BotError, ValueError):
    """The user's input cannot be used as given."""


class CardError(InputError):
    """A model card cannot be parsed. The message names the line where possible.

    Example: ``README.md front matter, line 4: mapping values are not allowed here;
    fix the YAML between the '---' lines``
    """

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class TableError(InputError):
    """A requested table or column does not exist."""


class TemplateError(BotError):
    """A Jinja template failed to render, or rendered something that is not valid."""


class NotAvailableError(BotError):
    """A feature that is not available in this build; says which issue/option provides it."""


class MissingExtraError(NotAvailableError):
    """A command needs an optional extra that is not installed.

    Example: ``evalbot serve needs the server extra: pip install 'evalbot[server]'``
    """

    def __init__(self, command: str, extra: str) -> None:
        super().__init__(f"evalbot {command} needs the {extra} extra: pip install 'evalbot[{extra}]'")
        self.extra = extra


class JobDeadlineError(BotError):
    """A job of `evalbot serve` ran past its deadline (EVALBOT_JOB_DEADLINE_SECONDS); it is not retried."""


class HubError(BotError):
    """A Hugging Face Hub failure we could not recover from."""


class RepoNotFoundError(HubError):
    """The repository does not exist, or the token cannot see it."""

    def __init__(self, repo_id: str) -> None:
        super().__init__(
            f"repository {repo_id!r} not found on the Hub; check the id, or set HF_TOKEN if it is private or gated"
        )
        self.repo_id = repo_id


class GatedRepoError(HubError):
    """The repo is gated and the token has not been granted access."""

    def __init__(self, repo_id: str) -> None:
        super().__init__(f"{repo_id} is gated: accept its conditions on the Hub with the bot's account, or skip it")
        self.repo_id = repo_id


class AuthError(HubError):
    """No token, or the Hub rejected it."""


class NoWriteAccessError(HubError):
    """The token cannot do the write the plan needs."""


class RateLimitedError(HubError):
    """The Hub kept answering 429 after our retries."""

    def __init__(self, what: str, retry_after: float | None) -> None:
        wait = f"retry in {retry_after:.0f} s" if retry_after is not None else "retry later"
        super().__init__(f"rate limited by the Hub on {what}; {wait} (evalbot already backed off and retried)")
        self.retry_after = retry_after


class StaleParentError(HubError):
    """The branch head moved between the snapshot and the commit."""


class AmbiguousWriteError(HubError):
    """A write failed in a way that leaves its outcome unknown (the server may have applied it)."""


class ArtificialAnalysisError(BotError):
    """The Artificial Analysis API failed, or sent something we cannot read."""


class ArtificialAnalysisKeyError(ArtificialAnalysisError, ConfigError):
    """AA_API_KEY is missing or the API rejected it."""


class ArtificialAnalysisRateLimited(ArtificialAnalysisError):
    """AA kept answering 429 after our retries (the free tier allows 1,000 requests a day)."""

    def __init__(self, retry_after: float | None) -> None:
        wait = f"retry in {retry_after:.0f} s" if retry_after is not None else "retry later"
        super().__init__(f"rate limited by Artificial Analysis (1,000 requests/day on the free tier); {wait}")
        self.retry_after = retry_after


class PayloadError(InputError):
    """A webhook body that evalbot cannot read. `status` is the HTTP answer: 413 too large, else 400.

    Example: ``unsupported webhook payload version 2; evalbot reads version 3``
    """

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class GitHubError(BotError):
    """A GitHub API failure (one line; never the token). `status` is the HTTP status, if any."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class EvaluatorUnavailable(BotError):
    """The engine (or backend) is not installed."""

    def __init__(self, what: str, extra: str) -> None:
        super().__init__(f"{what} is not installed: pip install 'evalbot[{extra}]'")
        self.what = what
        self.extra = extra

    @classmethod
    def broken(cls, what: str, cause: str) -> EvaluatorUnavailable:
        """Installed, but importing it fails (`cause`: the module that failed and why)."""
        error = cls(what, "eval")
        error.args = (f"{what} is installed but cannot be imported: {cause}",)
        return error


class EvaluationError(BotError):
    """The engine ran but the evaluation failed; never reported as zero scores."""
