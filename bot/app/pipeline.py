"""The pipeline of DESIGN §1, and nothing else: snapshot → precheck → collect → apply → plan →
publish → report. Every entry point (CLI, scan, webhook worker, Action) builds a `Job` and
calls `App.run`; every Hub write goes through `decide` (the dedupe gate) and `_publish`.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from typing import Literal

import jinja2
from tqdm.auto import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from bot import __version__
from bot.app import leaderboard_source, results_source
from bot.app.evaluations import EvalService
from bot.config.file import OPEN_LLM_LEADERBOARD
from bot.config.file import SOURCES as WATCHED_SOURCES
from bot.config.settings import Settings
from bot.core import _deadline, result_files
from bot.core.benchmarks import with_task_types
from bot.core.card import DEFAULT_FORMATS, Card, CardChange, apply_scores, parse_card
from bot.core.diffs import files_diff
from bot.core.plan import TRANSIENT_KINDS, Budget, Outcome, Plan, Policy, PrInfo, decide
from bot.core.result_files import ResultFile, check_model, newest_first
from bot.core.scores import Score
from bot.core.tables import DEFAULT_MIN_CONFIDENCE
from bot.core.tables import readme as readme_source
from bot.edges import artificial_analysis
from bot.edges.artificial_analysis import AAClient, find_model, pipeline_mismatch, scores_from_model
from bot.edges.hub import CommitResult, HubClient, Snapshot
from bot.edges.registry import BenchmarkRegistry
from bot.edges.store import IntentAction, PrStatus, Store
from bot.errors import (
    AmbiguousWriteError,
    AuthError,
    BotError,
    ConfigError,
    GatedRepoError,
    HubError,
    InputError,
    JobDeadlineError,
    NotAvailableError,
    NoWriteAccessError,
    RepoNotFoundError,
    StaleParentError,
    one_line,
)
from evaluators import Run
from evaluators.request import EvalRequest, check_publishable
from evaluators.settings import ENGINES

logger = logging.getLogger(__name__)

SOURCES = (*WATCHED_SOURCES, "import")  # what evalbot.yaml may name, and `import-results` files
_WRITE_ATTEMPTS = 5  # ambiguous write → re-list → maybe write again; stale parent → re-plan


@dataclass(frozen=True)
class ReadmeOptions:
    """How to read the card's tables (the `extract-readme` flags)."""

    model_name: str | None = None
    table: int | None = None
    model_column_index: int | None = None
    task_type: str | None = None
    dataset_name: str | None = None
    dataset_type: str | None = None


@dataclass(frozen=True)
class AAOptions:
    """Which Artificial Analysis model a repo is (the `import-aa` flags); else evalbot.yaml's `aa:`."""

    model: str | None = None  # an AA model id, or creator/slug, or slug
    creator_slug: str | None = None
    model_name: str | None = None
    force: bool = False  # import even when the card's pipeline_tag is not an LLM's


@dataclass(frozen=True)
class ResultsOptions:
    """The `results`/`leaderboard`/`import` sources: local files read by `import-results`, and what to allow."""

    files: tuple[ResultFile, ...] = ()  # the `import` source's files, already read
    force_model: bool = False  # import files evaluated under another model name
    allow_partial: bool = False  # publish partial runs, marked as partial


@dataclass(frozen=True)
class Job:
    """One unit of work, whatever triggered it (DESIGN §1)."""

    repo_id: str
    sources: tuple[str, ...] = ("readme",)
    revision: str | None = None  # the commit the trigger saw; a repeat of (repo, sha, source) costs nothing
    dry_run: bool = False
    mode: Literal["pr", "push"] = "pr"
    formats: tuple[str, ...] = DEFAULT_FORMATS
    readme: ReadmeOptions = field(default_factory=ReadmeOptions)
    aa: AAOptions = field(default_factory=AAOptions)
    eval: EvalRequest | None = None  # None: the eval: section of evalbot.yaml
    results: ResultsOptions = field(default_factory=ResultsOptions)
    trigger_key: str | None = None


