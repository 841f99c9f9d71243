"""How well does batch grading scale? The same batch graded with 1 worker and with 2.

The batch is ``--copies`` copies of the P1 example submissions ``perfect`` and
``partial`` (8 by default). Each configuration grades it from scratch into its
own output folder; configurations alternate over ``--repeats`` rounds so that
machine noise hits each equally. Prints the median wall time per configuration,
the throughput (submissions per minute) and the ratio of 2 workers to 1
(target: at least 1.7 on 2 cores). When a Slurm cluster answers ``sinfo``, the
local executor is also compared with the Slurm executor at the same width.
Every configuration must produce the same gradebook, byte for byte.

    python benchmarks/bench_batch.py [--copies 8] [--repeats 1] [--isolation auto] [--slurm auto|yes|no]
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder.batch import batch  # noqa: E402
from autograder.batch.executors import SlurmOptions  # noqa: E402
from autograder.batch.resources import cpu_count  # noqa: E402

EXAMPLES = REPO / "examples" / "p1_forward"
KINDS = ("perfect", "partial")


def make_batch(folder: Path, copies: int) -> Path:
    """``copies`` submissions, alternating the example kinds: s01_perfect, s02_partial, ..."""
    for i in range(copies):
        kind = KINDS[i % len(KINDS)]
        shutil.copytree(EXAMPLES / kind, folder / f"s{i + 1:02d}_{kind}")
    return folder


def slurm_answers() -> bool:
    if shutil.which("sinfo") is None or shutil.which("sbatch") is None:
        return False
    try:
        return subprocess.run(["sinfo", "-h"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def timed(submissions: Path, out: Path, *, workers: int, executor: str, isolation: str) -> tuple[float, bytes]:
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    result = batch(project="p1", submissions_dir=submissions, out_dir=out, workers=workers, executor=executor,
                   device="cpu", isolation=isolation, root=REPO, progress=False,
                   slurm=SlurmOptions(poll_interval=0.5, timeout=3600))
    elapsed = time.perf_counter() - start
    if result.errors:
        raise SystemExit(f"{executor} with {workers} workers: {result.errors} gradings failed; see {out}")
    return elapsed, result.gradebook.read_bytes()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--isolation", default="auto", choices=["auto", "bwrap", "landlock", "process"])
    parser.add_argument("--slurm", default="auto", choices=["auto", "yes", "no"])
    args = parser.parse_args(argv)
    use_slurm = args.slurm == "yes" or (args.slurm == "auto" and slurm_answers())
    configs = [("local", 1), ("local", 2)] + ([("slurm", 2)] if use_slurm else [])
    times: dict[tuple[str, int], list[float]] = {c: [] for c in configs}
    gradebooks = set()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        submissions = make_batch(Path(tmp) / "submissions", args.copies)
        print(f"{args.copies} P1 submissions, {cpu_count()} cores, isolation {args.isolation}")
        for r in range(args.repeats):
            for executor, workers in configs:
                elapsed, gradebook = timed(submissions, Path(tmp) / f"out-{executor}-{workers}", workers=workers,
                                           executor=executor, isolation=args.isolation)
                times[(executor, workers)].append(elapsed)
                gradebooks.add(gradebook)
                print(f"  round {r + 1}: {executor:5s} x{workers}: {elapsed:6.1f} s", flush=True)
    median = {c: statistics.median(t) for c, t in times.items()}
    print()
    for (executor, workers), t in median.items():
        print(f"{executor:5s} {workers} worker(s): {t:6.1f} s  ({60 * args.copies / t:5.1f} submissions/min)")
    ratio = median[("local", 1)] / median[("local", 2)]
    print(f"throughput, 2 workers / 1 worker: {ratio:.2f}x (target >= 1.7 on 2 cores)")
    if use_slurm:
        print(f"throughput, slurm x2 / local x2:  {median[('local', 2)] / median[('slurm', 2)]:.2f}x")
    print(f"gradebooks identical across configurations: {'yes' if len(gradebooks) == 1 else 'NO'}")
    return 0 if len(gradebooks) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
