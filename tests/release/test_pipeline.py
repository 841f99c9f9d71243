"""Tests of ``autograder.release.pipeline``: releasing the toy course and the real one."""

import importlib
import inspect
import json
import os
import re
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from autograder.release.errors import ReleaseError
from autograder.release.leaks import collect_secrets, find_leaks
from autograder.release.pipeline import STEPS, TEMPLATE_README, release

from .toy import FINISHED, NOTEBOOK_SOLUTION_LINE, make_releasable, release_toy

REPO = Path(__file__).resolve().parents[2]


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (no caches) as ``relative path -> bytes``."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def all_text(folder: Path) -> str:
    return "\n".join(data.decode("utf-8", errors="replace") for data in tree(folder).values())


@contextmanager
def imported(folder: Path, package: str):
    """Import ``package`` from ``folder``, then forget it again (and restore what it shadowed)."""
    saved = {k: v for k, v in sys.modules.items() if k == package or k.startswith(package + ".")}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(package)
    finally:
        sys.path.remove(str(folder))
        for name in [k for k in sys.modules if k == package or k.startswith(package + ".")]:
            del sys.modules[name]
        sys.modules.update(saved)


# --- the toy course ---------------------------------------------------------


@pytest.fixture
def toy(toy_course):
    return make_releasable(toy_course)


def test_bundle_and_template_layout(toy, tmp_path):
    """Does a release write exactly the bundle files and the template, and report them?"""
    report = release(root=toy, out_dir=tmp_path / "release", template_dir=tmp_path / "template")
    bundle = tmp_path / "release" / "p1_forward"
    assert sorted(tree(bundle)) == ["README.md", "assignment.json", "conftest.py", "p1_forward/__init__.py",
                                    "p1_forward/toy.py", "tests/test_public_toy.py", "toy.ipynb"]
    assert sorted(tree(tmp_path / "template")) == ["README.md", "p1_forward/__init__.py", "p1_forward/toy.py"]
    assert (tmp_path / "template" / "README.md").read_text() == TEMPLATE_README
    assert report.projects == ("p1_forward",) and report.bundles == {"p1_forward": bundle}
    assert sorted(report.written) == sorted(p for p in tmp_path.rglob("*") if p.is_file() and "course" not in p.parts)


def test_steps_are_the_documented_transforms():
    """Is the pipeline the ordered list of small transforms, one per module?"""
    assert [step.__name__ for step in STEPS] == ["write_stubs", "copy_handout", "clear_notebooks",
                                                 "copy_public_tests", "copy_provided", "write_conftest",
                                                 "write_metadata"]
    assert len({step.__module__ for step in STEPS}) == len(STEPS)


def test_bundle_files_come_from_the_right_sources(toy, tmp_path):
    """Are the handout and public tests copied as they are, and the package the same as the template?"""
    bundle = release_toy(toy, tmp_path)
    adir = toy / "assignments" / "p1_forward"
    assert (bundle / "README.md").read_bytes() == (adir / "README.md").read_bytes()
    public = "test_public_toy.py"
    assert (bundle / "tests" / public).read_bytes() == (adir / "tests" / "public" / public).read_bytes()
    assert tree(bundle / "p1_forward") == tree(tmp_path / "template" / "p1_forward")
    assert "p1_forward" in (bundle / "conftest.py").read_text()


def test_stubs_keep_signatures_and_docstrings(toy, tmp_path):
    """Does each stub keep its signature and docstring and raise, naming what to complete?"""
    stub = (release_toy(toy, tmp_path) / "p1_forward" / "toy.py").read_text()
    assert ('def scale(x, factor):\n    """Return ``x * factor``, keeping dtype and device."""\n'
            '    raise NotImplementedError("complete scale in p1_forward/toy.py")\n') in stub
    assert 'raise NotImplementedError("complete pair in p1_forward/toy.py")' in stub


def test_assignment_json_has_only_what_students_need(toy, tmp_path):
    """Does assignment.json hold name, title, package and files, and nothing about hidden tests?"""
    info = json.loads((release_toy(toy, tmp_path) / "assignment.json").read_text())
    assert info == {"project": "p1_forward", "title": "Toy project", "package": "p1_forward",
                    "files": ["p1_forward/__init__.py", "p1_forward/toy.py"]}


