"""What to do for one repo and source: the dedupe table of DESIGN §5, decided without I/O.

| situation                                                  | plan                      |
|------------------------------------------------------------|---------------------------|
| repo opted out (deny-list, `evalbot: ignore` in metadata)  | skip (opted out)          |
| card already contains everything proposed                  | none                      |
| open bot PR, same source, same fingerprint                 | skip (unchanged)          |
| bot PR, same fingerprint, closed unmerged                  | skip (declined)           |
| open bot PR, same source, different fingerprint            | update (commit + comment) |
| open human PR that edits model-index or .eval_results      | skip (deferred)           |
| bot PR budget reached (per namespace, per hour)            | skip (budget)             |
| token can write and config says push                       | push                      |
| otherwise                                                  | open                      |

The fingerprint hashes the proposed change itself (the scores added or replaced, the formats,
and evalbot's own files), not the whole README: an unrelated edit to the card does not make
a proposal "new", so a maintainer who closed a PR is not asked again. The README text is
never part of it; `base` in the marker says which commit the PR was computed on.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import jinja2
import yaml

from bot.core._markers import mask_code
from bot.core.card import CardChange
from bot.core.render import default_environment, render_template
from bot.core.render import format_value as render_value

PlanAction = Literal["none", "skip", "open", "update", "push"]
# Why a plan is what it is. Every retry/record decision reads the kind, never the reason's text
# (the reason is for people and may be reworded freely).
PlanKind = Literal[
    "none",  # nothing to propose: the card already has it all
    "open",
    "update",
    "push",
    "unchanged",  # evalbot's open PR already proposes exactly this
    "declined",  # a maintainer closed a PR with this change: never re-opened
    "deferred",  # a human's open PR edits the results
    "budget",  # the namespace's or the hour's PR budget is spent
    "opted_out",  # deny-list, `@evalbot ignore`, or `evalbot: ignore` in the card
    "not_eligible",  # private/gated without EVALBOT_ALLOW_PRIVATE, or no README
    "busy",  # another run holds the repo's lease (set on reports, never by `decide`)
]
# Kinds that may clear up by themselves: not recorded as processed, so the next trigger retries.
TRANSIENT_KINDS: frozenset[str] = frozenset({"deferred", "budget", "busy"})
# What a run did for one (repo, source), as reported and recorded: the one outcome type (`planned`: a dry run).
Outcome = Literal["created", "updated", "pushed", "planned", "unchanged", "skipped", "failed"]

MARKER_VERSION = 1
_MARKER = re.compile(r"<!-- evalbot (\{[^<>]*\}) -->")
_OPEN = frozenset({"open", "draft"})


@dataclass(frozen=True)
class PrInfo:
    """A pull request on the repo, as the snapshot sees it.

    `source`/`fingerprint` come from evalbot's hidden marker (the last one the bot wrote:
    the description, or the comment of a later update); None for a human PR.
    """

    num: int
    title: str
    status: str  # open | draft | closed | merged
    author: str
    source: str | None = None
    fingerprint: str | None = None
    base: str | None = None
    touches_results: bool = False  # edits model-index or .eval_results (human PRs)

    @property
    def is_bot(self) -> bool:
        return self.source is not None

    @property
    def is_open(self) -> bool:
        return self.status in _OPEN


@dataclass(frozen=True)
class Policy:
    """What the configuration allows for this repo."""

    push_to_main: bool = False
    defer_to_human_prs: bool = True
    opted_out: bool = False  # the deny-list matched this repo
    max_open_per_namespace: int | None = None
    max_opened_per_hour: int | None = None


@dataclass(frozen=True)
class Budget:
    """Counts from the ledger that the budgets are checked against."""

    open_in_namespace: int = 0
    opened_last_hour: int = 0


@dataclass(frozen=True)
class Plan:
    """The decision for one repo and source, with everything needed to carry it out."""

    action: PlanAction
    reason: str
    source: str
    fingerprint: str = ""
    base: str = ""
    files: Mapping[str, str] = field(default_factory=dict)  # path → full new content
    pr_num: int | None = None
    title: str = ""
    body: str = ""
    comment: str = ""  # posted on the PR after an update
    kind: PlanKind | None = None  # a skip says which; otherwise the action is the kind

    def __post_init__(self) -> None:
        if self.kind is None:
            if self.action == "skip":
                raise ValueError("a skip plan needs its kind")
            object.__setattr__(self, "kind", self.action)

    @property
    def writes(self) -> bool:
        return self.action in ("open", "update", "push")


def make_marker(source: str, fingerprint: str, base: str) -> str:
    """The hidden HTML comment that identifies evalbot's PRs and what they propose."""
    payload = {"source": source, "fingerprint": fingerprint, "base": base, "v": MARKER_VERSION}
    return f"<!-- evalbot {json.dumps(payload, separators=(', ', ': '))} -->"


