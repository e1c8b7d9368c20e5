"""Scans (`evalbot scan`): which repos to run, read with as few Hub requests as possible.

An owner's repos come from one paginated listing that carries each repo's sha and the fields
the precheck needs (`bot.edges.hub.HEAD_FIELDS`). Each job carries that sha as its `revision`, so a
repo whose (sha, source) the ledger already handled costs no further request (`App.run`) when
its sources read only the repo's own files (`REPO_ONLY_SOURCES`), and
a repo the precheck refuses (private or gated without `EVALBOT_ALLOW_PRIVATE`, `evalbot: ignore`
in the card's metadata) costs none either. A repos file goes through the same listing for every
owner it names at least twice (one listing is then no dearer than the reads it replaces), and
through one `model_info` per repo otherwise; a repo the listing does not show runs without a
sha, and the pipeline reports what is wrong with it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from bot.app.pipeline import App, Job, Report, run_many
from bot.core.plan import opted_out_in_card
from bot.edges.hub import HubClient, RepoHead
from bot.errors import HubError

LISTING_THRESHOLD = 2  # repos of one owner in a repos file from which its listing is read
# Sources whose scores come from the repo's own files at the commit: for them, "this sha was handled"
# means "nothing new". Artificial Analysis and evaluations change without a commit: jobs that
# include them carry no sha, and each scan looks again (as before listing-based scans).
REPO_ONLY_SOURCES = frozenset({"readme", "results"})


def heads_for_author(hub: HubClient, author: str) -> list[RepoHead]:
    """Every model repo of `author`, with its sha (one paginated listing)."""
    return hub.list_heads(author)


def heads_for_repos(hub: HubClient, repos: Sequence[str]) -> list[RepoHead | str]:
    """`repos` in their order, each as its `RepoHead`, or its bare id where the Hub did not say."""
    per_owner = Counter(repo.split("/", 1)[0] for repo in repos)
    known: dict[str, RepoHead] = {}
    for owner, count in per_owner.items():
        if count >= LISTING_THRESHOLD:
            known.update((h.repo_id, h) for h in hub.list_heads(owner))
    found: list[RepoHead | str] = []
    for repo in repos:
        if repo in known:
            found.append(known[repo])
        elif per_owner[repo.split("/", 1)[0]] >= LISTING_THRESHOLD:
            found.append(repo)  # not in its owner's listing: the run says why (missing, private, a typo)
        else:
            try:
                found.append(hub.head(repo))
            except HubError:
                found.append(repo)  # the run reports the same failure, in its place
    return found


def precheck(head: RepoHead, job: Job, *, allow_private: bool) -> list[Report] | None:
    """The reports for a repo the listing alone rules out (no request), or None to run it."""
    reason = kind = None
    if (head.private or head.gated) and not allow_private:
        visibility = "private" if head.private else "gated"
        reason, kind = f"{visibility} repo (set EVALBOT_ALLOW_PRIVATE=true to include it)", "not_eligible"
    elif head.card_data is not None and opted_out_in_card(head.card_data):
        reason, kind = "opted out (evalbot: ignore in the card's metadata)", "opted_out"
    if reason is None or kind is None:
        return None
    return [Report(head.repo_id, s, "skipped", reason, head.sha or "", plan="skip", kind=kind) for s in job.sources]


def plan_scan(targets: Sequence[RepoHead | str], base: Job, *, allow_private: bool) -> list[Job | list[Report]]:
    """Per target, in order: the job to run (`base` on its repo, with its sha where that settles
    it), or the reports of a precheck that ruled it out."""
    planned: list[Job | list[Report]] = []
    for target in targets:
        if isinstance(target, str):
            planned.append(replace(base, repo_id=target))
            continue
        repo_only = set(base.sources) <= REPO_ONLY_SOURCES
        job = replace(base, repo_id=target.repo_id, revision=target.sha if repo_only else None)
        skipped = precheck(target, job, allow_private=allow_private)
        planned.append(job if skipped is None else skipped)
    return planned


def run_scan(
    app: App, targets: Sequence[RepoHead | str], base: Job, *, workers: int, progress: bool = False
) -> list[Report]:
    """Run `base` on every target (its repo and sha); reports come back in the targets' order."""
    planned = plan_scan(targets, base, allow_private=app.settings.allow_private)
    jobs = [item for item in planned if isinstance(item, Job)]
    by_repo: dict[str, list[Report]] = {}
    for report in run_many(app, jobs, workers=workers, progress=progress):
        by_repo.setdefault(report.repo_id, []).append(report)
    return [r for item in planned for r in (by_repo.get(item.repo_id, []) if isinstance(item, Job) else item)]
