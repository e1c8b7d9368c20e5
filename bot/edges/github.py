"""What the GitHub Action does on GitHub: one updatable comment on the triggering issue/PR, and a
check run (DESIGN §9, reference/hub-protocol.md §6.2).

This is the only module that imports PyGithub (the `github` extra); without it, constructing a
`GitHubReporter` raises `NotAvailableError`. Point `base_url` at `GITHUB_API_URL` so GitHub
Enterprise and the local stand-in (`bot.sim.github`) work. The token is held only by the PyGithub
client: no message, log line or repr of ours shows it. PyGithub retries by itself (`GithubRetry`:
5xx, and 403/429 with `Retry-After`, waiting what it says); a failure that remains becomes one
`GitHubError` through `bot.edges._http.error_for`.

    reporter = GitHubReporter(Secret(token), repository="octo/demo", base_url=api_url)
    url = reporter.upsert_comment(7, "## evalbot\\n| model | score |...")
    reporter.create_check_run(sha, name="evalbot", conclusion="success", title="3 PRs", summary="...")
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, NoReturn

import requests

from bot.config.settings import Secret
from bot.edges._http import ErrorTable, Failed, error_for, failure_of, retry_after
from bot.errors import ConfigError, GitHubError, NotAvailableError

if TYPE_CHECKING:
    from github import Github
    from github.GithubException import GithubException
    from github.IssueComment import IssueComment
    from github.Repository import Repository

__all__ = ["DEFAULT_MARKER", "GitHubError", "GitHubReporter"]

logger = logging.getLogger(__name__)

DEFAULT_MARKER = "<!-- evalbot-action -->"
MAX_COMMENT = 65536  # GitHub's limit for an issue comment body, in characters
MAX_CHECK_TEXT = 65535  # ... and for a check run's output summary and text
_TRUNCATED = "\n\n… (truncated: GitHub allows {limit} characters)"
_INSTALLATION_PREFIX = "ghs_"  # GitHub App installation tokens, Actions' GITHUB_TOKEN among them
_INSTALL_HINT = "GitHub integration needs PyGithub: pip install 'evalbot[github]'"


class GitHubReporter:
    """Comments and check runs on one repository, as the token's user, through PyGithub.

    `seconds_between_writes`/`seconds_between_requests` are PyGithub's throttles (GitHub asks
    for ≥ 1 s between writes); tests set them to 0. `per_page` is the listing page size (≤ 100).
    """

    def __init__(
        self,
        token: Secret,
        *,
        repository: str,
        base_url: str = "https://api.github.com",
        seconds_between_writes: float = 1.0,
        seconds_between_requests: float = 0.25,
        per_page: int = 100,
        timeout: int = 15,
    ) -> None:
        owner, _, name = repository.partition("/")
        if not owner or not name or "/" in name:
            raise ConfigError(f"GitHub repository must look like owner/name, not {repository!r}")
        if not token:
            raise ConfigError("the GitHub token is empty; pass github_token (e.g. secrets.GITHUB_TOKEN)")
        try:
            from github import Auth, Github
        except ImportError:
            raise NotAvailableError(_INSTALL_HINT) from None
        self.repository = repository
        self.base_url = base_url.rstrip("/")
        self._secret = token.reveal()  # only to scrub messages; never shown
        self._client: Github = Github(
            auth=Auth.Token(token.reveal()),
            base_url=self.base_url,
            seconds_between_writes=seconds_between_writes,
            seconds_between_requests=seconds_between_requests,
            per_page=per_page,
            timeout=timeout,
        )
        self._repo: Repository | None = None
        self._login: str | None = None
        self._login_known = False

    def __repr__(self) -> str:
        return f"GitHubReporter(repository={self.repository!r}, base_url={self.base_url!r})"

    # -- comments ----------------------------------------------------------------------------------

    def upsert_comment(self, issue_number: int, body: str, *, marker: str = DEFAULT_MARKER) -> str:
        """Create, or update in place, the one comment carrying `marker` on issue/PR #`issue_number`.

        The comment is ours when its body contains `marker` and its author is the token's user;
        when the token may not ask who it is (an installation token such as Actions'
        `GITHUB_TOKEN`), when its author is a bot. An identical body is left alone (no write).
        `marker` is appended when `body` lacks it. Returns the comment's html_url.
        """
        if not marker:
            raise ConfigError("the comment marker must not be empty")
        text = _with_marker(body, marker)
        where = f"{self.repository}#{issue_number}"
        try:
            issue = self._repository().get_issue(issue_number)
            login = self._own_login()
            mine = next((c for c in issue.get_comments() if _is_ours(c, marker, login)), None)
            if mine is None:
                created = issue.create_comment(text)
                logger.info("commented on %s", where)
                return created.html_url
            if mine.body != text:
                mine.edit(text)
                logger.info("updated the comment on %s", where)
            else:
                logger.info("the comment on %s is up to date", where)
            return mine.html_url
        except GitHubError:
            raise
        except Exception as e:
            self._fail(e, f"commenting on {where}", missing=f"issue or pull request {where} not found")

    # -- check runs --------------------------------------------------------------------------------

    def create_check_run(
        self,
        head_sha: str,
        *,
        name: str,
        conclusion: Literal["success", "failure", "neutral"],
        title: str,
        summary: str,
        text: str = "",
    ) -> str | None:
        """A completed check run on `head_sha`; returns its html_url.

        None when the token may not create check runs (403: a PAT, or `GITHUB_TOKEN` without
        `checks: write`), after one INFO line; the Action goes on.
        """
        output: dict[str, str | list[dict[str, str | int]]] = {
            "title": title,
            "summary": _truncate(summary, MAX_CHECK_TEXT),
        }
        if text:
            output["text"] = _truncate(text, MAX_CHECK_TEXT)
        try:
            run = self._repository().create_check_run(
                name=name,
                head_sha=head_sha,
                status="completed",
                conclusion=conclusion,
                completed_at=datetime.now(UTC),
                output=output,
            )
            logger.info("check run %r on %s: %s", name, head_sha[:12], conclusion)
            return run.html_url
        except GitHubError:
            raise
        except Exception as e:
            if _status(e) == 403 and not _is_rate_limit(e):
                logger.info("check run skipped: token cannot create check runs")
                return None
            self._fail(e, f"creating check run {name!r} on {head_sha[:12]}", missing="commit not found")

    # -- rate limit --------------------------------------------------------------------------------

    @property
    def rate_limiting(self) -> tuple[int, int]:
        """(remaining, limit) from the last response's X-RateLimit headers (asks GitHub if none yet)."""
        try:
            return self._client.rate_limiting
        except Exception as e:
            self._fail(e, "reading the rate limit")

    # -- internals ---------------------------------------------------------------------------------

    def _repository(self) -> Repository:
        if self._repo is None:
            try:
                self._repo = self._client.get_repo(self.repository)
            except Exception as e:
                self._fail(
                    e,
                    f"opening {self.repository}",
                    missing=f"repository {self.repository} not found at {self.base_url} (or the token cannot see it)",
                )
        return self._repo

    def _own_login(self) -> str | None:
        """The token's user (cached); None for an installation token, which GitHub will not tell
        (`GET /user` answers 403): `ghs_` tokens are not asked at all, others on a 403."""
        if not self._login_known and self._secret.startswith(_INSTALLATION_PREFIX):
            self._login_known = True
        if not self._login_known:
            try:
                self._login = self._client.get_user().login
            except Exception as e:
                if _status(e) != 403 or _is_rate_limit(e):
                    self._fail(e, "asking GitHub who the token belongs to")
                self._login = None
            self._login_known = True
        return self._login

    def _fail(self, error: Exception, doing: str, *, missing: str | None = None) -> NoReturn:
        """Raise a one-line GitHubError for `error` (a PyGithub or network error); re-raise anything else."""
        status = _status(error)
        if status is None and not isinstance(error, (requests.RequestException, OSError)):
            raise error  # a bug, not a GitHub failure: keep its traceback
        detail = _message(error) if status is not None else type(error).__name__
        kind = failure_of(status, transport=status is None)
        failed = Failed(kind, status, doing, self.base_url, detail, retry_after(_headers(error)))
        errors = {**_ERRORS, "not_found": lambda f: GitHubError(missing, status=404)} if missing else _ERRORS
        raise error_for(failed, errors, secrets=(self._secret,)) from None


