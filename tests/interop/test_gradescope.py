"""The Gradescope autograder zip: what it holds, and ``run_autograder`` in a fake ``/autograder`` tree."""

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.interop.gradescope import build_autograder, needed_solutions, requirements, source_files
from tests.conftest import REPO
from tests.interop.gradescope_schema import validate_results

EXAMPLES = REPO / "examples" / "p1_forward"


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    return build_autograder(project="p1", output=tmp_path_factory.mktemp("zip") / "autograder.zip", root=REPO)


def fake_autograder(zip_path: Path, base: Path) -> Path:
    """``base/autograder`` laid out as Gradescope does: source/ (the zip), submission/, results/."""
    root = base / "autograder"
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / "source")
    (root / "submission").mkdir()
    return root


def run_autograder(root: Path, tmp_path: Path, **env) -> tuple[dict, subprocess.CompletedProcess]:
    """Run ``run_autograder`` as Gradescope would (setup.sh skipped: the deps are installed here)."""
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    full_env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable,
                "TMPDIR": str(scratch), "MPLCONFIGDIR": str(scratch), **env}
    full_env.pop("DIFFGRADE_COURSE", None)
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=full_env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((root / "results" / "results.json").read_text()), proc


def test_zip_holds_what_grading_needs_and_nothing_else(autograder_zip):
    """Does the zip hold the scripts, the engine, P1's hidden tests and solution, and no public
    tests, examples, notebooks or framework tests?"""
    with zipfile.ZipFile(autograder_zip) as zf:
        infos = {i.filename: i for i in zf.infolist()}
    names = set(infos)
    for script in ("setup.sh", "run_autograder"):
        assert stat.S_IMODE(infos[script].external_attr >> 16) & 0o111, f"{script} is not executable"
    assert {"requirements.txt", "pyproject.toml", "autograder/__init__.py", "autograder/cli.py",
            "autograder/interop/gradescope_run.py", "autograder/sandbox/runtime/worker.py",
            "assignments/p1_forward/assignment.toml", "assignments/p1_forward/tests/hidden/test_forward.py",
            "solutions/p1_forward/forward.py"} <= names
    tops = {n.split("/")[0] for n in names}
    assert tops == {"setup.sh", "run_autograder", "requirements.txt", "pyproject.toml", "autograder",
                    "assignments", "solutions"}
    assert all(n.startswith("assignments/p1_forward/") for n in names if n.startswith("assignments/"))
    assert not [n for n in names if "/tests/public/" in n or n.endswith((".ipynb", ".pyc")) or "__pycache__" in n]
    assert "assignments/p1_forward/README.md" not in names


def test_zip_is_reproducible(autograder_zip, tmp_path):
    """Does building the zip twice from the same course give the same bytes?"""
    again = build_autograder(project="p1_forward", output=tmp_path, root=REPO)
    assert again.name == "p1_forward-autograder.zip"
    assert again.read_bytes() == autograder_zip.read_bytes()


def test_scripts_follow_gradescope_layout(autograder_zip):
    """Does setup.sh install bubblewrap and the requirements, and run_autograder write to results/?"""
    with zipfile.ZipFile(autograder_zip) as zf:
        setup = zf.read("setup.sh").decode()
        run = zf.read("run_autograder").decode()
        reqs = zf.read("requirements.txt").decode()
    assert setup.startswith("#!/usr/bin/env bash") and run.startswith("#!/usr/bin/env bash")
    assert "apt-get install -y --no-install-recommends bubblewrap" in setup
    assert 'pip_install -r "$SOURCE/requirements.txt"' in setup
    assert 'ROOT="${AUTOGRADER_ROOT:-/autograder}"' in run and 'PROJECT="p1_forward"' in run
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in reqs and "torch==" in reqs
    assert "--extra-index-url" not in requirements(REPO, torch_index=None)


