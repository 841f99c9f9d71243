"""Are the P1 public tests real: do they pass on the reference and fail on the stubs?"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "solutions" / "p1_forward"
PUBLIC_TESTS = ROOT / "assignments" / "p1_forward" / "tests" / "public"

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"


def clear_solutions(source: str) -> str:
    """Replace each ``# BEGIN SOLUTION`` .. ``# END SOLUTION`` region by
    ``raise NotImplementedError()`` at the indentation of its BEGIN line."""
    out, indent = [], None
    for line in source.splitlines(keepends=True):
        stripped = line.strip()
        if stripped == BEGIN:
            assert indent is None, "nested BEGIN SOLUTION"
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}raise NotImplementedError()\n")
        elif stripped == END:
            assert indent is not None, "END SOLUTION without BEGIN"
            indent = None
        elif indent is None:
            out.append(line)
    assert indent is None, "BEGIN SOLUTION without END"
    return "".join(out)


def make_bundle(root: Path, *, edit=None) -> Path:
    """A student-like bundle under ``root``: ``p1_forward/`` (the reference, passed
    through ``edit`` when given) and ``tests/`` (the public tests)."""
    root.mkdir()
    package = root / "p1_forward"
    package.mkdir()
    for src in sorted(REFERENCE.glob("*.py")):
        text = src.read_text()
        (package / src.name).write_text(edit(src.name, text) if edit else text)
    shutil.copytree(PUBLIC_TESTS, root / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def run_public_tests(bundle: Path) -> tuple[int, dict[str, int]]:
    """Run pytest on ``bundle/tests`` in a subprocess; return its exit code and the
    counts from its summary line (``{"passed": 30, "failed": 1}``)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(bundle)  # the bundle's p1_forward, never the reference
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--rootdir={bundle}", "tests"],
        cwd=bundle,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|errors?|skipped)", summary)}
    return proc.returncode, counts


def test_clear_solutions_keeps_indentation():
    """Does the local stub helper replace a region by one raise at the BEGIN line's indent?"""
    source = "def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n"
    assert clear_solutions(source) == "def f():\n    raise NotImplementedError()\n"


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    """Exit code and counts of the public tests run against the reference (run once)."""
    return run_public_tests(make_bundle(tmp_path_factory.mktemp("p1") / "reference"))


def test_public_tests_pass_on_reference(reference_run):
    """Do all the P1 public tests pass against the reference solution?"""
    code, counts = reference_run
    assert code == 0, counts
    assert set(counts) == {"passed"}, counts
    assert counts["passed"] >= 20


def test_public_tests_all_fail_on_stubs(tmp_path, reference_run):
    """Does every P1 public test fail (not error, not pass) on the NotImplementedError stubs?"""
    code, counts = run_public_tests(make_bundle(tmp_path / "stubs", edit=lambda _, text: clear_solutions(text)))
    assert code == 1, counts
    assert set(counts) == {"failed"}, counts
    assert counts["failed"] == reference_run[1]["passed"]


# Plausible mistakes a student could make; each must make at least one public test fail.
MUTANTS = {
    "variance instead of std in q_sample": (
        "forward.py",
        "return a.sqrt() * x0 + (1 - a).sqrt() * noise",
        "return a * x0 + (1 - a) * noise",
    ),
    "alpha_bar as a cumulative sum": ("schedules.py", "torch.cumprod(1 - betas, dim=0)", "1 - torch.cumsum(betas, dim=0)"),
    "posterior without alpha_bar_prev[0] = 1": (
        "forward.py",
        "alpha_bar_prev = torch.cat([alpha_bar.new_ones(1), alpha_bar[:-1]])",
        "alpha_bar_prev = torch.cat([alpha_bar[:1], alpha_bar[:-1]])",
    ),
    "unknown schedule falls back to linear": (
        "schedules.py",
        "    if name not in SCHEDULES:\n",
        "    if name not in SCHEDULES:\n        return linear_beta_schedule(T)\n",
    ),
}


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_public_tests_catch_plausible_mistakes(tmp_path, mutant):
    """Does at least one P1 public test fail on a plausibly wrong implementation?"""
    filename, old, new = MUTANTS[mutant]

    def edit(name, text):
        if name != filename:
            return text
        assert old in text, f"mutant {mutant!r} no longer applies to {filename}"
        return text.replace(old, new)

    code, counts = run_public_tests(make_bundle(tmp_path / "mutant", edit=edit))
    assert code == 1, counts
    assert counts.get("failed", 0) >= 1
