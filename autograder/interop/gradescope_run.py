"""What ``run_autograder`` runs inside Gradescope's container, once per submission.

``python -m autograder.interop.gradescope_run --project p1_forward --root /autograder``
grades ``<root>/submission`` with the course in ``<root>/source`` and writes
``<root>/results/results.json`` (and ``feedback.md``). Exit status 0: graded;
3: grading crashed, and a zero-score ``results.json`` that says so was written.

Students upload a zip (Gradescope unpacks it), a package folder, or the loose
files of the package; loose files are put back into their package folder first.
"""

import argparse
import json
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path, PurePosixPath

from autograder.grading.report import write_atomic

CRASHED = 3


def _has_package(folder: Path, package: str) -> bool:
    return any(p.is_file() for p in folder.rglob(f"{package}/__init__.py"))


def prepare_submission(submission: Path, *, package: str, required: tuple[str, ...], scratch: Path) -> Path:
    """The path to grade: ``submission`` itself, its only zip, or a copy of its loose package files.

    Loose files are the top-level ``.py`` files named like a file of ``required``
    (``forward.py`` for ``p1_forward/forward.py``); they are copied into
    ``scratch/<package>/``.
    """
    if not submission.is_dir() or _has_package(submission, package):
        return submission
    zips = sorted(submission.glob("*.zip"))
    if len(zips) == 1:
        return zips[0]
    wanted = {PurePosixPath(f).name for f in required if PurePosixPath(f).parts[:1] == (package,)}
    loose = [p for p in sorted(submission.glob("*.py")) if p.name in wanted and p.is_file() and not p.is_symlink()]
    if not loose:
        return submission
    target = scratch / package
    target.mkdir(parents=True)
    for path in loose:
        shutil.copyfile(path, target / path.name)
    print(f"note: the submission has loose files ({', '.join(p.name for p in loose)}); "
          f"grading them as the package {package}/", flush=True)
    return scratch


def crash_results(message: str, *, seconds: float, details: str = "") -> dict:
    """A Gradescope ``results.json`` for a submission that could not be graded: score 0 and why."""
    output = ("The autograder crashed while grading this submission, so it has no score yet (0 for now). "
              "This is a problem with the grader, not necessarily with your code; the course staff can see "
              f"the details.\n\n{message}")
    return {"score": 0, "execution_time": round(seconds, 2), "output": output,
            "visibility": "visible", "stdout_visibility": "hidden",
            "extra_data": {"crashed": True, "details": details[-4000:]}, "tests": []}


def run(*, project: str, root: Path, isolation: str = "auto", device: str = "auto") -> int:
    """Grade ``root/submission``; 0 when graded, ``CRASHED`` when a crash report was written instead."""
    start = time.monotonic()
    root = Path(root)
    source, results = root / "source", root / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "results.json").unlink(missing_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="diffgrade-gradescope-"))
    try:
        from autograder import config, course
        from autograder.grading.grade import grade
        from autograder.grading.progress import print_test

        cfg = config.load(course.assignment_dir(project, source))
        submission = prepare_submission(root / "submission", package=cfg.package, required=cfg.files,
                                        scratch=scratch / "loose")
        result = grade(project=project, submission=submission, out_dir=results, root=source,
                       isolation=isolation, device=device, on_test=print_test)
    except Exception as e:  # anything at all: the student must still get a results.json
        details = traceback.format_exc()
        print(details, file=sys.stderr, flush=True)
        data = crash_results(f"{type(e).__name__}: {e}", seconds=time.monotonic() - start, details=details)
        write_atomic(results / "results.json", json.dumps(data, indent=2) + "\n")
        return CRASHED
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"\n{result.title}: {result.score:g} / {result.max_score:g}   "
          f"(isolation: {result.isolation}, device: {result.device}, {result.seconds:.1f} s)", flush=True)
    return 0


def check_isolation(requested: str) -> int:
    """``setup.sh``'s check: print the level ``requested`` gives in this image, or why it gives none (exit 1)."""
    from autograder.sandbox import isolation as iso

    try:
        chosen = iso.choose(requested)
    except (iso.IsolationUnavailable, ValueError) as e:
        print(f"setup.sh: error: {e}. Build the zip again with `diffgrade gradescope PROJECT --isolation "
              f"process` to grade in this image without a sandbox.", file=sys.stderr, flush=True)
        return 1
    print(f"setup.sh: student code will run at isolation {chosen.level}: {chosen.description}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    from autograder.sandbox.isolation import LEVELS

    parser = argparse.ArgumentParser(prog="python -m autograder.interop.gradescope_run",
                                     description="Grade a Gradescope submission (run by run_autograder).")
    parser.add_argument("--project")
    parser.add_argument("--root", type=Path, default=Path("/autograder"))
    parser.add_argument("--isolation", default="auto", choices=["auto", *LEVELS])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--check-isolation", metavar="LEVEL", choices=["auto", *LEVELS],
                        help="only check that LEVEL works here and say which level it gives (setup.sh)")
    args = parser.parse_args(argv)
    if args.check_isolation:
        return check_isolation(args.check_isolation)
    if not args.project:
        parser.error("--project is required")
    return run(project=args.project, root=args.root, isolation=args.isolation, device=args.device)


if __name__ == "__main__":
    sys.exit(main())