def parse_markers(text: str) -> list[dict[str, Any]]:
    """Every evalbot marker in `text`, in order; malformed ones, and any shown as code (a fence,
    a code span) or inside another HTML comment, are ignored."""
    found = []
    for match in _MARKER.finditer(mask_code(text)):
        try:
            payload = json.loads(match[1])
        except ValueError:
            continue
        if isinstance(payload, dict) and isinstance(payload.get("source"), str):
            found.append(payload)
    return found


def fingerprint_change(source: str, change: CardChange, formats: Sequence[str]) -> str:
    """A stable hash of what is proposed: added/replaced scores, formats, evalbot's files."""
    scores = sorted(
        json.dumps([*score.identity, score.metric.value, score.metric.stderr, score.shots], default=str)
        for score in (*change.added, *change.replaced, *change.partly)
    )
    files = {
        path: hashlib.sha256(_stable(path, text).encode()).hexdigest() for path, text in sorted(change.files.items())
    }
    canonical = json.dumps(
        {"v": MARKER_VERSION, "source": source, "formats": sorted(formats), "scores": scores, "files": files},
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _before(proposed: Sequence[Any], previous: CardChange | None) -> list[str]:
    """For each proposed score, what the open PR proposed before: "old → new", "new" or "unchanged"."""
    if previous is None:
        return []
    changed: dict[int, list[str]] = {}
    for r in previous.replacements:
        old, new = render_value(r.old_value), render_value(r.new_value)
        changed.setdefault(id(r.score), []).append(
            f"{old} → {new}" + ("" if r.location == "model-index" else f" in {r.location}")
        )
    added = {id(score) for score in previous.added}
    return [
        "; ".join(changed[id(s)]) if id(s) in changed else ("new" if id(s) in added else "unchanged") for s in proposed
    ]


def _stable(path: str, text: str) -> str:
    """A file as the fingerprint sees it: `.eval_results` entries without `source.url` and `date`.

    Those pin an entry to the commit its value was read at; the same values read again after an
    unrelated edit are the same proposal (the open PR's pinned commit still holds them).
    """
    if not path.startswith(".eval_results/"):
        return text
    try:
        entries = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if not isinstance(entries, list):
        return text
    stable = []
    for entry in entries:
        if isinstance(entry, dict):
            entry = {k: v for k, v in entry.items() if k != "date"}
            if isinstance(entry.get("source"), dict):
                entry["source"] = {k: v for k, v in entry["source"].items() if k != "url"}
        stable.append(entry)
    return json.dumps(stable, sort_keys=True, default=str)


def decide(
    *,
    repo_id: str,
    sha: str,
    card_text: str,
    card_data: Mapping[str, Any],
    change: CardChange,
    source: str,
    source_name: str,
    formats: Sequence[str],
    prs: Sequence[PrInfo],
    policy: Policy = Policy(),
    budget: Budget = Budget(),
    can_write: bool = False,
    env: jinja2.Environment | None = None,
    details: Sequence[str] = (),
    previous: CardChange | None = None,
) -> Plan:
    """Apply the table in this module's docstring. Pure: everything it needs is passed in.

    `previous` is the same scores applied to the open bot PR's current files: for an update, the
    comment and the new description show each value's old → new (what the PR proposed before).
    """
    if policy.opted_out or opted_out_in_card(card_data):
        return Plan("skip", "opted out", source, kind="opted_out")
    if not change.changed:
        return Plan("none", "the card already contains everything proposed", source)
    fingerprint = fingerprint_change(source, change, formats)
    mine = [pr for pr in prs if pr.is_bot and pr.source == source]
    open_mine = sorted((pr for pr in mine if pr.is_open), key=lambda pr: pr.num)
    same = next((pr for pr in open_mine if pr.fingerprint == fingerprint), None)
    if same is not None:
        return Plan(
            "skip",
            f"unchanged: PR #{same.num} already proposes this",
            source,
            fingerprint,
            sha,
            pr_num=same.num,
            kind="unchanged",
        )
    declined = next((pr for pr in mine if pr.status == "closed" and pr.fingerprint == fingerprint), None)
    if declined is not None:
        reason = f"declined: PR #{declined.num} with this change was closed"
        return Plan("skip", reason, source, fingerprint, sha, pr_num=declined.num, kind="declined")

    files = dict(change.files)
    if change.readme != card_text:
        files = {"README.md": change.readme, **files}
    env = env or default_environment()
    marker = make_marker(source, fingerprint, sha)
    proposed = [*change.added, *change.replaced, *change.partly]
    placed = {id(score): placement for score, placement in change.placements}
    context = {
        "repo_id": repo_id,
        "source": source,
        "source_name": source_name,
        "scores": proposed,
        # each proposed score's .eval_results placement (value, scale, task) or why it has none
        "placements": [placed[id(score)] for score in proposed] if placed else [],
        "replacements": list(change.replacements),
        "conflicts": list(change.conflicts),
        "marker": marker,
        "files": sorted(files),
        "details": list(details),  # e.g. how an evaluation was run: engine, version, backend, samples, sha
    }
    title = render_template(env, "pr_title.txt.j2", **context).strip()
    if open_mine:
        target = open_mine[-1]
        context["before"] = _before(proposed, previous)
        comment = render_template(
            env, "pr_comment.md.j2", **context, previous=target.fingerprint or "", pr_num=target.num
        )
        body = render_template(env, "pr_body.md.j2", **context)
        return Plan(
            "update", f"update PR #{target.num}", source, fingerprint, sha, files, target.num, title, body, comment
        )
    human = [pr for pr in prs if not pr.is_bot and pr.is_open and pr.touches_results]
    if human and policy.defer_to_human_prs:
        reason = f"deferred: PR #{human[0].num} by {human[0].author} edits the results"
        return Plan("skip", reason, source, kind="deferred")
    if policy.max_open_per_namespace is not None and budget.open_in_namespace >= policy.max_open_per_namespace:
        reason = f"budget: {budget.open_in_namespace} open evalbot PRs in this namespace"
        return Plan("skip", reason, source, kind="budget")
    if policy.max_opened_per_hour is not None and budget.opened_last_hour >= policy.max_opened_per_hour:
        return Plan("skip", f"budget: {budget.opened_last_hour} PRs opened in the last hour", source, kind="budget")
    body = render_template(env, "pr_body.md.j2", **context)
    if policy.push_to_main and can_write:
        return Plan("push", "push to main", source, fingerprint, sha, files, None, title, body)
    return Plan("open", "open a pull request", source, fingerprint, sha, files, None, title, body)


def opted_out_in_card(card_data: Mapping[str, Any]) -> bool:
    value = card_data.get("evalbot")
    if isinstance(value, str):
        return value.strip().casefold() == "ignore"
    return isinstance(value, Mapping) and bool(value.get("ignore"))