def test_no_hidden_test_or_solution_in_output(toy, tmp_path):
    """Is every hidden test name and solution line absent from everything a student gets?"""
    release_toy(toy, tmp_path)
    text = all_text(tmp_path / "release") + all_text(tmp_path / "template")
    paths = list(tree(tmp_path / "release")) + list(tree(tmp_path / "template"))
    for name in ("test_toy", "test_scale_cases", "test_pair"):
        assert not re.search(rf"\b{name}\b", text) and not any(name in p for p in paths)
    for line in ("return x * factor", "return x + 1, x - 1", NOTEBOOK_SOLUTION_LINE, "SOLUTION", "points"):
        assert line not in text
    assert find_leaks(tmp_path / "release", toy) == [] and find_leaks(tmp_path / "template", toy) == []


def test_notebook_is_cleared(toy, tmp_path):
    """Is the bundle's notebook free of solutions, outputs and execution counts?"""
    nb = json.loads((release_toy(toy, tmp_path) / "toy.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert "raise NotImplementedError()" in "".join(code[0]["source"])


def test_student_runs_plain_pytest_in_the_bundle(toy, tmp_path):
    """Does ``pytest`` in a bundle find the package through the bundle's conftest.py, with no PYTHONPATH?"""
    bundle = release_toy(toy, tmp_path)
    (bundle / "p1_forward" / "toy.py").write_text(FINISHED)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=bundle, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout


def test_release_again_replaces_the_previous_one(toy, tmp_path):
    """Does a second release remove files the first one wrote but the sources no longer have?"""
    bundle = release_toy(toy, tmp_path)
    (bundle / "stale.txt").write_text("old")
    (tmp_path / "template" / "p1_forward" / "stale.py").write_text("old")
    release_toy(toy, tmp_path)
    assert not (bundle / "stale.txt").exists() and not (tmp_path / "template" / "p1_forward" / "stale.py").exists()


def test_leak_fails_the_release_and_writes_nothing(toy, tmp_path):
    """Does a solution line in the handout fail the release, naming the file, and leave no output?"""
    handout = toy / "assignments" / "p1_forward" / "README.md"
    handout.write_text(handout.read_text() + "\nHint:\n\n    return x * factor\n")
    with pytest.raises(ReleaseError) as info:
        release_toy(toy, tmp_path)
    bundle = tmp_path / "release" / "p1_forward"
    assert f"{bundle}/README.md:7: solution line 'return x * factor'" in str(info.value)
    assert len(info.value.leaks) == 1
    assert not (tmp_path / "release").exists() and not (tmp_path / "template").exists()


def test_hidden_name_in_handout_fails_the_release(toy, tmp_path):
    """Does a hidden test name in the handout fail the release?"""
    handout = toy / "assignments" / "p1_forward" / "README.md"
    handout.write_text(handout.read_text() + "The grader runs test_scale_cases.\n")
    with pytest.raises(ReleaseError, match="hidden test name 'test_scale_cases'"):
        release_toy(toy, tmp_path)


def test_malformed_marker_fails_naming_file_and_line(toy, tmp_path):
    """Does a typo in a solution marker stop the release with the file and line?"""
    toy_py = toy / "solutions" / "p1_forward" / "toy.py"
    lines = toy_py.read_text().splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if "END SOLUTION" in line)
    lines[number] = lines[number].replace("END SOLUTION", "END SOLUTON")
    toy_py.write_text("".join(lines))
    with pytest.raises(ReleaseError, match=rf"^solutions/p1_forward/toy.py:{number + 1}: malformed"):
        release_toy(toy, tmp_path)


def test_missing_handout_is_an_error(toy_course, tmp_path):
    """Is a project without README.md refused, naming the missing file?"""
    with pytest.raises(ReleaseError, match="^assignments/p1_forward/README.md: missing"):
        release_toy(toy_course, tmp_path)


def test_projects_can_be_chosen(toy, tmp_path):
    """Can a release name its projects (short names too), and is one without an assignment refused?"""
    report = release(root=toy, out_dir=tmp_path / "out", projects=["p1"], template_dir=tmp_path / "template")
    assert report.projects == ("p1_forward",)
    with pytest.raises(ReleaseError, match="p2_training has no assignment"):
        release(root=toy, out_dir=tmp_path / "out", projects=["p2"], template_dir=tmp_path / "template")


@pytest.mark.parametrize("where", ["root", "solutions", "assignments/p1_forward"])
def test_unsafe_destinations_are_refused(toy, where):
    """Is a release into the course itself, or into its sources, refused before anything is written?"""
    dest = toy if where == "root" else toy / where
    with pytest.raises(ReleaseError, match="refusing to release"):
        release(root=toy, out_dir=dest / "out" if where != "root" else dest, template_dir=toy / "student_template")
    assert not (toy / "student_template").exists()


def test_foreign_folders_are_not_replaced(toy, tmp_path):
    """Is an existing folder that no release wrote left alone, with a clear error?"""
    foreign = tmp_path / "release" / "p1_forward"
    foreign.mkdir(parents=True)
    (foreign / "thesis.tex").write_text("precious")
    with pytest.raises(ReleaseError, match="not a bundle from an earlier release"):
        release_toy(toy, tmp_path)
    assert (foreign / "thesis.tex").read_text() == "precious"


# --- the real course --------------------------------------------------------


@pytest.fixture(scope="module")
def real(tmp_path_factory) -> Path:
    """A fresh release of the course in this repository; returns the folder holding release/ and template/."""
    dest = tmp_path_factory.mktemp("real")
    release(root=REPO, out_dir=dest / "release", template_dir=dest / "template")
    return dest


def test_real_course_has_what_a_release_needs():
    """Does P1 have a handout, a notebook and public tests (a missing one fails here, not silently)?"""
    adir = REPO / "assignments" / "p1_forward"
    assert (adir / "README.md").is_file(), "P1 has no handout"
    assert list(adir.glob("*.ipynb")), "P1 has no notebook"
    assert list((adir / "tests" / "public").glob("test_*.py")), "P1 has no public tests"


def test_committed_template_is_in_sync(real):
    """Is the committed student_template/ byte for byte a fresh release? (If not: run ``diffgrade release``.)"""
    assert tree(REPO / "student_template") == tree(real / "template")


def test_real_bundle_layout(real):
    """Does the P1 bundle hold the handout, every notebook, the stubs and exactly the public tests?"""
    bundle, adir = real / "release" / "p1_forward", REPO / "assignments" / "p1_forward"
    files = set(tree(bundle))
    assert {"README.md", "conftest.py", "assignment.json"} <= files
    assert {p.name for p in adir.glob("*.ipynb")} == {f for f in files if f.endswith(".ipynb")}
    assert {f"tests/{p.name}" for p in (adir / "tests" / "public").glob("*.py")} == \
        {f for f in files if f.startswith("tests/")}
    assert {f"p1_forward/{name}" for name in ("__init__.py", "schedules.py", "forward.py")} <= files
    assert tree(bundle / "p1_forward") == tree(real / "template" / "p1_forward")


def test_real_release_has_no_hidden_test_or_solution(real):
    """Is no hidden test file, hidden test name or solution line anywhere in the real release,
    except the references of earlier projects that a later bundle ships on purpose?"""
    from autograder import config, course

    secrets = collect_secrets(REPO)
    tests = REPO / "assignments" / "p1_forward" / "tests"
    hidden_only = {p.name for p in (tests / "hidden").rglob("*.py")} - {p.name for p in (tests / "public").glob("*.py")}
    checked = [(real / "template", ())]
    for bundle in sorted(p for p in (real / "release").iterdir() if p.is_dir()):
        requires = config.load(course.assignment_dir(bundle.name, REPO)).requires
        checked.append((bundle, tuple(course.project_name(r) for r in requires)))
    for out, released in checked:
        assert find_leaks(out, REPO, released=released) == []
        assert not hidden_only & {p.name for p in out.rglob("*")}
        own = [p for p in out.rglob("*") if p.is_file() and not any(
            p.is_relative_to(out / r) for r in released)]
        text = "\n".join(p.read_text(errors="replace") for p in own)
        lines = {line.strip() for line in text.splitlines()}
        leaked = {line for line in set(secrets.lines) & lines
                  if not secrets.lines[line].startswith(tuple(f"solutions/{r}/" for r in released))}
        assert not leaked
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
        for r in released:  # the shipped references are complete code, markers removed
            shipped = "\n".join(p.read_text() for p in (out / r).rglob("*.py"))
            assert shipped and "NotImplementedError(\"complete" not in shipped and "BEGIN SOLUTION" not in shipped


def test_real_notebooks_are_cleared(real):
    """Are the real notebooks free of outputs, execution counts and solution markers?"""
    notebooks = list((real / "release" / "p1_forward").glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            assert "SOLUTION" not in "".join(cell["source"])
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None


def test_real_stubs_import_and_raise(real):
    """Do the P1 stubs import, and does each public function raise NotImplementedError?"""
    with imported(real / "template", "p1_forward") as stubs:
        assert Path(stubs.__file__).is_relative_to(real / "template")
        names = [n for n in stubs.__all__ if inspect.isfunction(getattr(stubs, n))]
        assert set(names) >= {"q_sample", "q_posterior", "linear_beta_schedule", "alpha_bar", "v_target"}
        for name in names:
            fn = getattr(stubs, name)
            required = [p for p in inspect.signature(fn).parameters.values() if p.default is inspect.Parameter.empty]
            with pytest.raises(NotImplementedError, match=f"complete {name} in p1_forward/"):
                fn(*[None] * len(required))