def toy_course(root: Path) -> Path:
    """Three projects: p2 imports p1; p3 stands alone; each has hidden tests."""
    (root / "autograder").mkdir(parents=True)
    (root / "autograder" / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text('[project]\nname = "toy"\ndependencies = ["torch"]\n')
    imports = {"p1_forward": "", "p2_training": "from p1_forward import q_sample\n", "p3_sampling": ""}
    for project, body in imports.items():
        (root / "solutions" / project).mkdir(parents=True)
        (root / "solutions" / project / "__init__.py").write_text(body)
        hidden = root / "assignments" / project / "tests" / "hidden"
        hidden.mkdir(parents=True)
        (hidden / f"test_{project}.py").write_text("def test_x(student):\n    pass\n")
        (root / "assignments" / project / "tests" / "public").mkdir()
        (root / "assignments" / project / "tests" / "public" / "test_public.py").write_text("")
        (root / "assignments" / project / "assignment.toml").write_text("")
        (root / "assignments" / project / "assets").mkdir()
        (root / "assignments" / project / "assets" / "model.safetensors").write_bytes(b"\0")
    return root


def test_later_project_gets_earlier_solutions_but_no_other_hidden_tests(tmp_path):
    """Does P2's zip carry P1's reference solution (P2 imports it) but not P1's or P3's hidden tests?"""
    root = toy_course(tmp_path / "course")
    assert needed_solutions("p2_training", root) == ["p1_forward", "p2_training"]
    files = set(source_files("p2_training", root))
    assert {"solutions/p1_forward/__init__.py", "solutions/p2_training/__init__.py",
            "assignments/p2_training/tests/hidden/test_p2_training.py",
            "assignments/p2_training/assets/model.safetensors"} <= files
    assert not [f for f in files if f.startswith(("solutions/p3", "assignments/p1", "assignments/p3"))]
    assert "assignments/p2_training/tests/public/test_public.py" not in files


@pytest.mark.slow
@pytest.mark.parametrize("example, loose, expect", [("perfect", False, "full"),
                                                    ("perfect", True, "full"),
                                                    ("partial", False, "partial")])
def test_run_autograder_grades_an_example(autograder_zip, tmp_path, example, loose, expect):
    """Does run_autograder, in a fake /autograder tree, write a valid results.json with full marks
    for the correct example (uploaded as a folder or as loose files) and fewer for the partial one?"""
    root = fake_autograder(autograder_zip, tmp_path)
    package = EXAMPLES / example / "p1_forward"
    if loose:  # dragged into Gradescope file by file
        for path in package.glob("*.py"):
            shutil.copy(path, root / "submission" / path.name)
    else:
        shutil.copytree(package, root / "submission" / "p1_forward")
    data, proc = run_autograder(root, tmp_path)
    validate_results(data)
    top = data["extra_data"]["max_score"]
    assert top == 100
    if expect == "full":
        assert data["score"] == top, proc.stdout
        assert all(t["status"] == "passed" for t in data["tests"])
    else:
        assert 0 < data["score"] < top
        assert any(t["status"] == "failed" and t["output"] for t in data["tests"])
    assert (root / "results" / "feedback.md").is_file()
    assert "loose files" in proc.stdout if loose else "loose files" not in proc.stdout


@pytest.mark.slow
def test_unreadable_submission_scores_zero_with_a_reason(autograder_zip, tmp_path):
    """Does a submission that is not a zip at all still get a valid results.json, with score 0?"""
    root = fake_autograder(autograder_zip, tmp_path)
    (root / "submission" / "p1_forward.zip").write_bytes(b"this is not a zip file")
    data, _ = run_autograder(root, tmp_path)
    validate_results(data)
    assert data["score"] == 0
    assert "could not be loaded" in data["output"]


def test_grader_crash_still_writes_results(autograder_zip, tmp_path):
    """When grading itself crashes (here: the hidden tests are gone), is there a zero-score
    results.json that says what happened?"""
    root = fake_autograder(autograder_zip, tmp_path)
    shutil.copytree(EXAMPLES / "perfect" / "p1_forward", root / "submission" / "p1_forward")
    shutil.rmtree(root / "source" / "assignments" / "p1_forward" / "tests" / "hidden")
    data, proc = run_autograder(root, tmp_path)
    validate_results(data)
    assert data["score"] == 0 and data["tests"] == []
    assert "crashed" in data["output"] and "no hidden tests found" in data["output"]
    assert "Traceback" in proc.stderr


def test_python_failure_replaces_a_planted_results_file(autograder_zip, tmp_path):
    """When Python cannot even start, is a results.json planted beforehand replaced by a
    zero-score one rather than trusted?"""
    root = fake_autograder(autograder_zip, tmp_path)
    (root / "results").mkdir()
    (root / "results" / "results.json").write_text('{"score": 100}')
    data, _ = run_autograder(root, tmp_path, AUTOGRADER_PYTHON="false")
    validate_results(data)
    assert data["score"] == 0 and "failed before it could grade" in data["output"]


@pytest.mark.parametrize("failures, ok", [(2, True), (3, False)])
def test_setup_retries_a_failed_pip_install(autograder_zip, tmp_path, failures, ok):
    """setup.sh's pip_install tries three times: two failed downloads pass, three do not."""
    with zipfile.ZipFile(autograder_zip) as zf:
        setup = zf.read("setup.sh").decode()
    function = setup[setup.index("pip_install() {"):]
    function = function[:function.index("\n}\n") + 3]
    python = tmp_path / "source" / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    count = tmp_path / "count"
    python.write_text(f"#!/usr/bin/env bash\necho x >> {count}\n"
                      f"[ $(wc -l < {count}) -gt {failures} ]\n")
    python.chmod(0o755)
    proc = subprocess.run(["bash", "-c", f"{function}\npip_install -r requirements.txt"],
                          env={**os.environ, "SOURCE": str(tmp_path / "source"), "DIFFGRADE_PIP_RETRY_S": "0"},
                          capture_output=True, text=True)
    assert (proc.returncode == 0) == ok, proc.stderr
    assert len(count.read_text().splitlines()) == min(failures + 1, 3)

