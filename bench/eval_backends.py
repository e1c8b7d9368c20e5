"""Evaluation throughput: the same tasks with the vLLM backend and with transformers, in one run.

Meant for a GPU machine. By default it builds the tiny offline model and tasks of
`evaluators.tiny` (so it needs no network); pass `--model DIR` for a real local model folder and
`--tasks`/`--custom-tasks` for your own tasks. Both backends get the same `EvalSettings` (greedy,
the tasks' own generation lengths, the same `--limit`) apart from the backend itself. Prints
seconds, samples/second and the vLLM-vs-transformers ratio measured in the same run; a backend
that cannot run here (vLLM is GPU-only and an optional extra) is reported as skipped, not guessed.

    python bench/eval_backends.py [--engine lighteval|inspect] [--model DIR] [--limit N] [--repeat 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evaluators import EvalSettings, EvaluatorUnavailable, ModelRef, TaskSpec, get_evaluator  # noqa: E402
from evaluators.tiny import build_tiny_model, write_tiny_tasks  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("lighteval", "inspect"), default="lighteval")
    parser.add_argument("--model", type=Path, help="a local model folder (default: the tiny offline model)")
    parser.add_argument("--tasks", help="comma-separated task strings (default: the tiny tasks)")
    parser.add_argument("--custom-tasks", type=Path)
    parser.add_argument("--device", default="auto", help="for transformers (default: CUDA when present)")
    parser.add_argument("--limit", type=int, help="samples per task, the same for both backends")
    parser.add_argument("--dtype", help="the same dtype for both backends (default: the engines' own)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per backend; the fastest is reported")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="evalbot-bench-"))
    model_dir = args.model or build_tiny_model(work / "model")
    if args.tasks:
        spellings, custom = args.tasks.split(","), args.custom_tasks
    else:
        tiny = write_tiny_tasks(work / "tasks")
        custom = tiny.lighteval_file if args.engine == "lighteval" else None
        spellings = (
            ["tiny_mc|0", "tiny_qa|0"]
            if args.engine == "lighteval"
            else [f"{tiny.inspect_file}@tiny_mc", f"{tiny.inspect_file}@tiny_qa"]
        )
    tasks = [TaskSpec.parse(t, args.engine) for t in spellings]
    model = ModelRef("local/bench", "0" * 40, model_dir)
    evaluator = get_evaluator(args.engine)

    rows: list[tuple[str, str, float | None, int]] = []
    for backend in ("transformers", "vllm"):
        settings = EvalSettings(
            engine=args.engine,
            backend=backend,  # type: ignore[arg-type]
            device=args.device,
            dtype=args.dtype,
            limit=args.limit,
            custom_tasks=custom,
        )
        best: float | None = None
        samples = 0
        try:
            for _ in range(args.repeat):
                started = time.perf_counter()
                run = evaluator.run(model, tasks, settings)
                elapsed = time.perf_counter() - started
                best = elapsed if best is None else min(best, elapsed)
                samples = sum(run.samples.values())
            rows.append((backend, "ok", best, samples))
        except EvaluatorUnavailable as e:
            rows.append((backend, f"skipped: {e}", None, 0))

    limit = f"limit {args.limit}" if args.limit else "all samples"
    print(f"engine {args.engine}, model {model_dir}, tasks {', '.join(spellings)}, {limit}, best of {args.repeat}\n")
    print(f"{'backend':<14} {'seconds':>9} {'samples/s':>10}  status")
    for backend, status, seconds, samples in rows:
        rate = f"{samples / seconds:10.1f}" if seconds else f"{'-':>10}"
        shown = f"{seconds:9.2f}" if seconds is not None else f"{'-':>9}"
        print(f"{backend:<14} {shown} {rate}  {status}")
    timed = {backend: seconds for backend, _, seconds, _ in rows if seconds}
    if len(timed) == 2:
        print(f"\nvLLM vs transformers: {timed['transformers'] / timed['vllm']:.2f}x faster (same run)")
    else:
        print("\nratio not available: both backends must run on this machine (vLLM needs a GPU and evalbot[gpu])")
    return 0


if __name__ == "__main__":  # vLLM spawns worker processes: the guard is required
    sys.exit(main())