@dataclass(frozen=True)
class Report:
    """What happened for one repo and source."""

    repo_id: str
    source: str
    outcome: Outcome
    reason: str
    sha: str = ""
    pr_num: int | None = None
    pr_url: str | None = None
    fingerprint: str = ""
    diff: str = ""  # with --dry-run: the full unified diff of the proposed change
    plan: str = ""  # the plan's action (none/skip/open/update/push)
    permanent: bool = False  # a failure that retrying cannot fix (missing repo, no access)
    withheld: tuple[str, ...] = ()  # README results below the confidence threshold, with their reasons
    kind: str = ""  # the plan's kind (bot.core.plan.PlanKind): what retry and record decisions read


class App:
    """Runs jobs against one Hub with one ledger."""

    def __init__(
        self,
        settings: Settings,
        hub: HubClient,
        store: Store | None,
        *,
        env: jinja2.Environment,
        aa: AAClient,
        evals: EvalService,
        registry: BenchmarkRegistry,
    ) -> None:
        """Built by `bot.app.compose.build_app`, the one place its parts are made."""
        self.settings = settings
        self.hub = hub
        self.store = store
        self.aa = aa
        self.evals = evals
        self.registry = registry
        self.env = env
        self._owner = f"{socket.gethostname()}:{os.getpid()}"

    def run(self, job: Job) -> list[Report]:
        """Run every source of `job`; failures become reports, never exceptions."""
        unknown = [s for s in job.sources if s not in SOURCES]
        if unknown:
            raise InputError(f"unknown source(s) {', '.join(unknown)}; choose from {', '.join(SOURCES)}")
        if self._already_processed(job):
            return [
                Report(job.repo_id, s, "unchanged", f"already processed at {job.revision}", job.revision or "")
                for s in job.sources
            ]
        if job.dry_run or self.store is None:
            return self._run_unlocked(job)
        owner = f"{self._owner}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"
        if not self._wait_for_lease(job.repo_id, owner):
            reason = "busy: another evalbot run holds this repo; this trigger was coalesced into it"
            return [Report(job.repo_id, s, "skipped", reason, kind="busy") for s in job.sources]
        keeper = LeaseKeeper(self.store, job.repo_id, owner, self.settings.lease_seconds)
        try:
            with keeper:  # an evaluation may run for hours: the lease lives as long as the run
                return self._run_unlocked(job)
        finally:
            if self.store.release_lease(job.repo_id, owner):
                logger.info("%s: triggers arrived while busy; they were covered by this run", job.repo_id)

    def _already_processed(self, job: Job) -> bool:
        if self.store is None or job.revision is None or job.dry_run:
            return False
        return all(self.store.is_processed(job.repo_id, job.revision, self._processed_key(job, s)) for s in job.sources)

    def _processed_key(self, job: Job, source: str) -> str:
        """The ledger's "(repo, sha) handled for this source" key: the PR source and a digest of all else that
        changes the result (evalbot's version, the output formats, the source's options), so an upgrade or a
        new setting looks at an unchanged repo once more; the dedupe gate keeps that second look quiet."""
        options = {
            "readme": (job.readme, self._readme_threshold()),
            "aa": job.aa,
            "eval": job.eval or self.settings.eval_request,
            "results": job.results,
            "import": job.results,
            "leaderboard": self.settings.config.leaderboards if self.settings.config else None,
        }.get(source)
        digest = hashlib.sha256(repr((__version__, job.formats, options)).encode()).hexdigest()[:12]
        return f"{self._pr_source(job, source)}#{digest}"

    def _wait_for_lease(self, repo_id: str, owner: str) -> bool:
        assert self.store is not None
        deadline = time.monotonic() + self.settings.lease_wait_seconds
        while not self.store.acquire_lease(repo_id, owner, self.settings.lease_seconds):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def _run_unlocked(self, job: Job) -> list[Report]:
        reports = []
        for source in job.sources:
            try:
                report = self._run_source(job, source)
            except InputError as e:
                report = Report(job.repo_id, source, "skipped", one_line(e))
            except ConfigError:
                raise  # a bad setting (e.g. AA_API_KEY) fails every repo alike: stop, say it once
            except _PERMANENT as e:
                report = Report(job.repo_id, source, "failed", one_line(e), permanent=True)
            except BotError as e:
                report = Report(job.repo_id, source, "failed", one_line(e))
            logger.info("%r [%s]: %s (%r)", job.repo_id, source, report.outcome, report.reason[:500])
            reports.append(report)
        return reports

    def _run_source(self, job: Job, source: str) -> Report:
        for _attempt in range(_WRITE_ATTEMPTS):
            try:
                return self._attempt(job, source)
            except StaleParentError as e:  # the repo moved under us: read it again and re-plan
                logger.info("%s: %s", job.repo_id, e)
        raise HubError(f"{job.repo_id} kept changing while evalbot worked; try again later")

    def _attempt(self, job: Job, source: str) -> Report:
        policy = self._policy(job)
        if policy.opted_out:
            reason = "opted out (deny-list or @evalbot ignore)"
            return Report(job.repo_id, source, "skipped", reason, plan="skip", kind="opted_out")
        try:
            snapshot = self.hub.snapshot(job.repo_id)
        except GatedRepoError as e:
            return Report(job.repo_id, source, "skipped", one_line(e), plan="skip", kind="not_eligible")
        if (snapshot.private or snapshot.gated) and not self.settings.allow_private:
            kind = "private" if snapshot.private else "gated"
            reason = f"{kind} repo (set EVALBOT_ALLOW_PRIVATE=true to include it)"
            return self._finish(job, source, snapshot, Plan("skip", reason, source, kind="not_eligible"))
        if snapshot.readme is None:
            no_readme = Plan("skip", "the repo has no README.md", source, kind="not_eligible")
            return self._finish(job, source, snapshot, no_readme)
        card = parse_card(snapshot.readme)
        if source == "aa" and not job.aa.force and (mismatch := pipeline_mismatch(card.data)):
            return self._finish(job, source, snapshot, Plan("skip", mismatch, source, kind="not_eligible"))
        scores, details, withheld = self._collect(job, source, snapshot)
        report = self._propose(job, source, snapshot, card, scores, details, policy)
        return replace(report, withheld=withheld) if withheld else report

    def _propose(
        self,
        job: Job,
        source: str,
        snapshot: Snapshot,
        card: Card,
        scores: list[Score],
        details: list[str],
        policy: Policy,
    ) -> Report:
        """Plan the change the scores make to the card, then report it (dry run) or publish it."""
        assert snapshot.readme is not None
        pr_source = self._pr_source(job, source)
        if not (source == "readme" and job.readme.task_type):  # --task-type wins over the card
            scores = with_task_types(scores, card.data.get("pipeline_tag"))
        # What the Hub says about these benchmarks: registered? which eval.yaml task? which scale?
        view = self.registry.view(s.dataset.id for s in scores) if "eval-results" in job.formats else None

        def applied(to: Card, existing_files: Mapping[str, str]) -> CardChange:
            return apply_scores(
                to,
                scores,
                source_key=self._source_file(job, source),
                model_name=job.repo_id.rsplit("/", 1)[-1],
                formats=job.formats,
                existing_files=existing_files,
                env=self.env,
                registry=view,
            )

        change = applied(card, snapshot.eval_results)
        if not change.changed:
            if self.store is not None and self.store.pending_intents(job.repo_id) and not job.dry_run:
                bot_user = self._bot_user()  # a crash left a write unrecorded: settle it from the Hub
                self._reconcile(job.repo_id, pr_source, self.hub.list_prs(job.repo_id, bot_user=bot_user, known={}))
            reason = "the card already contains everything proposed" if scores else "no results found"
            if not scores and source == "readme" and details:
                reason = f"{reason}: {'; '.join(details[:3])}"  # why, and the flags that would select the model
            return self._finish(job, source, snapshot, Plan("none", reason, source))
        bot_user = self._bot_user()
        prs = self.hub.list_prs(job.repo_id, bot_user=bot_user, known=self._known_prs(job.repo_id))
        if not job.dry_run:
            self._reconcile(job.repo_id, pr_source, prs)

        def plan_with(previous: CardChange | None = None) -> Plan:
            return decide(
                repo_id=job.repo_id,
                sha=snapshot.sha,
                card_text=snapshot.readme or "",
                card_data=card.data,
                change=change,
                source=pr_source,
                source_name=_SOURCE_NAMES[source],
                formats=job.formats,
                prs=prs,
                policy=policy,
                budget=self._budget(job.repo_id),
                # whoami cannot tell a collaborator's rights: try the push; a 403 falls back to a PR.
                can_write=job.mode == "push" and self.settings.hf_token is not None,
                env=self.env,
                details=details,
                previous=previous,
            )

        plan = plan_with()
        if plan.action == "update" and plan.pr_num is not None:
            # what the PR proposed until now, so its comment and description can say old → new
            head = self.hub.snapshot(job.repo_id, revision=f"refs/pr/{plan.pr_num}")
            previous = applied(parse_card(head.readme or ""), head.eval_results)
            plan = plan_with(previous)
        if job.dry_run:
            diff = _diff(snapshot, plan.files) if plan.writes else ""
            return self._report(job, source, snapshot, plan, dry_run=True, diff=diff)
        if not plan.writes:
            return self._finish(job, source, snapshot, plan)
        if self.settings.hf_token is None:
            raise AuthError(f"no Hub token: set HF_TOKEN or run `hf auth login` to {plan.reason}")
        try:
            result = self._publish(job.repo_id, snapshot, plan, bot_user)
        except NoWriteAccessError as e:
            if plan.action != "push":
                raise
            logger.info("%s: %s; opening a pull request instead", job.repo_id, e)
            plan = replace(plan, action="open", reason="no write access to main: open a pull request", kind="open")
            result = self._publish(job.repo_id, snapshot, plan, bot_user)
        return self._finish(job, source, snapshot, plan, result)

    def _collect(self, job: Job, source: str, snapshot: Snapshot) -> tuple[list[Score], list[str], tuple[str, ...]]:
        """The source's scores, lines for the PR body saying how they were produced, and the README
        results withheld below the confidence threshold (for the report only, never published)."""
        if source == "eval":
            request = self._eval_request(job)
            if not job.dry_run:
                check_publishable(request.settings)
            run = self.evals.evaluate(job.repo_id, snapshot.sha, request)
            return eval_scores(run), eval_details(run, request.runner), ()
        if source == "aa":
            listing = self.aa.listing()
            model = find_model(
                listing.models,
                repo_id=job.repo_id,
                model=job.aa.model,
                creator_slug=job.aa.creator_slug,
                model_name=job.aa.model_name,
                mapping=self.settings.aa_mapping,
            )
            lines = [f"Data from Artificial Analysis ({model.page_url}), model {model.label}"]
            return scores_from_model(model, fetched_at=listing.fetched_at), lines, ()
        if source == "results":
            from_files, lines = results_source.collect(
                self.hub,
                snapshot,
                repo_url=self.settings.repo_url(job.repo_id),
                allow_partial=job.results.allow_partial,
            )
            return from_files, lines, ()
        if source == "leaderboard":
            config = self.settings.config
            boards = config.leaderboards if config is not None else (OPEN_LLM_LEADERBOARD,)
            from_files, lines = leaderboard_source.collect(
                self.hub, snapshot, boards, allow_partial=job.results.allow_partial
            )
            return from_files, lines, ()
        if source == "import":
            if not job.results.files:
                raise InputError("the import source reads local files: use evalbot import-results --repo-id R FILE")
            for result in job.results.files:
                check_model(result, job.repo_id, force=job.results.force_model)
            if not job.dry_run:
                result_files.check_publishable(job.results.files, allow_partial=job.results.allow_partial)
            return newest_first(job.results.files), [f"From the {r.describe()}" for r in job.results.files], ()
        if source != "readme":
            raise NotAvailableError(f"source {source!r} is not available; use {', '.join(SOURCES)}")
        options = job.readme
        assert snapshot.readme is not None
        # Only results at or above the confidence threshold are ever published (DESIGN §6).
        threshold = self._readme_threshold()
        found = readme_source.read_card_scores(
            snapshot.readme,
            options.model_name or job.repo_id,
            min_confidence=threshold,
            # the exact card the values were read from, pinned to its commit
            source_url=f"{self.settings.repo_url(job.repo_id)}/blob/{snapshot.sha}/README.md",
            card_data=parse_card(snapshot.readme).data,
            table=options.table,
            model_column_index=options.model_column_index,
            task_type=options.task_type,
            dataset_name=options.dataset_name,
            dataset_type=options.dataset_type,
            date=snapshot.date,
        )
        withheld = tuple(
            f"table {r.table} {r.label!r} = {r.value:g} (confidence {r.confidence:.2f} < {threshold:.2f}: "
            f"{'; '.join(r.reasons)})"
            for r in found.withheld
        )
        return found.scores, found.why, withheld

    def _readme_threshold(self) -> float:
        threshold = self.settings.readme_min_confidence
        return DEFAULT_MIN_CONFIDENCE if threshold is None else threshold

    def _eval_request(self, job: Job) -> EvalRequest:
        request = job.eval or self.settings.eval_request
        if request is None or not request.tasks:
            raise InputError("the eval source needs tasks: pass --tasks, or set eval: tasks in evalbot.yaml")
        return request

    def _pr_source(self, job: Job, source: str) -> str:
        """The PR's source key: `eval:<engine>` for evaluations, so one engine's run never replaces
        another engine's PR (each has its own PR, fingerprint and ledger rows)."""
        if source == "eval":
            try:
                return f"eval:{self._eval_request(job).engine}"
            except InputError:  # no tasks: the source is skipped with that reason
                return source
        return source

    def _source_file(self, job: Job, source: str) -> str:
        """`.eval_results/<file>.yaml`: readme, artificial_analysis, or the evaluation engine's name."""
        if source == "eval":
            return self._eval_request(job).engine
        return _SOURCE_FILES[source]

    # ---- publishing: the only place that writes -------------------------------------------

    def _publish(self, repo_id: str, snapshot: Snapshot, plan: Plan, bot_user: str | None) -> CommitResult:
        """Write once; after an ambiguous failure, look before writing again (DESIGN §5)."""
        _deadline.check(f"the job for {repo_id}")  # an overdue job (see worker.py) never writes
        action = _INTENT_ACTIONS[plan.action]
        intent = self.store.record_intent(repo_id, plan.source, plan.fingerprint, action) if self.store else None
        try:
            parent = snapshot.sha if plan.action != "update" else self.hub.pr_head(repo_id, plan.pr_num or 0)
            for _attempt in range(_WRITE_ATTEMPTS):
                try:
                    _deadline.check(f"the job for {repo_id}")
                    result = self.hub.publish(repo_id, plan, parent=parent)
                    break
                except AmbiguousWriteError as e:
                    logger.warning("%s: %s; checking whether it was applied", repo_id, e)
                    found = self._find_applied(repo_id, plan, parent, bot_user)
                    if found is not None:
                        result = found
                        break
            else:
                raise HubError(f"{repo_id}: could not {plan.action} after {_WRITE_ATTEMPTS} attempts; try again later")
            if plan.action == "update" and plan.comment:
                self._comment_once(repo_id, plan.pr_num or 0, plan.comment)
            if plan.action == "update" and plan.body:
                self._describe(repo_id, plan.pr_num or 0, plan.body)
        except BotError as e:
            if self.store and intent is not None:
                self.store.fail_intent(intent, one_line(e))
            raise
        if self.store and intent is not None:
            self.store.complete_intent(intent, pr_num=result.pr_num or plan.pr_num)
        return result

    def _find_applied(self, repo_id: str, plan: Plan, parent: str, bot_user: str | None) -> CommitResult | None:
        if plan.action == "open":
            for pr in self.hub.list_prs(repo_id, bot_user=bot_user, known={}):
                if pr.is_open and pr.source == plan.source and pr.fingerprint == plan.fingerprint:
                    return CommitResult(pr.num, f"{self.settings.hf_endpoint}/{repo_id}/discussions/{pr.num}", None)
            return None
        if plan.action == "update":
            head = self.hub.pr_head(repo_id, plan.pr_num or 0)
            return CommitResult(plan.pr_num, None, head) if head != parent else None
        now = self.hub.snapshot(repo_id)
        readme = plan.files.get("README.md")
        if now.sha != parent and (readme is None or now.readme == readme):
            return CommitResult(None, None, now.sha)
        return None

    def _describe(self, repo_id: str, num: int, body: str) -> None:
        """The updated PR's description says what it proposes now; the commit already landed, so a
        failure here is logged, not raised (the comment says the same)."""
        try:
            self.hub.edit_description(repo_id, num, body)
        except BotError as e:
            logger.warning("%s: PR #%d was updated but its description was not: %s", repo_id, num, one_line(e))

    def _comment_once(self, repo_id: str, num: int, text: str) -> None:
        marker = text.strip().splitlines()[-1]
        for _attempt in range(_WRITE_ATTEMPTS):
            try:
                self.hub.comment(repo_id, num, text)
                return
            except AmbiguousWriteError:
                if self.hub.has_comment_with(repo_id, num, marker):
                    return
        raise HubError(f"{repo_id}: could not comment on PR #{num}")

    # ---- ledger and policy ------------------------------------------------------------------

    def _finish(
        self, job: Job, source: str, snapshot: Snapshot, plan: Plan, result: CommitResult | None = None
    ) -> Report:
        report = self._report(job, source, snapshot, plan, result=result)
        outcome = report.outcome
        if self.store is not None and outcome != "planned":
            if result is not None and plan.action in ("open", "update"):
                num = result.pr_num or plan.pr_num
                if num is not None:
                    url = result.pr_url or f"{self.settings.hf_endpoint}/{job.repo_id}/discussions/{num}"
                    self.store.record_pr(job.repo_id, num, source=plan.source, fingerprint=plan.fingerprint, url=url)
            if result is not None and plan.action == "push" and result.oid:
                self.store.record_own_commit(job.repo_id, result.oid)  # its webhook must not trigger us again
            transient = plan.kind in TRANSIENT_KINDS
            for sha in () if transient else {snapshot.sha, job.revision or snapshot.sha}:
                self.store.mark_processed(
                    job.repo_id, sha, self._processed_key(job, source), outcome=outcome,
                    fingerprint=plan.fingerprint or None, detail=report.reason,
                )  # fmt: skip
        return report

    def _report(
        self,
        job: Job,
        source: str,
        snapshot: Snapshot,
        plan: Plan,
        *,
        result: CommitResult | None = None,
        dry_run: bool = False,
        diff: str = "",
    ) -> Report:
        outcome: Outcome
        if plan.kind in ("none", "unchanged"):
            outcome = "unchanged"
        elif plan.action == "skip":
            outcome = "skipped"
        elif dry_run:
            outcome = "planned"  # --dry-run: would write, wrote nothing
        else:
            outcome = _WRITE_OUTCOMES[plan.action]
        reason = f"would {plan.reason}" if dry_run and plan.writes else plan.reason
        num = (result.pr_num if result else None) or plan.pr_num
        url = (result.pr_url if result else None) or (
            f"{self.settings.hf_endpoint}/{job.repo_id}/discussions/{num}" if num else None
        )
        return Report(
            job.repo_id, source, outcome, reason, snapshot.sha, num, url, plan.fingerprint, diff, plan.action,
            kind=plan.kind or "",
        )  # fmt: skip

    def _policy(self, job: Job) -> Policy:
        return Policy(
            push_to_main=job.mode == "push",
            defer_to_human_prs=self.settings.defer_to_human_prs,
            opted_out=any(fnmatch.fnmatch(job.repo_id.casefold(), p.casefold()) for p in self.settings.deny)
            or (self.store is not None and self.store.is_opted_out(job.repo_id)),  # `@evalbot ignore`
            max_open_per_namespace=self.settings.max_open_per_namespace,
            max_opened_per_hour=self.settings.max_prs_per_hour,
        )

    def _budget(self, repo_id: str) -> Budget:
        if self.store is None:
            return Budget()
        return Budget(
            open_in_namespace=self.store.open_prs_in_namespace(repo_id.split("/", 1)[0]),
            opened_last_hour=self.store.prs_opened_since(time.time() - 3600),
        )

    def _reconcile(self, repo_id: str, source: str, prs: Sequence[PrInfo]) -> None:
        """Make the ledger agree with the Hub for `source` after a crash between a write and its record.

        Every open bot PR of the source that the listing shows (by evalbot's marker) and the ledger
        lacks (or any such PR a pending intent names), or holds with another fingerprint or status, is
        recorded. Every pending intent of the source is then settled: done when a PR carries its
        fingerprint, else abandoned (the write did not happen, or a later one replaced it; the plan
        made next looks at the Hub afresh).
        """
        if self.store is None:
            return
        mine = [pr for pr in prs if pr.is_bot and pr.source == source]
        pending = [i for i in self.store.pending_intents(repo_id) if i.source == source]
        for pr in mine:
            row = self.store.get_pr(repo_id, pr.num)
            status: PrStatus = "open" if pr.is_open else ("merged" if pr.status == "merged" else "closed")
            wanted = pr.is_open or any(i.fingerprint == pr.fingerprint for i in pending)
            if row is None and not wanted:
                continue  # an old closed PR the ledger never had: recording it now would skew the hourly budget
            if row is None or row.fingerprint != (pr.fingerprint or ""):
                url = f"{self.settings.hf_endpoint}/{repo_id}/discussions/{pr.num}"
                self.store.record_pr(repo_id, pr.num, source=source, fingerprint=pr.fingerprint or "", url=url,
                                     status=status)  # fmt: skip
                logger.info("%r: PR #%d recorded from the Hub (the ledger had missed it)", repo_id, pr.num)
            elif row.status != status:
                self.store.set_pr_status(repo_id, pr.num, status)
        for intent in pending:
            found = next((pr for pr in mine if intent.action != "push" and pr.fingerprint == intent.fingerprint), None)
            if found is not None:
                self.store.complete_intent(intent.id, pr_num=found.num)
            else:
                self.store.abandon_intent(intent.id, "reconciled: no PR on the Hub carries this change")

    def _known_prs(self, repo_id: str) -> Mapping[int, tuple[str, str]]:
        """Bot PRs the ledger already knows (no details request needed), unless a write is pending."""
        if self.store is None or self.store.pending_intents(repo_id):
            return {}
        known = {}
        for source in (*SOURCES, *(f"eval:{engine}" for engine in ENGINES)):
            row = self.store.pr_for(repo_id, source)
            if row is not None:
                known[row.pr_num] = (row.source, row.fingerprint)
        return known

    def _bot_user(self) -> str | None:
        if self.settings.bot_user:
            return self.settings.bot_user
        return self.hub.whoami().name if self.settings.hf_token else None