def _answered(f: Failed) -> GitHubError:
    return GitHubError(f"{f.what}: GitHub answered {f.status}" + (f" {f.detail}" if f.detail else ""), status=f.status)


def _rate_limited(f: Failed) -> GitHubError:
    wait = f"retry in {f.retry_after:.0f} s" if f.retry_after is not None else "retry later"
    return GitHubError(f"{f.what}: GitHub rate limited the token ({f.status} {f.detail}); {wait}", status=f.status)


# What each kind of failure becomes (`_http.error_for`); PyGithub's own retries (GithubRetry) come first.
_ERRORS: ErrorTable = {
    "unauthorized": lambda f: GitHubError(
        f"{f.what}: GitHub rejected the token (401 {f.detail or 'Bad credentials'}); check github_token", status=401
    ),
    "rate_limited": _rate_limited,
    "unreachable": lambda f: GitHubError(f"{f.what}: cannot reach the GitHub API at {f.where} ({f.detail})"),
    "other": _answered,
}


def _with_marker(body: str, marker: str) -> str:
    """`body` with `marker` (appended if absent), cut to GitHub's comment limit with the marker kept."""
    text = body if marker in body else f"{body.rstrip()}\n\n{marker}"
    if len(text) <= MAX_COMMENT:
        return text
    note = _TRUNCATED.format(limit=MAX_COMMENT) + f"\n{marker}"
    return text[: MAX_COMMENT - len(note)] + note


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    note = _TRUNCATED.format(limit=limit)
    return text[: limit - len(note)] + note


def _is_ours(comment: IssueComment, marker: str, login: str | None) -> bool:
    if marker not in (comment.body or ""):
        return False
    user = comment.user
    if login is not None:
        return user is not None and user.login == login
    return user is not None and user.type == "Bot"


def _github_exception(error: Exception) -> GithubException | None:
    try:
        from github.GithubException import GithubException
    except ImportError:  # pragma: no cover - the constructor already needed PyGithub
        return None
    return error if isinstance(error, GithubException) else None


def _status(error: Exception) -> int | None:
    found = _github_exception(error)
    return found.status if found is not None else None


def _headers(error: Exception) -> dict[str, str] | None:
    found = _github_exception(error)
    return dict(found.headers or {}) if found is not None else None


def _message(error: Exception) -> str:
    found = _github_exception(error)
    if found is None:
        return ""
    data: Any = found.data
    message = data.get("message") if isinstance(data, dict) else None
    return str(message) if message else (found.message or "")


def _is_rate_limit(error: Exception) -> bool:
    try:
        from github.GithubException import RateLimitExceededException
    except ImportError:  # pragma: no cover
        return False
    return isinstance(error, RateLimitExceededException)
