"""The Hub edge: the only module that imports HfApi (DESIGN §2).

Every Hub call, HF Jobs included, goes through `HubClient._retry`: one tenacity loop
(`bot.edges._http.retrying`) with backoff that honours `Retry-After` and the `RateLimit` reset,
then `_translate`, the one place where a failure becomes a typed `HubError` with a message that
says what to do (the token scrubbed from it). Reads are retried on 429, 408/5xx and lost
connections. Writes are not idempotent (a commit with `create_pr` opens a new PR each time, a
`run_job` starts a second job), so they are retried only when the Hub said it did not apply them
(429); any other lost answer is an `AmbiguousWriteError` and the caller re-lists before writing
again (DESIGN §5, crash safety).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx2
from httpx2._utils import get_environment_proxies
from huggingface_hub import CommitOperationAdd, HfApi, JobInfo, get_session, hf_hub_url, set_client_factory
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.errors import GatedRepoError as HfGatedRepoError
from huggingface_hub.hf_api import ExpandModelProperty_T
from huggingface_hub.utils import build_hf_headers, hf_raise_for_status
from huggingface_hub.utils._http import hf_request_event_hook
from tenacity import RetryCallState

from bot.config.settings import Settings
from bot.core.plan import Plan, PrInfo, parse_markers
from bot.edges._http import (
    ErrorTable,
    Failed,
    Failure,
    error_for,
    failure_of,
    retry_after,
    retryable,
    retrying,
    scrub,
)
from bot.edges._http import RetryPolicy as RetryPolicy  # re-exported: callers configure the Hub's retries
from bot.edges._pacing import PacedTransport, Pacer
from bot.errors import (
    AmbiguousWriteError,
    AuthError,
    BotError,
    GatedRepoError,
    HubError,
    InputError,
    NoWriteAccessError,
    RateLimitedError,
    RepoNotFoundError,
    StaleParentError,
    one_line,
)

logger = logging.getLogger(__name__)

EVAL_RESULTS_DIR = ".eval_results"
_T = TypeVar("_T")

# One pacer for the process: the quota belongs to the token, whichever HubClient spends it.
PACER = Pacer()
_pacing_installed = False
_pacing_lock = threading.Lock()


def install_pacing() -> None:
    """Route every request huggingface_hub sends through `PACER` (once per process).

    huggingface_hub shares one httpx2 client; its factory is replaced by one that builds the
    same client (its request hook, redirects, no timeout) over a `PacedTransport`.
    """
    global _pacing_installed
    with _pacing_lock:
        if _pacing_installed:
            return
        set_client_factory(paced_client)
        _pacing_installed = True


def paced_client() -> httpx2.Client:
    """huggingface_hub's default client (its request hook, redirects, no timeout, the proxies the
    environment names) with every transport paced by `PACER`.

    httpx2 reads proxy variables only when it builds the transport itself, so the proxies are
    mounted here, each behind the pacer too.
    """
    proxies = {
        key: None if url is None else PacedTransport(httpx2.HTTPTransport(proxy=url), PACER)
        for key, url in get_environment_proxies().items()
    }
    return httpx2.Client(
        transport=PacedTransport(httpx2.HTTPTransport(), PACER),
        mounts=proxies,
        event_hooks={"request": [hf_request_event_hook]},
        follow_redirects=True,
        timeout=None,
    )


@dataclass(frozen=True)
class Snapshot:
    """A model repo at one commit: what the pipeline needs to plan (DESIGN §1 step 1)."""

    repo_id: str
    sha: str
    readme: str | None  # None: the repo has no README.md
    eval_results: Mapping[str, str]
    private: bool = False
    gated: bool = False
    date: str | None = None  # the commit's date (ISO 8601 "YYYY-MM-DD"), when the Hub says
    files: tuple[str, ...] = ()  # every file path at `sha` (model_info's siblings: no extra request)


@dataclass(frozen=True)
class RepoHead:
    """What a listing says of a model repo: enough to tell whether a scan must read it at all."""

    repo_id: str
    sha: str | None  # main's commit; None when the Hub did not say
    private: bool = False
    gated: bool = False
    card_data: Mapping[str, Any] | None = None  # the card's front matter, as the Hub parsed it


# The listing fields a scan's precheck reads (reference/hub-protocol.md §1: `expand`).
HEAD_FIELDS: tuple[ExpandModelProperty_T, ...] = ("sha", "lastModified", "cardData", "private", "gated")


@dataclass(frozen=True)
class Identity:
    """Who the token belongs to."""

    name: str
    orgs: tuple[str, ...] = ()
    id: str | None = None  # the Hub's user id: webhook payloads name authors by id only


@dataclass(frozen=True)
class CommitResult:
    pr_num: int | None
    pr_url: str | None
    oid: str | None


class HubClient:
    """The handful of Hub calls evalbot makes, with retries and typed errors."""

    def __init__(self, settings: Settings, *, retry: RetryPolicy | None = None) -> None:
        self._token = settings.hf_token.reveal() if settings.hf_token else None
        self._endpoint = settings.hf_endpoint
        self._api = HfApi(endpoint=settings.hf_endpoint, token=self._token or False)
        self._retry_policy = retry or RetryPolicy()
        install_pacing()
        self._identity: Identity | None = None
        self._lock = threading.Lock()
        self.requests = 0  # Hub calls made (each retry counts), for benchmarks and logs

    def __repr__(self) -> str:  # never show the token
        return f"HubClient(endpoint={self._endpoint!r}, token={'***' if self._token else None})"

    # ---- reads ------------------------------------------------------------------------

    def whoami(self) -> Identity:
        """The token's user and orgs (cached). `AuthError` without a valid token."""
        if self._identity is None:
            if not self._token:
                raise AuthError(
                    "no Hub token: set HF_TOKEN or run `hf auth login` (evalbot needs a token to write to the Hub)"
                )
            data = self._read("whoami", None, lambda: self._api.whoami())
            orgs = tuple(str(o.get("name")) for o in data.get("orgs", ()) if isinstance(o, dict))
            user_id = data.get("id")
            self._identity = Identity(str(data["name"]), orgs, str(user_id) if user_id else None)
        return self._identity

    def snapshot(self, repo_id: str, revision: str | None = None) -> Snapshot:
        """Sha, README and `.eval_results/` files in few requests: model_info, then one GET each."""
        info = self._read(
            "read the repo", repo_id, lambda: self._api.model_info(repo_id, revision=revision, files_metadata=False)
        )
        sha = info.sha or revision or "main"
        names = sorted(s.rfilename for s in info.siblings or ())
        readme = self.read_file(repo_id, "README.md", sha) if "README.md" in names else None
        eval_results = {
            name: self.read_file(repo_id, name, sha)
            for name in names
            if name.startswith(f"{EVAL_RESULTS_DIR}/") and name.endswith((".yaml", ".yml"))
        }
        gated = bool(getattr(info, "gated", False))
        modified = getattr(info, "last_modified", None)
        date = modified.date().isoformat() if modified is not None else None
        return Snapshot(repo_id, sha, readme, eval_results, bool(info.private), gated, date, tuple(names))

    def read_file(self, repo_id: str, path: str, revision: str) -> str:
        """One file's text at `revision` (a single GET, no HEAD)."""
        url = hf_hub_url(repo_id, path, revision=revision, endpoint=self._endpoint)
        try:
            return self._read(f"read {path}", repo_id, lambda: self._get(url).content.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise InputError(f"{repo_id}: {path} is not UTF-8 text") from e

    def read_bytes(self, repo_id: str, path: str, revision: str, *, repo_type: str = "model") -> bytes:
        """One file's bytes at `revision` (a single GET): result files may be binary (`.eval` zips)."""
        url = hf_hub_url(repo_id, path, revision=revision, repo_type=repo_type, endpoint=self._endpoint)
        return self._read(f"read {path}", repo_id, lambda: bytes(self._get(url).content))

    def list_dataset_folder(self, dataset_id: str, folder: str) -> list[str]:
        """The file paths directly under `folder` in a dataset repo (one tree listing); [] when
        the folder does not exist (the Hub answers 404 for a missing path)."""

        def listing() -> list[str]:
            try:
                entries = self._api.list_repo_tree(dataset_id, path_in_repo=folder, repo_type="dataset")
                return [e.path for e in entries if getattr(e, "size", None) is not None]  # files, not folders
            except (EntryNotFoundError, RemoteEntryNotFoundError):
                return []

        return self._read(f"list {folder}", dataset_id, listing)

    def list_prs(
        self,
        repo_id: str,
        *,
        bot_user: str | None,
        known: Mapping[int, tuple[str, str]] | None = None,
        all_details: bool = False,
    ) -> list[PrInfo]:
        """Every PR of the repo (all pages), with evalbot's markers read where needed.

        `known` maps PR numbers to (source, fingerprint) from the ledger: those bot PRs need
        no details request. Human PRs are looked at only while open (do they edit results?),
        unless `all_details` asks for every PR (`get-prs`).
        """
        known = known or {}
        discussions = self._read(
            "list pull requests",
            repo_id,
            lambda: list(self._api.get_repo_discussions(repo_id, discussion_type="pull_request")),
        )
        prs = []
        for d in discussions:
            author = d.author or ""
            is_bot = bot_user is not None and author == bot_user
            if is_bot and d.num in known:
                source, fingerprint = known[d.num]
                prs.append(PrInfo(d.num, d.title, d.status, author, source, fingerprint))
            elif all_details or is_bot or bot_user is None or d.status in ("open", "draft"):
                prs.append(self._pr_details(repo_id, d.num, bot_user))
        return prs

    def _pr_details(self, repo_id: str, num: int, bot_user: str | None) -> PrInfo:
        details = self._read(f"read PR #{num}", repo_id, lambda: self._api.get_discussion_details(repo_id, num))
        author = details.author or ""
        texts = [
            str(getattr(e, "content", "") or "")
            for e in details.events
            if e.type == "comment" and (bot_user is None or e.author == bot_user)
        ]
        markers = [m for text in texts for m in parse_markers(text)]
        diff = details.diff or ""
        touches = "model-index" in diff or f"{EVAL_RESULTS_DIR}/" in diff  # evalbot's own results PRs too
        if markers and (bot_user is None or author == bot_user):
            last = markers[-1]
            return PrInfo(
                num,
                details.title,
                details.status,
                author,
                str(last["source"]),
                str(last.get("fingerprint") or ""),
                str(last.get("base") or ""),
                touches_results=touches,
            )
        return PrInfo(num, details.title, details.status, author, touches_results=touches)

    def pr_head(self, repo_id: str, num: int) -> str:
        """The commit at the tip of `refs/pr/num` (the parent for an update)."""
        refs = self._read("list refs", repo_id, lambda: self._api.list_repo_refs(repo_id, include_pull_requests=True))
        for ref in refs.pull_requests or ():
            if ref.ref == f"refs/pr/{num}":
                return str(ref.target_commit)
        raise HubError(f"{repo_id}: PR #{num} has no refs/pr/{num}; it may have been deleted")

    def has_comment_with(self, repo_id: str, num: int, text: str) -> bool:
        details = self._read(f"read PR #{num}", repo_id, lambda: self._api.get_discussion_details(repo_id, num))
        return any(text in str(getattr(e, "content", "") or "") for e in details.events if e.type == "comment")

    def comment_author(self, repo_id: str, num: int, comment_id: str) -> str:
        """The user name behind a comment (webhook payloads only carry author ids)."""
        details = self._read(f"read PR #{num}", repo_id, lambda: self._api.get_discussion_details(repo_id, num))
        for event in details.events:
            if event.id == comment_id:
                return str(event.author)
        raise InputError(f"{repo_id}: discussion #{num} has no comment {comment_id}")

    def org_members(self, org: str) -> list[str]:
        """Public members of an org; [] when `org` is a user, not an org."""
        try:
            members = self._read("list org members", None, lambda: list(self._api.list_organization_members(org)))
        except RepoNotFoundError:
            return []
        except HubError as e:
            if "not found" in str(e).lower():
                return []
            raise
        return sorted(m.username for m in members)

    def list_benchmarks(self) -> list[str]:
        """The ids of the Hub's registered benchmark datasets (`list_datasets(benchmark=True)`, all pages)."""
        datasets = self._read("list benchmarks", None, lambda: list(self._api.list_datasets(benchmark=True)))
        return sorted(d.id for d in datasets)

    def read_dataset_file(self, dataset_id: str, path: str) -> str | None:
        """A dataset repo file's text on main; None when the repo has no such file."""
        url = hf_hub_url(dataset_id, path, repo_type="dataset", endpoint=self._endpoint)
        try:
            return self._read(f"read {path}", dataset_id, lambda: self._get(url).content.decode("utf-8"))
        except InputError:
            return None  # no such file
        except UnicodeDecodeError as e:
            raise InputError(f"{dataset_id}: {path} is not UTF-8 text") from e

    def read_dataset_bytes(self, dataset_id: str, path: str) -> tuple[bytes | None, str | None]:
        """A dataset file's bytes on main and the commit they were read at; (None, None) when the
        repo has no such file. `RepoNotFoundError` when the dataset is not there."""
        url = hf_hub_url(dataset_id, path, repo_type="dataset", endpoint=self._endpoint)

        def get() -> tuple[bytes, str | None]:
            response = self._get(url)
            return response.content, response.headers.get("X-Repo-Commit")

        try:
            content, commit = self._read(f"read {path}", dataset_id, get)
        except InputError:
            return None, None  # no such file (yet)
        return content, commit

    def leaderboard_values(self, dataset_id: str) -> list[float]:
        """Every value on a benchmark's leaderboard, fine-tunes included (`base_model=false`).

        The Hub answers 404 for a dataset that has no leaderboard (yet); for a registered
        benchmark that means no entries, so it is an empty list, not an error.
        """

        def read() -> list[Any]:
            try:
                return list(self._api.get_dataset_leaderboard(dataset_id, base_model_only=False))
            except HfHubHTTPError as e:
                if http_status(e) == 404:
                    return []
                raise

        entries = self._read("read the leaderboard", dataset_id, read)
        return [float(e.value) for e in entries if isinstance(e.value, int | float) and not isinstance(e.value, bool)]

    def list_repos(self, author: str) -> list[str]:
        """Model repos of a user or org (all pages)."""
        return sorted(head.repo_id for head in self.list_heads(author))

    def list_heads(self, author: str) -> list[RepoHead]:
        """Every model repo of a user or org with its sha and precheck fields: one paginated listing."""
        models = self._read(
            "list models", None, lambda: list(self._api.list_models(author=author, expand=list(HEAD_FIELDS)))
        )
        return sorted((_head(m) for m in models), key=lambda h: h.repo_id)

    def head(self, repo_id: str) -> RepoHead:
        """One repo's sha and precheck fields (`model_info` with the listing's fields)."""
        info = self._read("read the repo", repo_id, lambda: self._api.model_info(repo_id, expand=list(HEAD_FIELDS)))
        return _head(info)

    def parameter_count(self, repo_id: str) -> int | None:
        """The model's parameter count from its safetensors metadata (None when the Hub has none)."""
        info = self._read("read the repo", repo_id, lambda: self._api.model_info(repo_id, expand=["safetensors"]))
        safetensors = getattr(info, "safetensors", None)
        total = getattr(safetensors, "total", None)
        return int(total) if isinstance(total, int) else None

    def download_snapshot(self, repo_id: str, revision: str) -> Path:
        """The repo's files at `revision` on local disk (huggingface_hub's cache), for an evaluation."""
        path = self._read(
            f"download the model at {revision[:12]}",
            repo_id,
            lambda: self._api.snapshot_download(repo_id, revision=revision),
        )
        return Path(path)

    # ---- writes -----------------------------------------------------------------------

    def upload_file(
        self,
        repo_id: str,
        path_in_repo: str,
        content: bytes,
        *,
        repo_type: str = "model",
        parent_commit: str | None = None,
    ) -> None:
        """One file straight to main (the evaluation results dataset, the hook's ledger; never a model
        card). With `parent_commit`, a main that moved since is a `StaleParentError`."""
        self._write(
            f"upload {path_in_repo}",
            repo_id,
            lambda: self._api.upload_file(
                path_or_fileobj=content,
                path_in_repo=path_in_repo,
                repo_id=repo_id,
                repo_type=repo_type,
                parent_commit=parent_commit,
            ),
        )

    def publish(self, repo_id: str, plan: Plan, *, parent: str) -> CommitResult:
        """Carry out an open/update/push plan as one commit with `parent_commit`."""
        operations = [
            CommitOperationAdd(path_in_repo=path, path_or_fileobj=text.encode("utf-8"))
            for path, text in sorted(plan.files.items())
        ]
        if plan.action == "open":
            kwargs: dict[str, Any] = {"create_pr": True, "commit_description": plan.body}
        elif plan.action == "update":
            kwargs = {"revision": f"refs/pr/{plan.pr_num}", "commit_description": ""}
        elif plan.action == "push":
            kwargs = {"revision": "main", "commit_description": plan.body}
        else:
            raise ValueError(f"plan {plan.action!r} does not write")
        info = self._write(
            f"{plan.action} a pull request" if plan.action != "push" else "push to main",
            repo_id,
            lambda: self._api.create_commit(
                repo_id, operations, commit_message=plan.title, parent_commit=parent, **kwargs
            ),
        )
        return CommitResult(info.pr_num, info.pr_url, info.oid)

    def edit_description(self, repo_id: str, num: int, text: str) -> None:
        """Replace a PR's description (its first comment) with `text`; editing twice is harmless."""
        details = self._read(f"read PR #{num}", repo_id, lambda: self._api.get_discussion_details(repo_id, num))
        first = next((e for e in details.events if e.type == "comment"), None)
        if first is None:
            raise HubError(f"{repo_id}: PR #{num} has no description to edit")
        self._write(
            f"edit the description of PR #{num}",
            repo_id,
            lambda: self._api.edit_discussion_comment(repo_id, num, first.id, text),
        )

    def comment(self, repo_id: str, num: int, text: str) -> None:
        self._write(f"comment on PR #{num}", repo_id, lambda: self._api.comment_discussion(repo_id, num, text))

    # ---- HF Jobs ----------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """The Hub's base URL (links to files on it)."""
        return str(self._api.endpoint)

    def run_job(
        self,
        *,
        image: str,
        command: list[str],
        env: dict[str, Any],
        secrets: dict[str, Any],
        flavor: str,
        timeout: int,
        labels: dict[str, str],
        namespace: str,
    ) -> JobInfo:
        """Start an HF Jobs job. Not idempotent: retried only on 429; an answer lost any other way
        is an `AmbiguousWriteError` (the job may have started: list the jobs by label first)."""
        return self._write(
            "start a job",
            f"the jobs namespace {namespace}",
            lambda: self._api.run_job(
                image=image,
                command=command,
                env=env,
                secrets=secrets,
                flavor=flavor,
                timeout=timeout,
                labels=labels,
                namespace=namespace,
            ),
            errors=_JOBS_ERRORS,
        )

    def inspect_job(self, job_id: str, *, namespace: str) -> JobInfo:
        return self._read(
            f"check job {job_id}",
            None,
            lambda: self._api.inspect_job(job_id=job_id, namespace=namespace),
            errors=_JOBS_ERRORS,
        )

    def list_jobs(self, *, labels: dict[str, str], namespace: str) -> list[JobInfo]:
        """The jobs of `namespace` carrying all of `labels`."""
        return self._read(
            "list the jobs",
            None,
            lambda: list(self._api.list_jobs(labels=labels, namespace=namespace)),
            errors=_JOBS_ERRORS,
        )

    def cancel_job(self, job_id: str, *, namespace: str) -> None:
        self._read(
            f"cancel job {job_id}",
            None,
            lambda: self._api.cancel_job(job_id=job_id, namespace=namespace),
            errors=_JOBS_ERRORS,
        )

    def job_logs(self, job_id: str, *, namespace: str, tail: int) -> list[str]:
        """The job's last `tail` log lines."""
        return self._read(
            f"read the logs of job {job_id}",
            None,
            lambda: list(self._api.fetch_job_logs(job_id=job_id, namespace=namespace, tail=tail)),
            errors=_JOBS_ERRORS,
        )

    def download_file(
        self,
        repo_id: str,
        path: str,
        *,
        repo_type: str = "model",
        revision: str = "main",
        cache_dir: Path | None = None,
    ) -> Path | None:
        """A file of a repo in the local cache (huggingface_hub's, or `cache_dir`); None when the repo
        has no such file."""

        def download() -> Path | None:
            try:
                return Path(
                    self._api.hf_hub_download(
                        repo_id, path, repo_type=repo_type, revision=revision, cache_dir=cache_dir
                    )
                )
            except RemoteEntryNotFoundError:
                return None

        return self._read(f"download {path}", repo_id, download)

    # ---- retries and errors -----------------------------------------------------------

    def _get(self, url: str) -> httpx2.Response:
        """One GET of a file URL with the token (no HEAD first); HTTP errors as huggingface_hub raises them."""
        response = get_session().get(url, headers=build_hf_headers(token=self._token or False))
        hf_raise_for_status(response)
        return response

    def _count(self, call: Callable[[], _T]) -> Callable[[], _T]:
        def counted() -> _T:
            with self._lock:
                self.requests += 1
            return call()

        return counted

    def _read(self, what: str, repo_id: str | None, call: Callable[[], _T], *, errors: ErrorTable | None = None) -> _T:
        return self._retry(what, repo_id, call, write=False, errors=errors or _HUB_ERRORS)

    def _write(self, what: str, repo_id: str, call: Callable[[], _T], *, errors: ErrorTable | None = None) -> _T:
        # Only a 429 is known not to have been applied; anything else may have been.
        return self._retry(what, repo_id, call, write=True, errors=errors or _HUB_ERRORS)

    def _retry(self, what: str, repo_id: str | None, call: Callable[[], _T], *, write: bool, errors: ErrorTable) -> _T:
        """The one retry loop of every Hub call: `_http.retrying` with the Hub's refusals, then
        `_translate` for what remains."""
        loop = retrying(
            self._retry_policy,
            retry_on=lambda e: retryable(failure_kind(e), write=write),
            retry_after_of=retry_after_seconds,
            before_sleep=lambda state: logger.info(
                "%s: %s failed (%s), retrying", repo_id or "hub", what, describe_attempt(state)
            ),
        )
        try:
            return loop(self._count(call))
        except Exception as e:
            raise _translate(e, what, repo_id, write=write, errors=errors, secrets=(self._token or "",)) from e


def _head(info: Any) -> RepoHead:
    card = getattr(info, "card_data", None)
    data = card.to_dict() if card is not None and hasattr(card, "to_dict") else None
    return RepoHead(
        str(info.id),
        str(info.sha) if info.sha else None,
        bool(info.private),
        bool(getattr(info, "gated", False)),
        data,
    )


def http_status(error: BaseException | None) -> int | None:
    """The HTTP status of the answer an error carries (huggingface_hub's and httpx2's errors carry it)."""
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None) if response is not None else None


