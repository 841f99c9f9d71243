"""The instructor's verbs of ``diffgrade``: argument parsing only, each forwarding to a library function.

``register(subparsers)`` adds:

* ``diffgrade audit PROJECT [--quick] [--max-mutants N] [--sample-seed S] [--jobs N] [--timeout S]
  [--min-kill F] [-o REPORT.md]``: grade mutants of the reference with the hidden tests
  (``autograder.audit.audit``); exit status 1 when the kill fraction is below ``--min-kill``;
* ``diffgrade calibrate PROJECT [--seeds N] [--false-fail P] [--margin M] [--jobs N] [--write]
  [-o REPORT.md]``: thresholds for the quality tests from the reference over several seeds
  (``autograder.calibrate.calibrate``); ``--write`` updates ``assignment.toml``.

Errors of the course (``AuditError``, ``CalibrationError``, bad config) are ``ValueError``s,
which ``diffgrade``'s ``main`` prints as ``diffgrade: error: ...`` with exit status 2.
"""

import sys
from pathlib import Path

DEFAULT_MIN_KILL = 0.95


def _audit(args) -> int:
    from autograder.audit import audit, to_markdown
    from autograder.audit.report import SURVIVED

    def progress(result) -> None:
        if result.status == SURVIVED:
            print(f"survived: {result.mutant.id}  {result.mutant.after}", flush=True)

    report = audit(project=args.project, include_quality=not args.quick, max_mutants=args.max_mutants,
                   jobs=args.jobs, sample_seed=args.sample_seed, timeout=args.timeout, device=args.device,
                   on_result=None if args.quiet else progress)
    print(report.summary())
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.output:
        Path(args.output).write_text(to_markdown(report))
        print(f"report: {args.output}")
    if report.kill_fraction < args.min_kill:
        print(f"the kill fraction {report.kill_fraction:.1%} is below --min-kill {args.min_kill:.1%}; "
              f"{report.survived} mutant(s) survive: strengthen the hidden tests, or declare genuinely "
              f"equivalent mutants in assignments/{report.project}/audit.toml", file=sys.stderr)
        return 1
    return 0


def _calibrate(args) -> int:
    from autograder.calibrate import calibrate, to_markdown

    def progress(seed, reply) -> None:
        values = ", ".join(f"{k}={v:.4g}" for k, v in reply.metrics.items()) or reply.status
        print(f"seed {seed}: {values}", flush=True)

    report = calibrate(project=args.project, seeds=args.seeds, false_fail=args.false_fail, write=args.write,
                       margin=args.margin, jobs=args.jobs, device=args.device, budget=args.budget,
                       timeout=args.timeout, on_seed=None if args.quiet else progress)
    for m in report.metrics:
        current = "none" if m.current is None else f"{m.current:g}"
        new = "none" if m.threshold is None else f"{m.threshold:g}"
        print(f"{m.name}: {len(m.values)} values from {min(m.values, default=float('nan')):.4g} to "
              f"{max(m.values, default=float('nan')):.4g}; threshold {new} (was {current})"
              f"{'; ' + m.note if m.note else ''}")
    if args.output:
        Path(args.output).write_text(to_markdown(report))
        print(f"report: {args.output}")
    if report.written:
        print(f"updated [thresholds] in {report.written}")
    elif report.thresholds:
        print("dry run: add --write to update assignment.toml")
    return 0


def _fraction(text: str) -> float:
    import argparse

    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {text!r}")
    return value


def register(subparsers) -> None:
    """Add ``audit`` and ``calibrate`` to an ``argparse`` subparsers object."""
    p = subparsers.add_parser("audit", help="mutation audit: how many mutants of the reference the hidden "
                                            "tests catch")
    p.add_argument("project", help="p1 .. p5 or the full name, e.g. p1_forward")
    p.add_argument("--quick", action="store_true",
                   help="leave out the slow quality tests (training runs, FID), as grade --quick does")
    p.add_argument("--max-mutants", type=int, default=None, metavar="N",
                   help="grade a seeded random sample of at most N mutants (default: all)")
    p.add_argument("--sample-seed", type=int, default=0, metavar="S", help="seed of that sample (default 0)")
    p.add_argument("-j", "--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="per mutant (default: 20 times the reference's time, at least 10 s)")
    p.add_argument("--min-kill", type=_fraction, default=DEFAULT_MIN_KILL, metavar="F",
                   help=f"exit with status 1 when the kill fraction is below F (default {DEFAULT_MIN_KILL})")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]")
    p.add_argument("-o", "--output", type=Path, default=None, metavar="REPORT.md", help="write a Markdown report")
    p.add_argument("-q", "--quiet", action="store_true", help="do not list survivors as they come")
    p.set_defaults(func=_audit)

    p = subparsers.add_parser("calibrate", help="set the quality tests' thresholds from the reference "
                                                "over several seeds")
    p.add_argument("project", help="p1 .. p5 or the full name, e.g. p2_training")
    p.add_argument("--seeds", type=int, default=10, help="seeds 0 .. N-1 (default 10)")
    p.add_argument("--false-fail", type=float, default=0.01, metavar="P",
                   help="largest acceptable chance that a correct submission fails (default 0.01)")
    p.add_argument("--margin", type=float, default=0.02,
                   help="no threshold below the largest value seen times 1 + margin (default 0.02)")
    p.add_argument("-j", "--jobs", type=int, default=1, help="seeds run at once (default 1)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]")
    p.add_argument("--budget", choices=("cpu", "cuda"), default=None,
                   help="the quality tests' budget (default: the device's kind); --budget cuda on a CPU "
                        "measures the GPU threshold without a GPU, slowly (raise --timeout)")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="time per seed (default: the project's total_timeout_s)")
    p.add_argument("--write", action="store_true", help="update [thresholds] in assignment.toml")
    p.add_argument("-o", "--output", type=Path, default=None, metavar="REPORT.md", help="write a Markdown report")
    p.add_argument("-q", "--quiet", action="store_true", help="no line per seed")
    p.set_defaults(func=_calibrate)


def main(argv: list[str] | None = None) -> int:
    """Run ``audit`` or ``calibrate`` on their own: ``python -m autograder.instructor_cli audit p1``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m autograder.instructor_cli")
    register(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ValueError as e:
        print(f"diffgrade: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
