"""Hub requests per repo, and scan throughput, against the local Hub stand-in (`bot.sim.hub`).

Part 1 counts the HTTP requests that really reach the Hub (the stand-in's own request log,
`HubSim.request_count()`, reset before each measured step) for one `App.run` per scenario, each
on a fresh repo seeded with the sample card `examples/demo/acme/Ours-7B-Instruct/README.md`, as
the `evalbot` user (token `evalbot-token`, which can only open PRs), with a ledger in a temp dir:

* first PR: a card with results and no PR yet → created;
* no-op rerun: the same `Job` again → unchanged;
* update: a maintainer pushes the card with one score changed, then `Job` → updated (the count
  includes the comment on the PR);
* duplicate trigger: `Job(repo, revision=<sha just processed>)` run twice, the second counted;
* card already up to date: the card's model-index already holds the scores → none.

The token's user (`whoami`) is looked up once per process and cached, and the benchmark
registry once per TTL (part 3), so both are warmed before counting, as in a long-running bot.
`HubClient.requests` (one per client call, retries included) is printed beside the HTTP count:
one `create_commit` is three requests (validate-yaml, preupload, commit). Limits from the issue:
first PR ≤ 6, no-op ≤ 3, duplicate trigger = 0.

Part 2 times `run_many` (first PR on each of N repos `bench/org-<i>`, copies of the sample card)
with 1 worker, then with 4 on a fresh stand-in and ledger holding the same repos, and prints the
ratio measured in the same run; once on bare loopback (CPU-bound: the bot and the stand-in share
one process, so threads mostly contend for the GIL) and once with `--delay` seconds injected on
every route to model network latency, which is where threads pay off. The repos' names do not
name the model, so the jobs say which column to read (`ReadmeOptions(model_name=...)`).

Part 3 counts what the benchmark registry (`bot.edges.registry`) costs: a stand-in with
`--benchmarks` registered benchmarks (listing pages of 1,000, as the Hub's), and scores naming
`--used` of them. It counts the listing pages, `eval.yaml` reads and leaderboard reads of a
first view, of a second view in the same process, of a new process (same `EVALBOT_HOME`
cache), and of a view after the TTL has passed. Limit from the issue: at most one listing page
per 1,000 benchmarks plus one `eval.yaml` read per benchmark per TTL.

Part 4 counts what a scan of unchanged repos costs (`bot.app.scan`: one paginated listing of the owner's
models with their shas, then nothing for a repo whose (sha, source) the ledger handled): a first
scan opens a PR on each of N repos of one owner (copies of the sample card), then a second scan
from a new `App` and `HubClient` (a new process: only the ledger on disk is shared; whoami not
warmed) is counted, for 40 repos and for `--scan-repos` (default 1,000), in listing pages of
1,000 (the Hub's). Limits from the issue: ≤ 4 requests for 40 repos, ≤ 2 per 1,000 repos.

Part 5 is the pacing check: a stand-in that rate-limits (`RateLimit(api=Q, resolvers=Q, pages=Q,
window=W)`, the Hub's headers on every answer) and a first scan of `--pace-repos` repos that
needs several windows' quota; it prints the 429s the stand-in sent (limit: 0), the requests,
and the seconds the threads waited for resets (`bot.edges.hub.PACER`, default margin 1 s), summed.

    python bench/bot.py [--repos 200] [--delay 0.005] [--benchmarks 2500] [--used 40] [--scan-repos 1000]

Exits 1 when a request limit is broken or a run did not end as expected.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.app.compose import build_app  # noqa: E402
from bot.app.pipeline import App, Job, ReadmeOptions, Report, run_many  # noqa: E402
from bot.app.scan import heads_for_author, run_scan  # noqa: E402
from bot.config.settings import Secret, Settings  # noqa: E402
from bot.edges import hub as hub_module  # noqa: E402
from bot.edges.hub import HubClient, RetryPolicy  # noqa: E402
from bot.edges.registry import BenchmarkRegistry  # noqa: E402
from bot.edges.store import Store  # noqa: E402
from bot.sim.benchmarks import DEFAULT_BENCHMARKS  # noqa: E402
from bot.sim.hub import HubSim, RateLimit  # noqa: E402

MODEL = "Ours-7B-Instruct"
CARD_PATH = ROOT / "examples" / "demo" / "acme" / MODEL / "README.md"
CARD = CARD_PATH.read_text(encoding="utf-8")
SCORE, CHANGED_SCORE = "**65.4**", "**66.1**"  # MMLU for Ours-7B-Instruct
BOT_TOKEN = "evalbot-token"
FAST = RetryPolicy(attempts=6, base_wait=0.0, max_wait=0.0)  # no fault is injected but delays: never waits


@dataclass(frozen=True)
class Row:
    scenario: str
    expected: str
    outcome: str
    plan: str  # the plan's action ("" when the run stopped before planning)
    requests: int  # HTTP requests the stand-in received
    client: int  # HubClient.requests
    limit: int | None

    @property
    def ok(self) -> bool:
        within = self.limit is None or self.requests <= self.limit
        return within and self.outcome == self.expected


@contextmanager
def bot_on(sim: HubSim) -> Iterator[App]:
    """An App as the evalbot user on `sim`, with a fresh ledger in a temp dir."""
    with tempfile.TemporaryDirectory(prefix="evalbot-bench-") as tmp, Store.open(Path(tmp)) as store:
        settings = Settings(hf_token=Secret(BOT_TOKEN), hf_endpoint=sim.url, home=Path(tmp), lease_wait_seconds=5)
        app = build_app(settings, hub=HubClient(settings, retry=FAST), store=store)
        app.hub.whoami()  # once per process, not per repo
        app.registry.view(DEFAULT_BENCHMARKS)  # once per TTL, not per repo (part 3 counts it)
        yield app


def measure(sim: HubSim, app: App, run: Callable[[], list[Report]]) -> tuple[str, str, int, int]:
    """(outcome, plan, HTTP requests, HubClient calls) of one measured run."""
    sim.reset_requests()
    before = app.hub.requests
    (report,) = run()
    return report.outcome, report.plan, sim.request_count(), app.hub.requests - before


def up_to_date_files(sim: HubSim, app: App, repo: str) -> dict[str, str]:
    """The files of the PR evalbot opened on `repo`: a card whose model-index has the scores."""
    (pr,) = (d for d in sim.discussions(repo) if d.is_pr)
    snapshot = app.hub.snapshot(repo, revision=sim.head(repo, pr.ref or ""))
    assert snapshot.readme is not None
    return {"README.md": snapshot.readme, **snapshot.eval_results}


def request_budgets() -> list[Row]:
    rows = []
    with HubSim() as sim, bot_on(sim) as app:

        def fresh(name: str, files: dict[str, str] | None = None) -> str:
            repo = f"bench-{name}/{MODEL}"  # the repo's name is the model's: `Job(repo)` finds the column
            sim.add_repo(repo, files or {"README.md": CARD})
            return repo

        def row(scenario: str, expected: str, limit: int | None, run: Callable[[], list[Report]]) -> None:
            rows.append(Row(scenario, expected, *measure(sim, app, run), limit))

        repo = fresh("first-pr")
        row("first PR", "created", 6, lambda: app.run(Job(repo)))
        up_to_date = up_to_date_files(sim, app, repo)

        rerun = fresh("no-op")
        app.run(Job(rerun))
        row("no-op rerun", "unchanged", 3, lambda: app.run(Job(rerun)))

        update = fresh("update")
        app.run(Job(update))
        sim.push(update, {"README.md": CARD.replace(SCORE, CHANGED_SCORE)}, summary="Fix MMLU", author="alice")
        row("update", "updated", None, lambda: app.run(Job(update)))

        duplicate = fresh("duplicate")
        sha = sim.head(duplicate)
        app.run(Job(duplicate, revision=sha))
        row("duplicate trigger", "unchanged", 0, lambda: app.run(Job(duplicate, revision=sha)))

        done = fresh("up-to-date", up_to_date)
        row("card already up to date", "unchanged", None, lambda: app.run(Job(done)))
    return rows


@dataclass(frozen=True)
class Scan:
    workers: int
    delay: float
    seconds: float
    requests: int
    outcomes: Counter[str]


def scan(repos: int, workers: int, delay: float) -> Scan:
    """First PR on `repos` fresh repos with `workers` threads; the clock covers `run_many` only."""
    sim = HubSim()
    names = [f"bench/org-{i}" for i in range(repos)]
    for name in names:
        sim.add_repo(name, {"README.md": CARD})
    if delay:
        sim.inject("*", "delay", delay=delay)
    jobs = [Job(name, readme=ReadmeOptions(model_name=MODEL)) for name in names]
    with sim, bot_on(sim) as app:
        sim.reset_requests()
        start = time.perf_counter()
        reports = run_many(app, jobs, workers=workers)
        seconds = time.perf_counter() - start
        return Scan(workers, delay, seconds, sim.request_count(), Counter(r.outcome for r in reports))


@dataclass(frozen=True)
class RegistryCost:
    step: str
    listing: int
    eval_yaml: int
    leaderboard: int


def registry_costs(benchmarks: int, used: int) -> list[RegistryCost]:
    """Requests of `BenchmarkRegistry.view` over `used` of `benchmarks` registered benchmarks."""
    now = [1_000_000.0]
    ids = [f"bench-benchmarks/b-{i:05d}" for i in range(benchmarks)]
    wanted = ids[:: max(1, benchmarks // used)][:used]
    with HubSim(benchmarks={}) as sim, tempfile.TemporaryDirectory(prefix="evalbot-registry-") as tmp:
        for dataset_id in ids:
            sim.add_benchmark(dataset_id, {"name": dataset_id, "tasks": [{"id": "default"}]})
        settings = Settings(hf_token=Secret(BOT_TOKEN), hf_endpoint=sim.url, home=Path(tmp))

        def registry() -> BenchmarkRegistry:
            return BenchmarkRegistry(HubClient(settings, retry=FAST), Path(tmp) / "registry", clock=lambda: now[0])

        def count(step: str, view: Callable[[], object]) -> RegistryCost:
            sim.reset_requests()
            view()
            paths = [p for m, p in sim.requests if m == "GET"]
            return RegistryCost(
                step,
                sum(1 for p in paths if p.startswith("/api/datasets?")),
                sum(1 for p in paths if p.endswith("/eval.yaml")),
                sum(1 for p in paths if "/leaderboard" in p),
            )

        first = registry()
        rows = [count("first view", lambda: first.view(wanted))]
        rows.append(count("same process again", lambda: first.view(wanted)))
        rows.append(count("new process, cache on disk", lambda: registry().view(wanted)))
        now[0] += 24 * 3600 + 1
        rows.append(count("after the TTL (1 day)", lambda: registry().view(wanted)))
    return rows


@dataclass(frozen=True)
class ScanCost:
    repos: int
    first_seconds: float
    first_outcomes: Counter[str]
    second_requests: int
    second_paths: Counter[str]
    second_outcomes: Counter[str]
    limit: float

    @property
    def ok(self) -> bool:
        unchanged = self.second_outcomes == Counter(unchanged=self.repos)
        return unchanged and self.first_outcomes == Counter(created=self.repos) and self.second_requests <= self.limit


def scan_cost(repos: int, limit: float) -> ScanCost:
    """A first scan (PRs) then a second, counted, scan of `repos` unchanged repos of one owner."""
    base = Job("", readme=ReadmeOptions(model_name=MODEL))
    with HubSim() as sim, tempfile.TemporaryDirectory(prefix="evalbot-scan-") as tmp:
        for i in range(repos):
            sim.add_repo(f"bench-scan/m-{i:04d}", {"README.md": CARD})
        settings = Settings(hf_token=Secret(BOT_TOKEN), hf_endpoint=sim.url, home=Path(tmp), lease_wait_seconds=5)

        def scan_once() -> list[Report]:
            with Store.open(Path(tmp)) as store:
                app = build_app(settings, hub=HubClient(settings, retry=FAST), store=store)
                return run_scan(app, heads_for_author(app.hub, "bench-scan"), base, workers=4)

        start = time.perf_counter()
        first = scan_once()
        seconds = time.perf_counter() - start
        sim.reset_requests()
        second = scan_once()
        paths = Counter(f"{m} {p.split('?')[0]}" for m, p in sim.requests)
        return ScanCost(
            repos, seconds, Counter(r.outcome for r in first), sim.request_count(), paths,
            Counter(r.outcome for r in second), limit,
        )  # fmt: skip


@dataclass(frozen=True)
class Paced:
    repos: int
    quota: RateLimit
    seconds: float
    requests: int
    api: int  # of which on the `api` bucket
    refused: int
    waited: float
    outcomes: Counter[str]


def paced_scan(repos: int, quota: RateLimit) -> Paced:
    """A first scan of `repos` repos on a stand-in that rate-limits; no retries: a 429 fails a repo."""
    base = Job("", readme=ReadmeOptions(model_name=MODEL))
    with HubSim(rate_limit=quota) as sim, tempfile.TemporaryDirectory(prefix="evalbot-pace-") as tmp:
        for i in range(repos):
            sim.add_repo(f"bench-pace/m-{i:03d}", {"README.md": CARD})
        settings = Settings(hf_token=Secret(BOT_TOKEN), hf_endpoint=sim.url, home=Path(tmp), lease_wait_seconds=60)
        with Store.open(Path(tmp)) as store:
            app = build_app(settings, hub=HubClient(settings, retry=RetryPolicy(attempts=1)), store=store)
            waited = hub_module.PACER.waited
            start = time.perf_counter()
            reports = run_scan(app, heads_for_author(app.hub, "bench-pace"), base, workers=4)
            seconds = time.perf_counter() - start
        return Paced(
            repos, quota, seconds, sim.request_count(), sim.request_count(path_prefix="/api/"), sim.rate_limited,
            hub_module.PACER.waited - waited,
            Counter(r.outcome for r in reports),
        )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=200, help="repos in the throughput scan (default 200)")
    parser.add_argument(
        "--delay", type=float, default=0.005, help="seconds added to every Hub request in the second scan pair"
    )
    parser.add_argument("--benchmarks", type=int, default=2500, help="registered benchmarks in part 3")
    parser.add_argument("--used", type=int, default=40, help="benchmarks the scores name in part 3")
    parser.add_argument("--scan-repos", type=int, default=1000, help="repos in part 4's large scan (default 1000)")
    parser.add_argument("--pace-repos", type=int, default=30, help="repos in part 5's rate-limited scan (default 30)")
    args = parser.parse_args()
    if args.repos < 1 or args.delay < 0:
        parser.error("--repos must be at least 1 and --delay at least 0")
    if not 1 <= args.used <= args.benchmarks:
        parser.error("--used must be between 1 and --benchmarks")
    if SCORE not in CARD:
        sys.exit(f"{CARD_PATH} no longer contains {SCORE}; update SCORE in {__file__}")
    failed = False

    rows = request_budgets()
    print(f"Part 1: Hub requests per repo (HTTP requests the stand-in received; card {CARD_PATH.relative_to(ROOT)})")
    print("whoami and the benchmark registry warmed first (cached); 'client' = HubClient.requests (one per call)\n")
    print(f"{'scenario':<25} {'outcome':<10} {'plan':<6} {'requests':>8} {'client':>6} {'limit':>6} {'ok':>3}")
    for r in rows:
        limit = "-" if r.limit is None else (f"= {r.limit}" if r.limit == 0 else f"<= {r.limit}")
        outcome = r.outcome if r.outcome == r.expected else f"{r.outcome} (expected {r.expected})"
        plan, ok = r.plan or "-", "yes" if r.ok else "NO"
        print(f"{r.scenario:<25} {outcome:<10} {plan:<6} {r.requests:>8} {r.client:>6} {limit:>6} {ok:>3}")
        failed |= not r.ok

    delays = [0.0, args.delay] if args.delay else [0.0]
    scans = [scan(args.repos, workers, delay) for delay in delays for workers in (1, 4)]
    print(
        f"\nPart 2: scan throughput, first PR on each of {args.repos} repos (bench/org-<i>), run_many, "
        f"fresh stand-in and ledger per run;\ndelay = seconds injected on every Hub request (0: bare loopback, "
        f"CPU-bound, threads contend for the GIL);\n"
        f"4 vs 1 = seconds with 1 worker / seconds with 4, both measured in this run\n"
    )
    print(f"{'delay s':>7} {'workers':>7} {'seconds':>8} {'repos/s':>8} {'req/repo':>8} {'4 vs 1':>7}  outcomes")
    for s in scans:
        ratio = ""
        if s.workers == 4:
            (one,) = (o for o in scans if o.delay == s.delay and o.workers == 1)
            ratio = f"{one.seconds / s.seconds:.2f}x"
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(s.outcomes.items()))
        rate = args.repos / s.seconds
        per_repo = s.requests / args.repos
        print(f"{s.delay:>7.3f} {s.workers:>7} {s.seconds:>8.2f} {rate:>8.1f} {per_repo:>8.2f} {ratio:>7}  {outcomes}")
        failed |= s.outcomes != Counter(created=args.repos)
    costs = registry_costs(args.benchmarks, args.used)
    pages = -(-args.benchmarks // 1000)
    print(
        f"\nPart 3: benchmark registry, {args.benchmarks} registered benchmarks (listing pages of 1,000), "
        f"scores naming {args.used} of them;\nlimit per TTL: {pages} listing pages + {args.used} eval.yaml reads "
        f"(+ {args.used} leaderboard reads)\n"
    )
    print(f"{'step':<28} {'listing':>7} {'eval.yaml':>9} {'leaderboard':>11}")
    for c in costs:
        print(f"{c.step:<28} {c.listing:>7} {c.eval_yaml:>9} {c.leaderboard:>11}")
    first, *cached, expired = costs
    failed |= (first.listing, first.eval_yaml, first.leaderboard) != (pages, args.used, args.used)
    failed |= any((c.listing, c.eval_yaml, c.leaderboard) != (0, 0, 0) for c in cached)
    failed |= (expired.listing, expired.eval_yaml) != (pages, args.used)

    costs4 = [scan_cost(40, 4), scan_cost(args.scan_repos, 2 * -(-args.scan_repos // 1000))]
    print(
        "\nPart 4: second scan of unchanged repos (scan --author; one listing with shas, pages of 1,000; "
        "a new App and HubClient,\nthe first scan's ledger on disk; whoami not warmed). "
        "Limits: <= 4 requests for 40 repos, <= 2 per 1,000 repos\n"
    )
    print(f"{'repos':>6} {'1st scan s':>10} {'2nd scan requests':>17} {'limit':>6} {'ok':>3}  requests of the 2nd scan")
    for c in costs4:
        what = ", ".join(f"{n}x {p}" for p, n in sorted(c.second_paths.items())) or "none"
        ok = "yes" if c.ok else "NO"
        print(f"{c.repos:>6} {c.first_seconds:>10.1f} {c.second_requests:>17} {c.limit:>6g} {ok:>3}  {what}")
        failed |= not c.ok

    quota = RateLimit(api=60, resolvers=60, pages=60, window=2)
    paced = paced_scan(args.pace_repos, quota)
    print(
        f"\nPart 5: quota pacing, first scan of {paced.repos} repos against a stand-in that allows "
        f"{quota.api} api / {quota.resolvers} resolvers / {quota.pages} pages requests per {quota.window} s window "
        "(no retries: a 429 would fail a repo). Limit: 0 answers of 429\n"
    )
    print("waited = seconds the 4 worker threads spent waiting for resets, summed over the threads\n")
    head = f"{'repos':>6} {'requests':>8} {'api':>5} {'api windows':>11} {'seconds':>7} {'waited s':>8} {'429s':>5}"
    print(f"{head}  outcomes")
    windows = paced.api / quota.api
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(paced.outcomes.items()))
    print(
        f"{paced.repos:>6} {paced.requests:>8} {paced.api:>5} {windows:>11.1f} {paced.seconds:>7.1f} "
        f"{paced.waited:>8.1f} {paced.refused:>5}  {outcomes}"
    )
    failed |= paced.refused != 0 or paced.outcomes != Counter(created=paced.repos)
    if failed:
        print("\nFAILED: a request limit was broken or a run did not end as expected", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