def retry_after_seconds(error: BaseException | None) -> float | None:
    """How long the answer an error carries asks to wait (`_http.retry_after` of its headers)."""
    response = getattr(error, "response", None)
    return retry_after(response.headers) if response is not None else None


def failure_kind(error: BaseException) -> Failure:
    """What kind of failure a huggingface_hub call raised: by its answer's status, or no answer."""
    if isinstance(error, httpx2.TransportError):
        return "unreachable"
    return failure_of(http_status(error)) if isinstance(error, HfHubHTTPError) else "other"


def describe_attempt(state: RetryCallState) -> str:
    error = state.outcome.exception() if state.outcome else None
    status = http_status(error)
    return f"HTTP {status}" if status else type(error).__name__


def _forbidden(hint: str) -> Callable[[Failed], BotError]:
    return lambda f: NoWriteAccessError(f"the token's user may not {f.what} on {f.where} ({f.detail}); {hint}")


def _could_not(f: Failed) -> BotError:
    return HubError(f"could not {f.what} on {f.where}: {f.detail}")


def _no_answer(f: Failed) -> BotError:
    if f.write:
        return AmbiguousWriteError(f"{f.what} on {f.where}: the Hub's answer was lost ({f.detail})")
    if f.failure == "unreachable":
        reach = f"cannot reach the Hub to {f.what} on {f.where} ({f.detail})"
        return HubError(f"{reach}; check HF_ENDPOINT and the network")
    return _could_not(f)


