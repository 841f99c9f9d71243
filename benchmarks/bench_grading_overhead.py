"""How much does the sandbox cost? Grading one P1 submission through the worker
versus running the same hidden tests on the same code in-process.

Both sides are measured the same way: a fresh Python process that imports what
it needs and runs every hidden test of P1 on ``examples/p1_forward/perfect``;
runs alternate so that machine noise hits both equally. Prints the median wall
times and their ratio (target: at most 1.3).

    python benchmarks/bench_grading_overhead.py [--repeats 5] [--isolation auto]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SUBMISSION = REPO / "examples" / "p1_forward" / "perfect"

IN_PROCESS = f"""
import importlib.util, sys
from pathlib import Path
sys.path.insert(0, {str(REPO)!r})
from autograder import config, course
from autograder.grading import scoring
from autograder.grading.inprocess import run_in_process
spec = importlib.util.spec_from_file_location(
    "student_p1", {str(SUBMISSION / "p1_forward" / "__init__.py")!r},
    submodule_search_locations=[{str(SUBMISSION / "p1_forward")!r}])
module = importlib.util.module_from_spec(spec); sys.modules["student_p1"] = module; spec.loader.exec_module(module)
artifacts = Path(sys.argv[1]); artifacts.mkdir(parents=True, exist_ok=True)
outcomes = run_in_process(project="p1", module=module, root=Path({str(REPO)!r}), artifacts=artifacts)
cfg = config.load(course.assignment_dir("p1", Path({str(REPO)!r})))
print(scoring.total(scoring.score(outcomes, cfg.points)))
"""

SANDBOXED = f"""
import sys
sys.path.insert(0, {str(REPO)!r})
from autograder.grading.grade import grade
r = grade(project="p1", submission={str(SUBMISSION)!r}, out_dir=sys.argv[1], device="cpu",
          isolation=sys.argv[2], root={str(REPO)!r})
print((r.score, r.max_score))
"""


def timed(code: str, *args: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"benchmark run failed:\n{done.stderr}")
    return elapsed, done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--isolation", default="auto", choices=["auto", "bwrap", "landlock", "process"])
    args = parser.parse_args()
    from autograder.sandbox.isolation import choose

    level = choose(args.isolation).level
    inproc, sandboxed = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeats + 1):  # the first round warms the file cache and is dropped
            a, score_a = timed(IN_PROCESS, f"{tmp}/a{i}")
            b, score_b = timed(SANDBOXED, f"{tmp}/b{i}", level)
            if score_a != score_b:
                raise SystemExit(f"scores differ: in-process {score_a}, sandboxed {score_b}")
            if i:
                inproc.append(a)
                sandboxed.append(b)
    a, b = statistics.median(inproc), statistics.median(sandboxed)
    print(f"P1 hidden tests on examples/p1_forward/perfect, {args.repeats} runs each, median wall time")
    print(f"  in-process          {a:6.2f} s")
    print(f"  sandboxed ({level:7s}) {b:6.2f} s")
    print(f"  ratio sandboxed / in-process: {b / a:.2f}  (target <= 1.30)")


if __name__ == "__main__":
    main()