# Failures that the same run cannot fix by retrying: the service fails such jobs at once.
_PERMANENT = (RepoNotFoundError, GatedRepoError, AuthError, NoWriteAccessError, JobDeadlineError)
_INTENT_ACTIONS: Mapping[str, IntentAction] = {"open": "open", "update": "update", "push": "push"}
_WRITE_OUTCOMES: Mapping[str, Outcome] = {"open": "created", "update": "updated", "push": "pushed"}

_SOURCE_NAMES: Mapping[str, str] = {
    "readme": readme_source.SOURCE_NAME,
    "aa": artificial_analysis.SOURCE_NAME,
    "eval": "evalbot evaluation",
    "results": results_source.SOURCE_NAME,
    "leaderboard": leaderboard_source.SOURCE_NAME,
    "import": "Imported result files",
}
# .eval_results/<file>.yaml per source (DESIGN §3); eval uses the engine's name
_SOURCE_FILES: Mapping[str, str] = {
    "readme": "readme",
    "aa": artificial_analysis.SOURCE_KEY,
    "results": results_source.SOURCE_KEY,
    "leaderboard": leaderboard_source.SOURCE_KEY,
    "import": "imported_results",
}


class LeaseKeeper:
    """Renews a repo lease every third of its time to live until the `with` block ends.

    A renewal that finds the lease gone (expired and taken over) is logged: the run goes on, and
    the dedupe gate (markers, the parent commit) keeps a second writer from duplicating its PR.
    """

    def __init__(self, store: Store, repo_id: str, owner: str, ttl_seconds: float) -> None:
        self._store, self._repo_id, self._owner, self._ttl = store, repo_id, owner, ttl_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name=f"lease:{repo_id}", daemon=True)
        self.renewals = 0

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _renew(self) -> None:
        while not self._stop.wait(self._ttl / 3):
            try:
                held = self._store.renew_lease(self._repo_id, self._owner, self._ttl)
            except Exception as e:  # a store hiccup (a dropped connection...): the next renewal tries again
                logger.warning("%s: lease renewal failed (%s)", self._repo_id, one_line(e))
                continue
            if not held:
                logger.warning("%s: the repo lease was lost (another run took it over)", self._repo_id)
                return
            self.renewals += 1


