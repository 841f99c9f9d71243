"""The worker runs in the grader's own Python environment, whatever made it and wherever it lives.

Each test builds a real environment under ``tmp_path`` (so under ``/tmp``, which the
bubblewrap sandbox replaces with a private tmpfs), gives it the packages of the
environment running the tests (hard links: a copy of torch would take gigabytes),
and runs diffgrade *from it*. Passing a grading is not enough: a worker that left the
environment can still pass where the base interpreter happens to have torch too. So
each test asserts that the worker's ``sys.prefix`` and site-packages are the new
environment's, as the grader's own are.

Kinds: ``python -m venv`` with symlinks and with copies, virtualenv, uv, and a
standalone prefix (a relocated copy of the base interpreter's installation, laid out
as a conda environment or a pyenv version is: no ``pyvenv.cfg``, the interpreter a
real file in ``bin/``).
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from autograder.sandbox import isolation as iso
from autograder.sandbox.client import Worker, grader_environment
from autograder.sandbox.errors import SandboxEnvironmentError
from tests.conftest import REPO, isolation_levels

pytestmark = pytest.mark.slow

BASE_PYTHON = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
BASE_PREFIX = Path(sys.base_prefix)
PY = f"python{sys.version_info.major}.{sys.version_info.minor}"
SITE = Path(sysconfig.get_paths()["purelib"])
PERFECT_P1 = REPO / "examples" / "p1_forward" / "perfect"


def _same_filesystem(a: Path, b: Path) -> bool:
    return os.stat(a).st_dev == os.stat(b).st_dev


def _link_packages(site_packages: Path) -> None:
    """Hard-link every package of the test's environment into ``site_packages`` (not over what is there)."""
    site_packages.mkdir(parents=True, exist_ok=True)
    for entry in SITE.iterdir():
        dest = site_packages / entry.name
        if dest.exists() or entry.name == "__pycache__":
            continue
        if entry.is_dir():
            shutil.copytree(entry, dest, copy_function=os.link, symlinks=True)
        else:
            os.link(entry, dest)


def _venv(path: Path, *extra: str) -> Path:
    subprocess.run([BASE_PYTHON, "-m", "venv", "--without-pip", *extra, str(path)], check=True)
    return path / "bin" / "python"


def _virtualenv(path: Path) -> Path:
    pytest.importorskip("virtualenv")
    subprocess.run([sys.executable, "-m", "virtualenv", "-q", "--no-seed", "--no-periodic-update",
                    "--python", BASE_PYTHON, str(path)], check=True)
    return path / "bin" / "python"


def _uv(path: Path) -> Path:
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed (pip install -e '.[test]' brings it)")
    subprocess.run([uv, "venv", "-q", "--python", BASE_PYTHON, str(path)], check=True,
                   env={**os.environ, "UV_OFFLINE": "1", "UV_NO_CACHE": "1"})
    return path / "bin" / "python"


def _standalone(path: Path) -> Path:
    """A relocated copy of the base installation, by hard links, its own site-packages emptied."""
    if not _same_filesystem(BASE_PREFIX, path.parent):
        pytest.skip("the base interpreter's installation is on another file system than the test's tmp_path")
    base_site = Path(sysconfig.get_paths(vars={"base": str(BASE_PREFIX), "platbase": str(BASE_PREFIX)})["purelib"])

    def skip_base_site(folder, names):
        return names if Path(folder) == base_site else []

    shutil.copytree(BASE_PREFIX, path, copy_function=os.link, symlinks=True, ignore=skip_base_site)
    return path / "bin" / PY


MAKERS = {"venv": _venv, "venv-copies": lambda p: _venv(p, "--copies"), "virtualenv": _virtualenv,
          "uv": _uv, "standalone-prefix": _standalone}


@pytest.fixture(scope="module", params=sorted(MAKERS))
def environment(request, tmp_path_factory) -> Path:
    """The interpreter of a fresh environment of one kind, holding the packages of this one."""
    root = tmp_path_factory.mktemp("envs")
    if not _same_filesystem(SITE, root):
        pytest.skip("this environment's site-packages are on another file system than tmp_path: "
                    "they cannot be hard-linked")
    python = MAKERS[request.param](root / request.param)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    _link_packages(Path(site))
    return python


def _in(python: Path, code: str, cwd: Path) -> dict:
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd=cwd, timeout=300,
                         env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")})
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


