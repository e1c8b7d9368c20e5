"""Fault injection for the local Hub stand-in (`bot.sim.hub`).

A `Fault` applies to requests of one route (or `*`, every named route except the client's
`agent_harnesses` side request), optionally of one HTTP method. Kinds:

* `429` (with `Retry-After: <retry_after>` seconds, 0 allowed), `500`, `502`, `503`, `504`: the
  request is answered with that status and NOT applied;
* `delay`: the request waits `delay` seconds, then goes on (delays add up, and a delayed request
  can still meet another fault);
* `drop_before`: the connection is closed without a response, the request NOT applied;
* `drop_after`: the request IS applied (a commit is made, a PR opened), then the connection is
  closed without the response.

Each fault fires for the next `times=N` matching requests, or for each matching request with
probability `rate=p`, drawn from the sim's RNG (seeded: the same requests in the same order meet
the same faults). Both given: at most N firings, each with probability p. Neither given: every
matching request (the usual shape for `delay`).

Command-line spec (`evalbot sim --faults SPEC`): comma-separated faults, each
`route[@METHOD]:kind[:option=value...]`, options `times`, `rate`, `retry_after`, `delay`, e.g.

    commit:drop_after:times=1,*:429:rate=0.2:retry_after=0,resolve@HEAD:delay=0.5

`delay=S` may stand in place of the kind (as in the last item), or follow `delay` as
`delay:S`.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass
from typing import TypeVar

_N = TypeVar("_N", int, float)

ROUTES = frozenset(
    {
        "agent_harnesses",
        "list_datasets",
        "leaderboard",
        "edit_comment",
        "whoami",
        "model_info",
        "resolve",
        "refs",
        "discussions",
        "discussion_details",
        "validate_yaml",
        "preupload",
        "commit",
        "create_discussion",
        "comment",
        "status",
        "title",
        "merge",
        "list_models",
        "tree",
        "org_members",
        "run_job",
        "list_jobs",
        "inspect_job",
        "job_logs",
        "cancel_job",
    }
)
"""Route names a fault can name (besides `*`)."""

HTTP_KINDS = frozenset({"429", "500", "502", "503", "504"})
KINDS = HTTP_KINDS | {"delay", "drop_before", "drop_after"}
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"})


@dataclass(frozen=True)
class Fault:
    """One injected fault; see the module docstring. Invalid values raise `ValueError`."""

    route: str
    kind: str
    method: str | None = None
    times: int | None = None
    rate: float | None = None
    retry_after: int = 0
    delay: float = 0.0

    def __post_init__(self) -> None:
        if self.route != "*" and self.route not in ROUTES:
            raise ValueError(f"unknown route {self.route!r}; expected * or one of {', '.join(sorted(ROUTES))}")
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {', '.join(sorted(KINDS))}")
        if self.method is not None and self.method not in METHODS:
            raise ValueError(f"unknown HTTP method {self.method!r}")
        if self.times is not None and self.times < 1:
            raise ValueError(f"times must be at least 1, got {self.times}")
        if self.rate is not None and not (0.0 <= self.rate <= 1.0):
            raise ValueError(f"rate must be between 0 and 1, got {self.rate}")
        if self.retry_after < 0:
            raise ValueError(f"retry_after must be >= 0, got {self.retry_after}")
        if not math.isfinite(self.delay) or self.delay < 0:
            raise ValueError(f"delay must be >= 0 seconds, got {self.delay}")
        if self.kind == "delay" and self.delay == 0:
            raise ValueError("a delay fault needs delay=<seconds> greater than 0")

    @property
    def status(self) -> int | None:
        """The HTTP status this fault answers with, or None for delays and drops."""
        return int(self.kind) if self.kind in HTTP_KINDS else None

    def matches(self, route: str, method: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.route == "*":
            return route in ROUTES and route != "agent_harnesses"
        return self.route == route

    def spec(self) -> str:
        """This fault in the command-line syntax (`parse_faults` reads it back)."""
        head = self.route if self.method is None else f"{self.route}@{self.method}"
        parts = [head, self.kind]
        if self.times is not None:
            parts.append(f"times={self.times}")
        if self.rate is not None:
            parts.append(f"rate={self.rate}")
        if self.retry_after:
            parts.append(f"retry_after={self.retry_after}")
        if self.delay:
            parts.append(f"delay={self.delay}")
        return ":".join(parts)


@dataclass(frozen=True)
class Decision:
    """What the fault plan decided for one request: wait `delay`, then `fault` (None: serve it)."""

    delay: float = 0.0
    fault: Fault | None = None


class FaultPlan:
    """The active faults with their remaining counts and a seeded RNG; thread-safe."""

    def __init__(self, faults: list[Fault] | tuple[Fault, ...] = (), seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._faults: list[Fault] = []
        self._left: list[int | None] = []
        self.injected = 0
        for fault in faults:
            self.add(fault)

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)
            self._left.append(fault.times)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._left.clear()

    @property
    def faults(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def decide(self, route: str, method: str) -> Decision:
        """Walk the faults in order: delays add up; the first other fault that fires ends the walk."""
        delay = 0.0
        with self._lock:
            for i, fault in enumerate(self._faults):
                left = self._left[i]
                if left == 0 or not fault.matches(route, method):
                    continue
                if fault.rate is not None and self._rng.random() >= fault.rate:
                    continue
                if left is not None:
                    self._left[i] = left - 1
                self.injected += 1
                if fault.kind == "delay":
                    delay += fault.delay
                    continue
                return Decision(delay + fault.delay, fault)
        return Decision(delay, None)


def parse_faults(spec: str) -> list[Fault]:
    """Parse a `--faults` spec (see the module docstring); `ValueError` names the bad part."""
    faults = []
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        try:
            faults.append(_parse_one(item))
        except ValueError as e:
            raise ValueError(f"bad fault {item!r}: {e}") from None
    return faults


def _parse_one(item: str) -> Fault:
    parts = [p.strip() for p in item.split(":")]
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise ValueError("expected route[@METHOD]:kind[:option=value...]")
    route, _, method = parts[0].partition("@")
    options: dict[str, str] = {}
    kind = parts[1]
    rest = parts[2:]
    if "=" in kind:  # `resolve:delay=0.5`
        name, _, value = kind.partition("=")
        if name.strip() != "delay":
            raise ValueError(f"expected a fault kind, got {kind!r}")
        kind, options["delay"] = "delay", value.strip()
    elif kind == "delay" and rest and "=" not in rest[0]:  # `resolve:delay:0.5`
        options["delay"] = rest.pop(0)
    for option in rest:
        name, eq, value = option.partition("=")
        name = name.strip()
        if not eq or not value.strip():
            raise ValueError(f"option {option!r} is not name=value")
        if name not in {"times", "rate", "retry_after", "delay"}:
            raise ValueError(f"unknown option {name!r}; expected times, rate, retry_after or delay")
        if name in options:
            raise ValueError(f"option {name!r} given twice")
        options[name] = value.strip()
    return Fault(
        route=route.strip(),
        kind=kind,
        method=method.strip().upper() or None,
        times=_number(options, "times", int),
        rate=_number(options, "rate", float),
        retry_after=_number(options, "retry_after", int) or 0,
        delay=_number(options, "delay", float) or 0.0,
    )


def _number(options: dict[str, str], name: str, kind: type[_N]) -> _N | None:
    if name not in options:
        return None
    try:
        return kind(options[name])
    except ValueError:
        raise ValueError(f"{name}={options[name]!r} is not {'an integer' if kind is int else 'a number'}") from None