def eval_scores(run: Run) -> list[Score]:
    """A run's scores as published: a partial task's scores say so (`notes`, and the metric name)."""
    scores = []
    for score in run.scores:
        note = run.partial_note(str(score.provenance.get("task", "")))
        if note is None:
            scores.append(score)
            continue
        name = f"{score.metric.name} ({note})" if score.metric.name else note
        scores.append(replace(score, notes=note, metric=replace(score.metric, name=name)))
    return scores


def eval_details(run: Run, runner: str) -> list[str]:
    """The PR body's account of how the numbers were made: every result-relevant setting."""
    versions = ", ".join(f"{k} v{v}" for k, v in run.task_versions.items())
    lines = [
        f"Engine: {run.engine} {run.engine_version}, backend: {run.backend}, runner: {runner}",
        f"Tasks: {', '.join(t.spelling for t in run.tasks)}" + (f" (task versions: {versions})" if versions else ""),
        f"Settings: {run.settings.describe()}",
        f"Samples: {', '.join(f'{k}: {v}' for k, v in run.samples.items())}",
    ]
    partial = [f"{t.spelling}: {note}" for t in run.tasks if (note := run.partial_note(t.spelling)) is not None]
    if partial:
        lines.append("PARTIAL RUN (published with --allow-partial): " + "; ".join(partial))
    if run.settings.provider is not None:
        lines.append(
            f"Model evaluated: {run.repo_id} as served by the Inference Provider {run.settings.provider} "
            "(the provider does not guarantee a commit; no model sha is recorded)"
        )
    else:
        lines.append(f"Model evaluated: {run.repo_id} at commit {run.sha}")
    return lines


def _diff(snapshot: Snapshot, files: Mapping[str, str]) -> str:
    old = {"README.md": snapshot.readme or "", **snapshot.eval_results}
    return files_diff(old, files)


def run_many(app: App, jobs: Sequence[Job], *, workers: int, progress: bool = False) -> list[Report]:
    """Run jobs on a bounded pool of threads; reports come back in the jobs' order."""
    results: dict[int, list[Report]] = {}
    # while the bar is drawn, log lines (retries, warnings) are written above it, never through it
    redirect = logging_redirect_tqdm(loggers=[logging.getLogger()]) if progress else nullcontext()
    with (
        redirect,
        ThreadPoolExecutor(max_workers=max(1, workers)) as pool,
        tqdm(total=len(jobs), disable=not progress, unit="repo", desc="scan", leave=False) as bar,
    ):
        futures = {pool.submit(app.run, job): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            i = futures[future]
            try:
                results[i] = future.result()
            except ConfigError:
                for pending in futures:
                    pending.cancel()
                raise
            except BotError as e:
                results[i] = [Report(jobs[i].repo_id, s, "failed", one_line(e)) for s in jobs[i].sources]
            bar.update(1)
    return [report for i in range(len(jobs)) for report in results[i]]
