"""Running a project's hidden tests on a module imported in this process.

No sandbox: this is for trusted code only, the reference, an instructor's
second implementation, mutants of the reference, and the baseline of the
sandbox benchmark. Fixtures are the same as in ``grade``.
"""

from pathlib import Path

import torch

from autograder import config as config_mod
from autograder import course
from autograder.grading import runner
from autograder.grading.grade import load_reference
from autograder.sandbox.local import InProcessStudent
from autograder.testing import Checker, Metrics, default_budget


def run_in_process(*, project: str, module, root: Path | None = None, device: str = "cpu",
                   artifacts: Path | None = None, tests=None, seed: int = 0,
                   metrics: Metrics | None = None, budget: str | None = None) -> list[runner.TestOutcome]:
    """Outcomes of every hidden test (or of ``tests``) with ``module`` as the student's package.

    ``budget``: the quality tests' budget (``autograder.testing``); by default the device's kind.
    """
    root = Path(root) if root else course.course_root()
    adir = course.assignment_dir(project, root)
    cfg = config_mod.load(adir)
    student = InProcessStudent(module)
    fixtures = {"student": student, "provided": student._construct,
                "ref": load_reference(course.project_name(project), root), "check": Checker(cfg),
                "device": torch.device(device), "config": cfg, "artifacts": artifacts,
                "metrics": metrics if metrics is not None else Metrics(), "seed": seed,
                "budget": budget or default_budget(device)}
    return runner.run_tests(tests if tests is not None else runner.collect(adir / "tests" / "hidden"), fixtures)
