"""Grade one submission of one project: the whole pipeline behind ``diffgrade grade``.

1. stage the submission (folder or zip) into a scratch folder;
2. start the sandboxed worker at once, so it imports torch while we prepare;
3. import the reference and collect the hidden tests (trusted, in this process);
4. run every test, calling the student's code through the worker;
5. score, and write ``results.json``, ``feedback.md`` and plots to ``out_dir``.

Problems with the submission never raise: they cost points and are explained in
the report. Problems with the course itself (bad config, missing tests) raise.
"""

import importlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

# Nothing imported here imports torch: grade() spawns the worker first, so the
# worker's import of torch overlaps with ours instead of following it.
from autograder import config as config_mod
from autograder import course
from autograder.grading import report
from autograder.sandbox import isolation as iso
from autograder.sandbox.client import StudentProxy, Worker
from autograder.submission import SubmissionError, stage


def resolve_device(device: str) -> str:
    """``auto`` is CUDA when available, else CPU; asking for CUDA without one is an error."""
    if not (device in ("cpu", "auto") or device.startswith("cuda")):
        raise ValueError(f"unknown device {device!r}; expected 'auto', 'cpu' or 'cuda[:N]'")
    if device == "cpu" or (device == "auto" and not _cuda_maybe_present()):
        return "cpu"
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was requested but CUDA is not available here")
    return device


def _cuda_maybe_present() -> bool:
    """Cheap test before importing torch: no NVIDIA device node means no CUDA."""
    return any(Path("/dev").glob("nvidia[0-9]*"))


def load_reference(project: str, root: Path):
    """The reference package, importable by its plain name as later projects expect.

    Packages of that name imported earlier from elsewhere (another course, a toy
    package in tests) are dropped first, so the reference is always this course's.
    """
    solutions = Path(root).resolve() / "solutions"
    for name in [m for m in sys.modules if m.split(".")[0] in course.PROJECTS]:
        origin = getattr(sys.modules[name], "__file__", None) or ""
        if not Path(origin).resolve().is_relative_to(solutions):
            del sys.modules[name]
    # First on the path, even if it is there already: another course's solutions put in
    # front of it since (a toy course in tests, say) would otherwise shadow it.
    while str(solutions) in sys.path:
        sys.path.remove(str(solutions))
    sys.path.insert(0, str(solutions))
    return importlib.import_module(project)


def stage_provided(requires: tuple[str, ...], root: Path, dest: Path) -> Path:
    """Copies of the reference packages of earlier projects, importable by the student's code.

    Only the packages named in ``requires`` are copied, so no other solution is visible.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for name in requires:
        src = root / "solutions" / course.project_name(name)
        shutil.copytree(src, dest / src.name, ignore=shutil.ignore_patterns("__pycache__"))
    for dirpath, _, filenames in os.walk(dest):  # readable by the sandbox's unprivileged user
        os.chmod(dirpath, 0o755)
        for f in filenames:
            os.chmod(Path(dirpath) / f, 0o644)
    return dest


def _failed_everywhere(tests, message: str) -> list:
    from autograder.grading.runner import TestOutcome

    return [TestOutcome(t.name, t.function, False, message, weight=t.weight) for t in tests]


def grade(*, project: str, submission: Path, out_dir: Path, device: str = "auto", isolation: str = "auto",
          threads: int | None = None, root: Path | None = None, on_test=None,
          quick: bool = False) -> report.GradeResult:
    """Grade ``submission`` for ``project`` and write the reports into ``out_dir``.

    ``quick`` leaves out the tests tagged ``quality`` (training runs, FID); their points
    are left out of the maximum too, and the report says so.
    """
    start = time.monotonic()
    root = Path(root) if root else course.course_root()
    project = course.project_name(project)
    if not Path(submission).exists():  # a typo in a path is the caller's problem, not a zero score
        raise SubmissionError(f"{submission}: no such file or folder")
    adir = course.assignment_dir(project, root)
    cfg = config_mod.load(adir)
    device = resolve_device(device)
    chosen = iso.choose(isolation)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    artifacts = out_dir / "artifacts"
    shutil.rmtree(artifacts, ignore_errors=True)
    artifacts.mkdir()
    notes: list[str] = []
    scratch = Path(tempfile.mkdtemp(prefix="diffgrade-grade-"))
    worker = None
    try:
        try:
            staged = stage(submission, scratch / "submission", package=cfg.package, required=cfg.files)
        except SubmissionError as e:
            staged = None
            notes.append(f"The submission could not be loaded: {e}")
        if staged is not None:
            notes += [f"Required file missing: {m}" for m in staged.missing]
            notes += [f"Ignored: {s}" for s in staged.skipped]
            worker = Worker(package=cfg.package, submission_dir=staged.root, isolation=chosen,
                            limits=iso.Limits(memory_mb=cfg.limits.memory_mb, gpu_memory_mb=cfg.limits.gpu_memory_mb),
                            call_timeout=cfg.limits.call_timeout_s,
                            startup_timeout=cfg.limits.startup_timeout_s,
                            threads=threads or os.cpu_count() or 1, device=device,
                            provided=(stage_provided(cfg.requires, root, scratch / "provided"),))
            worker.start()
        import torch  # while the worker starts

        from autograder.grading import runner, scoring
        from autograder.testing import Checker, Metrics, default_budget

        tests = runner.collect(adir / "tests" / "hidden")
        if not tests:
            raise config_mod.ConfigError(f"{adir / 'tests' / 'hidden'}: no hidden tests found")
        if quick:
            kept = runner.without_tags(tests, {"quality"})
            if len(kept) < len(tests):
                notes.append(f"Quick grading: {len(tests) - len(kept)} quality test(s) were not run "
                             "and are not counted in the maximum.")
            tests = kept
        fixtures = {
            "student": StudentProxy(worker) if worker else None,
            "provided": worker.construct if worker else None,
            "ref": load_reference(project, root),
            "check": Checker(cfg),
            "device": torch.device(device),
            "config": cfg,
            "artifacts": artifacts,
            "metrics": Metrics(),
            "seed": 0,
            "budget": default_budget(device),
        }
        if worker is None:
            outcomes = _failed_everywhere(tests, notes[-1])
        else:
            hello = worker.handshake_or_error()
            if hello.get("import_error"):
                err = hello["import_error"]
                notes.append(f"Your package failed to import: {err['exc_type']}: {err['message']}")
            outcomes = runner.run_tests(tests, fixtures, on_done=on_test,
                                        deadline=start + cfg.limits.total_timeout_s)
            printed = worker.stderr_tail(1500).strip()
            if printed:
                notes.append(f"Your code printed (last lines):\n{printed}")
        rows = scoring.score(outcomes, cfg.points)
        measured = fixtures["metrics"].values
    finally:
        if worker is not None:
            worker.close()
        shutil.rmtree(scratch, ignore_errors=True)
    score, max_score = scoring.total(rows)
    import torch

    result = report.GradeResult(
        project=project, title=cfg.title, submission=str(submission), score=score, max_score=max_score,
        tests=rows, isolation=chosen.level, isolation_detail=chosen.description, device=device,
        seconds=time.monotonic() - start, notes=notes, hidden_visibility=cfg.hidden_visibility,
        versions={"python": sys.version.split()[0], "torch": torch.__version__}, metrics=measured)
    report.write(result, out_dir)
    if not any(artifacts.iterdir()):
        artifacts.rmdir()
    return result
