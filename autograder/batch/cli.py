"""The ``batch`` and ``regrade`` subcommands: argument parsing only, forwarding to ``batch``/``regrade``.

``register(subparsers)`` adds both to the ``diffgrade`` parser; ``main`` runs
them on their own (``python -m autograder.batch.cli batch ...``).
"""

import argparse
import sys
from pathlib import Path

from autograder.batch.errors import BatchError

ISOLATION_HELP = ("auto (default): the strongest sandbox that works here, bwrap then landlock, and no grading "
                  "without one; process: no sandbox, only when asked for (every report says what it does not protect)")


def _batch(args) -> int:
    from autograder.batch.batch import batch
    from autograder.batch.executors import SlurmOptions

    slurm = SlurmOptions(partition=args.partition, time_limit=args.time_limit, mem=args.mem,
                         chunk_size=args.chunk_size, extra_args=tuple(args.sbatch_arg),
                         poll_interval=args.poll_interval, timeout=args.slurm_timeout,
                         cpus_per_task=args.cpus_per_task)
    result = batch(project=args.project, submissions_dir=args.submissions, out_dir=args.output,
                   workers=args.workers, executor=args.executor, roster=args.roster, device=args.device,
                   isolation=args.isolation, progress=not args.quiet, deadline=args.deadline, slurm=slurm,
                   retry_errors=args.retry_errors, task_timeout=args.task_timeout)
    if args.quiet:
        print(f"{len(result.records)} students: {result.graded} graded now, {result.skipped} kept, "
              f"{result.errors} failed; gradebook: {result.gradebook}")
    return 1 if result.errors else 0


def _regrade(args) -> int:
    from autograder.batch.batch import regrade

    record = regrade(project=args.project, student_id=args.student_id, out_dir=args.output, device=args.device,
                     isolation=args.isolation, task_timeout=args.task_timeout)
    print(f"{record.student_id}: {record.total:g} / {record.max_score:g} ({record.status}"
          f"{': ' + record.reason if record.reason else ''}); gradebook updated: {Path(args.output) / 'gradebook.csv'}")
    return 0 if record.status == "graded" else 1


def _guarded(func):
    """Print the batch's own errors as ``diffgrade: error: ...`` with exit status 2."""

    def run(args) -> int:
        try:
            return func(args)
        except BatchError as e:
            print(f"diffgrade: error: {e}", file=sys.stderr)
            return 2

    return run


def register(subparsers) -> None:
    """Add ``batch`` and ``regrade`` to an ``argparse`` subparsers object."""
    p = subparsers.add_parser("batch", help="grade a folder of submissions into a gradebook (resumable)")
    p.add_argument("project", help="p1 .. p5 or the full name, e.g. p1_forward")
    p.add_argument("submissions", type=Path, help="folder with one zip or folder per student")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="output folder (run again with the same folder to resume)")
    p.add_argument("-j", "--workers", type=int, default=None,
                   help="submissions graded at once (default: one per CPU core, or one per GPU with CUDA; "
                        "with slurm: the array's %%M limit, default none)")
    p.add_argument("--executor", default="local", choices=["local", "slurm"],
                   help="local: subprocesses on this machine (default); slurm: a job array")
    p.add_argument("--roster", type=Path, default=None,
                   help="CSV with student_id and optionally file, name, submitted_at columns")
    p.add_argument("--deadline", default=None,
                   help="ISO date and time, e.g. 2025-03-01T23:59:00+01:00; later submissions are flagged late")
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda[:N]")
    p.add_argument("--isolation", default="auto", choices=["auto", "bwrap", "landlock", "process"],
                   help=ISOLATION_HELP)
    p.add_argument("--retry-errors", action="store_true",
                   help="grade again the students whose grading failed in an earlier run")
    p.add_argument("--task-timeout", type=float, default=None, metavar="SECONDS",
                   help="stop one grading after this long (local; default: the project's limits plus a margin)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    s = p.add_argument_group("slurm executor")
    s.add_argument("--partition", default=None, help="sbatch --partition")
    s.add_argument("--time-limit", default=None, help="sbatch --time per array task, e.g. 00:30:00")
    s.add_argument("--mem", default=None, help="sbatch --mem per array task, e.g. 8G")
    s.add_argument("--cpus-per-task", type=int, default=1, help="sbatch --cpus-per-task, and threads per grading")
    s.add_argument("--chunk-size", type=int, default=1, help="submissions per array task (default 1)")
    s.add_argument("--sbatch-arg", action="append", default=[], metavar="ARG",
                   help="extra sbatch argument, repeatable, e.g. --sbatch-arg=--gres=gpu:1")
    s.add_argument("--poll-interval", type=float, default=5.0, metavar="SECONDS", help="between squeue calls")
    s.add_argument("--slurm-timeout", type=float, default=86400.0, metavar="SECONDS",
                   help="give up on (and cancel) the job after this long (default one day)")
    p.set_defaults(func=_guarded(_batch))

    p = subparsers.add_parser("regrade", help="grade one student of a batch again and update its gradebook")
    p.add_argument("project", help="p1 .. p5 or the full name")
    p.add_argument("student_id")
    p.add_argument("-o", "--output", type=Path, required=True, help="the batch's output folder")
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda[:N]")
    p.add_argument("--isolation", default="auto", choices=["auto", "bwrap", "landlock", "process"],
                   help=ISOLATION_HELP)
    p.add_argument("--task-timeout", type=float, default=None, metavar="SECONDS")
    p.set_defaults(func=_guarded(_regrade))


def main(argv: list[str] | None = None) -> int:
    """Run ``batch`` or ``regrade`` without the rest of ``diffgrade``."""
    parser = argparse.ArgumentParser(prog="python -m autograder.batch.cli")
    register(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as e:  # course, config and option errors are ValueErrors
        print(f"diffgrade: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("diffgrade: interrupted; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
