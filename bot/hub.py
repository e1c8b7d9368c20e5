"""The Hub edge: the only module that imports HfApi. Read-only calls for now.

Every HTTP failure is turned into a typed `HubError` here, once, with a message that says
what to do (wrong id, missing token, gated repo, rate limit).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx2
from huggingface_hub import HfApi
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from bot.config import Settings
from bot.errors import HubError, InputError, RepoNotFoundError

EVAL_RESULTS_DIR = ".eval_results"


@dataclass(frozen=True)
class RepoFiles:
    """A model repo's README and `.eval_results/*.yaml`, read at one commit."""

    repo_id: str
    sha: str
    readme: str
    eval_results: dict[str, str]


class HubReader:
    """Reads model cards from the Hub (or a local stand-in via HF_ENDPOINT)."""

    def __init__(self, settings: Settings) -> None:
        token = settings.hf_token.reveal() if settings.hf_token else False
        self._api = HfApi(endpoint=settings.hf_endpoint, token=token)

    def read_repo(self, repo_id: str, revision: str | None = None) -> RepoFiles:
        """README and `.eval_results/` files at the repo's current (or given) revision."""
        try:
            info = self._api.model_info(repo_id, revision=revision, files_metadata=False)
            sha = info.sha or (revision or "main")
            names = [s.rfilename for s in info.siblings or ()]
            if "README.md" not in names:
                raise InputError(f"{repo_id} has no README.md; there is no card to read")
            readme = self._read_text(repo_id, "README.md", sha)
            eval_results = {
                name: self._read_text(repo_id, name, sha)
                for name in sorted(names)
                if name.startswith(f"{EVAL_RESULTS_DIR}/") and name.endswith((".yaml", ".yml"))
            }
        except GatedRepoError as e:
            raise HubError(f"{repo_id} is gated: accept its terms on the Hub and set HF_TOKEN") from e
        except RepositoryNotFoundError as e:
            raise RepoNotFoundError(repo_id) from e
        except RevisionNotFoundError as e:
            raise InputError(f"{repo_id} has no revision {revision!r}") from e
        except HfHubHTTPError as e:
            raise HubError(f"Hub request for {repo_id} failed: {_one_line(e)}") from e
        except (OSError, httpx2.TransportError) as e:  # connection refused, DNS, timeouts
            raise HubError(f"cannot reach the Hub for {repo_id}: {_one_line(e)}; check HF_ENDPOINT") from e
        return RepoFiles(repo_id, sha, readme, eval_results)

    def _read_text(self, repo_id: str, filename: str, revision: str) -> str:
        try:
            path = self._api.hf_hub_download(repo_id, filename, revision=revision)
        except (EntryNotFoundError, RemoteEntryNotFoundError) as e:
            raise InputError(f"{repo_id} has no {filename} at {revision[:12]}") from e
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:300]