PROBE = """
import json
from autograder.sandbox import isolation as iso
from autograder.sandbox.client import check_environment, grader_environment
print(json.dumps({"grader": grader_environment(), "worker": check_environment(iso.choose(%r))}))
"""


@pytest.mark.parametrize("level", isolation_levels())
def test_worker_runs_in_the_graders_environment(environment, level, tmp_path):
    env_root = os.path.realpath(environment.parent.parent)
    seen = _in(environment, PROBE % level, tmp_path)
    grader, worker = seen["grader"], seen["worker"]
    assert os.path.realpath(grader["prefix"]) == env_root, "the probe did not run in the new environment"
    assert os.path.realpath(worker["prefix"]) == env_root, f"the worker left the environment: {worker}"
    assert sorted(map(os.path.realpath, worker["site_packages"])) == \
        sorted(map(os.path.realpath, grader["site_packages"]))
    assert all(os.path.realpath(p).startswith(env_root + "/") for p in worker["site_packages"])


def test_grading_from_the_environment_gives_full_marks(environment, tmp_path):
    """A whole grading from the environment: at every level from a venv, at the strongest from
    the other kinds (the probe above already runs each kind at every level)."""
    levels = isolation_levels()
    if environment.parent.name != "venv":
        levels = levels[:1]
    for level in levels:
        out = tmp_path / level
        code = (f"import json, sys; from autograder.cli import main; rc = main(['grade', 'p1', "
                f"{str(PERFECT_P1)!r}, '-o', {str(out)!r}, '--quick', '--isolation', {level!r}]); "
                f"r = json.load(open({str(out / 'results.json')!r})); "
                f"print(json.dumps({{'rc': rc, 'score': r['score'], 'tests': len(r['tests']), "
                f"'max': sum(t['max_score'] for t in r['tests']), 'isolation': r['extra_data']['isolation']}}))")
        got = _in(environment, code, REPO)
        assert got["rc"] == 0, level
        assert got["tests"] > 0 and got["score"] == pytest.approx(got["max"]), (level, got)
        assert got["isolation"] == level


# -- a worker outside the environment stops grading, it never scores 0 --------------------------

def _outside(monkeypatch):
    """Start workers with the base interpreter, as a resolved venv symlink used to: outside this venv."""
    if os.path.realpath(sys.prefix) == os.path.realpath(sys.base_prefix):
        pytest.skip("the tests run in the base interpreter itself: there is no environment to leave")
    from autograder.sandbox import environment as sandbox_environment

    monkeypatch.setattr(sandbox_environment, "python_executable", lambda: BASE_PYTHON)


@pytest.mark.parametrize("level", isolation_levels())
def test_a_worker_outside_the_environment_is_one_clear_error(monkeypatch, level, tmp_path):
    _outside(monkeypatch)
    with pytest.raises(SandboxEnvironmentError) as err:
        with Worker(package="p1_forward", submission_dir=PERFECT_P1, isolation=iso.choose(level)) as w:
            w.handshake_or_error()
    text = str(err.value)
    assert sys.prefix in text and os.path.realpath(sys.base_prefix) in text, text
    assert "Grading stopped" in text
    assert grader_environment()["prefix"] == sys.prefix


def test_grade_and_batch_stop_instead_of_scoring_zero(monkeypatch, tmp_path, capsys):
    from autograder.cli import main

    _outside(monkeypatch)
    rc = main(["grade", "p1", str(PERFECT_P1), "-o", str(tmp_path / "one"), "--quick"])
    assert rc == 2
    assert "does not run in the grader's Python environment" in capsys.readouterr().err
    assert not (tmp_path / "one" / "results.json").exists()

    subs = tmp_path / "subs"
    shutil.copytree(PERFECT_P1, subs / "alice")
    rc = main(["batch", "p1", str(subs), "-o", str(tmp_path / "batch"), "--workers", "1"])
    assert rc != 0
    assert "does not run in the grader's Python environment" in capsys.readouterr().err
    assert not list((tmp_path / "batch").rglob("results.json"))


def test_torch_in_the_user_site_is_named_as_the_cause(monkeypatch, tmp_path):
    """torch from ``pip install --user`` is invisible to ``python -I``: the error says that is why."""
    import site

    import torch

    from autograder.sandbox import client

    monkeypatch.setattr(site, "getusersitepackages", lambda: str(Path(torch.__file__).parent.parent))
    assert "pip install --user" in client._user_site_hint()
    monkeypatch.setattr(site, "getusersitepackages", lambda: str(tmp_path))
    assert client._user_site_hint() == ""