def _conflict(f: Failed) -> BotError:
    if f.status == 412:
        changed = f"{f.where} changed while evalbot was working ({f.what})"
        return StaleParentError(f"{changed}; evalbot re-reads and re-plans")
    return _could_not(f)


def _jobs_other(f: Failed) -> BotError:
    if f.status == 402:
        return HubError(f"could not {f.what}: HF Jobs need credits on the account or organization ({f.detail})")
    return _could_not(f)


# What each kind of Hub failure becomes (`_http.error_for`); HF Jobs differ in two messages.
_HUB_ERRORS: ErrorTable = {
    "unauthorized": lambda f: AuthError(
        f"the Hub rejected HF_TOKEN when trying to {f.what} on {f.where}; set a valid token"
    ),
    "forbidden": _forbidden("use a token with write access, or open pull requests instead of pushing"),
    "conflict": _conflict,
    "rate_limited": lambda f: RateLimitedError(f"{f.what} on {f.where}", f.retry_after),
    "transient": _no_answer,
    "unreachable": _no_answer,
    "other": _could_not,
}
_JOBS_ERRORS: ErrorTable = {
    **_HUB_ERRORS,
    "forbidden": _forbidden("check the jobs namespace and the token's rights"),
    "other": _jobs_other,
}


def _translate(
    error: Exception, what: str, repo_id: str | None, *, write: bool, errors: ErrorTable, secrets: tuple[str, ...]
) -> Exception:
    """A Hub failure as an evalbot error that says what to do: huggingface_hub's own error types
    first (they tell a repo from a file), then the answer's status through `_http.error_for`."""
    if isinstance(error, HubError):
        return error
    where = repo_id or "the Hub"
    if isinstance(error, HfGatedRepoError):
        return GatedRepoError(repo_id or "?")
    if isinstance(error, RepositoryNotFoundError) and repo_id:
        return RepoNotFoundError(repo_id)
    if isinstance(error, RevisionNotFoundError):
        return InputError(scrub(f"{where}: no such revision ({_server_message(error)})", secrets))
    status = http_status(error)
    transport = status is None and isinstance(error, (httpx2.TransportError, OSError))
    if isinstance(error, (EntryNotFoundError, RemoteEntryNotFoundError)) and not isinstance(
        error,
        LocalEntryNotFoundError,  # hf_hub_download could not reach the Hub: not a missing file
    ):
        return InputError(scrub(f"{where}: file not found ({_server_message(error)})", secrets))
    failure = failure_of(status, transport=transport)
    if failure == "other" and isinstance(error, ValueError) and "metadata" in str(error).lower():
        return InputError(scrub(f"{where}: the Hub rejected the card's metadata: {_short(error)}", secrets))
    # a write whose request may have been sent: an answer lost in transport, or a 5xx
    ambiguous = write and (status is not None or isinstance(error, httpx2.TransportError))
    detail = _server_message(error) if status in (402, 403) else _short(error)
    failed = Failed(failure, status, what, where, detail, retry_after_seconds(error), ambiguous)
    return error_for(failed, errors, secrets=secrets)


def _server_message(error: BaseException) -> str:
    message = getattr(error, "server_message", None)
    return one_line(message or error)[:200]


def _short(error: BaseException) -> str:
    return one_line(error)[:300] or type(error).__name__
