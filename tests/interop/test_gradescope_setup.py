"""The Gradescope zip end to end, as Gradescope runs it: ``setup.sh`` for real, then ``run_autograder``.

``setup.sh`` runs as root, as on Gradescope, inside bubblewrap with the machine's
root file system read-only and a scratch folder mounted at ``/autograder`` (and
another at ``/tmp``): it installs nothing on this machine, yet everything it does
is real. It picks a Python, makes ``/autograder/source/.venv`` and pip-installs the
requirements into it. Only the extra index for CPU builds of torch is left out of
the zip, as this machine cannot reach it; torch comes from the default index.
(``apt-get`` runs too and fails on the read-only system, which ``setup.sh`` allows:
bubblewrap is already installed here.)

Then ``run_autograder`` grades, from that ``.venv``, the reference (full marks and a
``results.json`` that follows Gradescope's schema) and a partly wrong submission (the
same score as ``diffgrade grade`` gives it here). Installing torch takes minutes.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.grading.grade import grade
from autograder.interop.gradescope import build_autograder
from tests.conftest import REPO
from tests.interop.gradescope_schema import validate_results

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.geteuid() != 0, reason="setup.sh runs as root, as on Gradescope"),
              pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap to keep setup.sh off this machine")]

EXAMPLES = REPO / "examples" / "p1_forward"
BASE_PYTHON = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
_MOUNTED = {"autograder", "tmp", "proc", "dev", "sys"}  # made anew inside the sandbox


def _extract(zip_path: Path, dest: Path) -> None:
    """Unpack as Gradescope does, keeping the executable bits of the scripts."""
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            path = Path(zf.extract(info, dest))
            mode = info.external_attr >> 16
            if mode & stat.S_IXUSR:
                path.chmod(path.stat().st_mode | 0o111)


def _in_container(scratch: Path, *command: str, timeout: float) -> subprocess.CompletedProcess:
    """``command`` as root, the machine read-only, ``scratch/autograder`` at ``/autograder``."""
    binds = []
    for entry in sorted(Path("/").iterdir()):
        if entry.name in _MOUNTED:
            continue
        if entry.is_symlink():  # /bin -> usr/bin on a merged /usr
            binds += ["--symlink", os.readlink(entry), str(entry)]
        else:
            binds += ["--ro-bind", str(entry), str(entry)]
    argv = ["bwrap", "--die-with-parent", *binds, "--bind", str(scratch / "autograder"), "/autograder",
            "--bind", str(scratch / "tmp"), "/tmp", "--dev", "/dev", "--proc", "/proc", "--ro-bind", "/sys", "/sys",
            "--chdir", "/autograder/source", *command]
    # Gradescope's image starts with a plain environment: nothing of this test's venv.
    env = {"PATH": f"{Path(BASE_PYTHON).parent}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "HOME": "/tmp/home", "LANG": "C.UTF-8"}
    for key in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONFIG_FILE", "PIP_FIND_LINKS"):
        if key in os.environ:
            env[key] = os.environ[key]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A scratch ``/autograder`` after a real run of ``setup.sh``."""
    scratch = tmp_path_factory.mktemp("gradescope")
    (scratch / "tmp" / "home").mkdir(parents=True)
    zip_path = build_autograder(project="p1", output=scratch / "p1-autograder.zip", root=REPO, torch_index=None)
    _extract(zip_path, scratch / "autograder" / "source")
    proc = _in_container(scratch, "bash", "/autograder/source/setup.sh", timeout=2400)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    assert "setup.sh: torch" in proc.stdout
    venv = scratch / "autograder" / "source" / ".venv"
    assert (venv / "pyvenv.cfg").is_file()
    return scratch


def _run_autograder(scratch: Path, package: Path) -> dict:
    root = scratch / "autograder"
    for sub in ("submission", "results"):
        shutil.rmtree(root / sub, ignore_errors=True)
    shutil.copytree(package, root / "submission" / package.name)
    proc = _in_container(scratch, "/autograder/source/run_autograder", timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    data = json.loads((root / "results" / "results.json").read_text())
    validate_results(data)
    return data


def test_setup_installs_into_its_own_venv(installed):
    """Did setup.sh make /autograder/source/.venv with torch in it, and the grader importable from it?"""
    python = installed / "autograder" / "source" / ".venv" / "bin" / "python"
    proc = _in_container(installed, "/autograder/source/.venv/bin/python", "-c",
                         "import sys, torch, autograder; print(sys.prefix)", timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "/autograder/source/.venv"
    assert python.exists()


def test_reference_gets_full_marks(installed):
    data = _run_autograder(installed, EXAMPLES / "perfect" / "p1_forward")
    top = data["extra_data"]["max_score"]
    assert top == 100 and data["score"] == top, data.get("output", "")[:2000]
    assert data["tests"] and all(t["status"] == "passed" for t in data["tests"])


def test_partial_submission_gets_the_score_diffgrade_gives(installed, tmp_path):
    data = _run_autograder(installed, EXAMPLES / "partial" / "p1_forward")
    here = grade(project="p1", submission=EXAMPLES / "partial", out_dir=tmp_path / "here", root=REPO)
    assert 0 < data["score"] < data["extra_data"]["max_score"]
    assert data["score"] == pytest.approx(here.score)
    failed = {t["name"] for t in data["tests"] if t["status"] == "failed"}
    assert failed and failed == {t["name"] for t in json.loads((tmp_path / "here" / "results.json").read_text())["tests"]
                                 if t["status"] == "failed"}
