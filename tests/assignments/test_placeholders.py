"""Does a submission without work earn at most 5% of a project's points?

A placeholder submission is the student template with every stub replaced by a cheap
return of the right shape and dtype (``placeholders.py``), in several variants: zeros,
the inputs handed back, the noise handed back, random values, and tricks that pass
property checks. Each is graded with every hidden test of the project, the quality tests
included, through the grader's own runner and scoring (in this process: the code is ours),
and its total must stay within ``BOUND`` of the maximum.
"""

from contextlib import nullcontext
from pathlib import Path

import pytest

from autograder.config import load
from autograder.grading import runner, scoring
from autograder.grading.inprocess import run_in_process

from . import placeholders
from .test_p1_hidden import import_file, import_package
from .test_p2_hidden import quiet_run
from .test_p3_hidden import reference_imports

ROOT = placeholders.ROOT
SUPPORT = Path(__file__).resolve().parent
PROJECTS = ("p1_forward", "p2_training", "p3_sampling")
VARIANTS = {p: import_file(SUPPORT / f"{p}_support" / "placeholders.py", f"{p}_placeholders").VARIANTS
            for p in PROJECTS}
# P2's quality test trains for 2000 (no-op) steps and samples: about half a minute a variant.
CASES = [pytest.param(p, v, id=f"{p}-{v}", marks=[pytest.mark.slow] if p == "p2_training" else [])
         for p in PROJECTS for v in VARIANTS[p]]


def grade_placeholder(project: str, variant: str, tmp: Path):
    """``(rows, outcomes)``: the scored hidden tests of the placeholder ``variant`` of ``project``."""
    package = placeholders.build(project, VARIANTS[project][variant], tmp / "submission")
    imports = nullcontext() if project == "p1_forward" else reference_imports()
    scratch = quiet_run(tmp / "scratch") if project == "p2_training" else nullcontext()
    with imports, scratch:
        module = import_package(package, f"{project}_placeholder_{variant}")
        outcomes = run_in_process(project=project, module=module, root=ROOT, seed=0)
    return scoring.score(outcomes, load(ROOT / "assignments" / project).points), outcomes


@pytest.mark.parametrize("project", PROJECTS)
def test_every_variant_fills_every_stub(project, tmp_path):
    """Does each variant give a body to exactly the template's stubs (so none is left raising)?"""
    names = placeholders.stub_names(project)
    assert names, f"no stubs found in student_template/{project}"
    for variant, bodies in VARIANTS[project].items():
        assert set(bodies) == names, (variant, sorted(set(bodies) ^ names))
        package = placeholders.build(project, bodies, tmp_path / variant)
        text = "".join(p.read_text() for p in package.glob("*.py"))
        assert "NotImplementedError(\"complete" not in text


@pytest.mark.parametrize("project, variant", CASES)
def test_placeholder_earns_at_most_five_percent(project, variant, tmp_path):
    """Graded with every hidden test, quality tests included, does the placeholder stay within 5%?"""
    rows, outcomes = grade_placeholder(project, variant, tmp_path)
    score, max_score = scoring.total(rows)
    assert max_score == load(ROOT / "assignments" / project).max_score
    earned = {r.name: r.score for r in rows if r.score > 0}
    assert score <= placeholders.BOUND * max_score, f"{project} placeholder {variant!r}: {score} of {max_score}: {earned}"
    quality = {t.function for t in runner.collect(ROOT / "assignments" / project / "tests" / "hidden")
               if "quality" in t.tags}
    assert not any(o.passed for o in outcomes if o.function in quality), \
        [o.name for o in outcomes if o.function in quality and o.passed]
