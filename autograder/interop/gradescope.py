"""``autograder.zip`` for Gradescope: one project's grader, ready to upload.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` there
once when it builds the image, then ``run_autograder`` once per submission, with
the student's files in ``/autograder/submission``; the score must end up in
``/autograder/results/results.json``. The zip holds, at its root:

* ``setup.sh``: installs bubblewrap with apt where it can, picks a Python >= 3.11,
  makes a virtual environment ``.venv``, installs ``requirements.txt`` into it, and
  checks that the zip's isolation level works in the image (see ``build_autograder``);
* ``run_autograder``: grades with ``python -m autograder.interop.gradescope_run``
  and makes sure a ``results.json`` exists even when grading crashed;
* ``requirements.txt`` and ``pyproject.toml``: the course's Python dependencies;
* the course, trimmed to what grading needs: the ``autograder`` package,
  ``assignments/<project>/`` without public tests, notebooks or handout, and
  ``solutions/<project>/`` with the solutions of the earlier projects it imports.
  No other project's hidden tests, no examples, no framework tests.

``run_autograder`` reads ``$AUTOGRADER_ROOT`` (default ``/autograder``), so it
can be run against a fake tree in tests.
"""

import ast
import stat
import tomllib
import zipfile
from pathlib import Path

from autograder import course
from autograder.interop.errors import InteropError
from autograder.release.files import walk

# Gradescope has no GPU: the CPU build of torch is a fraction of the size.
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"

# Files of an assignment folder that grading does not read.
_NOT_FOR_GRADING = ("tests/public",)
_NOT_FOR_GRADING_SUFFIXES = (".ipynb",)
_NOT_FOR_GRADING_NAMES = ("README.md", "audit.toml")

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so the same course gives the same zip

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, in /autograder/source, when it builds the image.
set -euo pipefail
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DEBIAN_FRONTEND=noninteractive

have_apt() { command -v apt-get >/dev/null 2>&1; }

if have_apt; then
    apt-get update -y || true
    # bubblewrap confines student code; without it the grader falls back to a plain subprocess.
    apt-get install -y --no-install-recommends bubblewrap \
        || echo "setup.sh: bubblewrap could not be installed; student code will run without it"
fi

pick_python() {
    for exe in python3.13 python3.12 python3.11 python3; do
        if command -v "$exe" >/dev/null 2>&1 && "$exe" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
            echo "$exe"
            return 0
        fi
    done
    return 1
}

PYTHON="$(pick_python || true)"
if [ -z "$PYTHON" ] && have_apt; then
    apt-get install -y --no-install-recommends python3.11 python3.11-venv || true
    PYTHON="$(pick_python || true)"
fi
if [ -z "$PYTHON" ]; then
    echo "setup.sh: the grader needs Python 3.11 or newer and none could be found or installed" >&2
    exit 1
fi

if ! "$PYTHON" -m venv "$SOURCE/.venv"; then
    # Debian and Ubuntu ship venv's pip separately.
    have_apt && apt-get install -y --no-install-recommends "$(basename "$PYTHON")-venv" python3-venv || true
    rm -rf "$SOURCE/.venv"
    "$PYTHON" -m venv "$SOURCE/.venv"
fi
# Each install is tried three times: a download cut short fails pip's hash check.
pip_install() {
    for attempt in 1 2 3; do
        "$SOURCE/.venv/bin/python" -m pip install --no-cache-dir "$@" && return 0
        echo "setup.sh: pip install failed (attempt $attempt of 3)" >&2
        sleep "${DIFFGRADE_PIP_RETRY_S:-10}"
    done
    return 1
}
pip_install --upgrade pip
pip_install -r "$SOURCE/requirements.txt"
"$SOURCE/.venv/bin/python" -c "import torch; print('setup.sh: torch', torch.__version__)"
# Which sandbox this image gives student code; without one (and without a zip built with
# --isolation process) the build fails here, once, instead of every submission later.
cd "$SOURCE" && DIFFGRADE_COURSE="$SOURCE" PYTHONPATH="$SOURCE" \
    "$SOURCE/.venv/bin/python" -m autograder.interop.gradescope_run --check-isolation "__ISOLATION__"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this once per submission. AUTOGRADER_ROOT (default /autograder) holds
# source/ (this zip), submission/ (the student's files) and results/ (results.json).
set -u
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
RESULTS="$ROOT/results"
PROJECT="__PROJECT__"
ISOLATION="__ISOLATION__"

mkdir -p "$RESULTS"
rm -f "$RESULTS/results.json"
if [ -x "$SOURCE/.venv/bin/python" ]; then
    PYTHON="$SOURCE/.venv/bin/python"
else
    PYTHON="${AUTOGRADER_PYTHON:-python3}"
fi
export DIFFGRADE_COURSE="$SOURCE"
export PYTHONPATH="$SOURCE"
export PYTHONDONTWRITEBYTECODE=1
export MPLBACKEND=Agg

cd "$SOURCE" && "$PYTHON" -m autograder.interop.gradescope_run --project "$PROJECT" --root "$ROOT" \
    --isolation "$ISOLATION"
status=$?

# 0: graded; 3: grading crashed and the crash report was written. Anything else means
# Python itself failed, so whatever results.json holds now is not ours: replace it.
if { [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; } || [ ! -s "$RESULTS/results.json" ]; then
    cat > "$RESULTS/results.json" <<EOF
{
  "score": 0,
  "execution_time": 0,
  "output": "The autograder failed before it could grade (exit status $status). Score 0 for now: tell the staff.",
  "visibility": "visible",
  "stdout_visibility": "hidden",
  "tests": []
}
EOF
fi
exit 0
"""


def _zip_add(zf: zipfile.ZipFile, name: str, data: bytes, *, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def _project_imports(folder: Path) -> set[str]:
    """Projects whose packages the Python files under ``folder`` import (``p1_forward`` or
    ``solutions.p1_forward``)."""
    found = set()
    for path in walk(folder):
        if path.suffix != ".py":
            continue
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except SyntaxError as e:
            raise InteropError(f"{path}:{e.lineno}: does not parse ({e.msg})") from None
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            for module in modules:
                parts = module.split(".")
                name = parts[1] if parts[0] == "solutions" and len(parts) > 1 else parts[0]
                if name in course.PROJECTS:
                    found.add(name)
    return found


def needed_solutions(project: str, root: Path) -> list[str]:
    """``project`` and every project its reference solution or hidden tests import, transitively."""
    needed, todo = set(), [project]
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        folder = root / "solutions" / name
        if not folder.is_dir():
            raise InteropError(f"{folder}: missing; {project} needs the reference solution of {name}")
        needed.add(name)
        todo += _project_imports(folder)
        if name == project:
            todo += _project_imports(root / "assignments" / project / "tests" / "hidden")
    return [p for p in course.PROJECTS if p in needed]


def _assignment_files(adir: Path) -> list[Path]:
    files = []
    for path in walk(adir):
        rel = path.relative_to(adir).as_posix()
        if any(rel == d or rel.startswith(d + "/") for d in _NOT_FOR_GRADING):
            continue
        if path.suffix in _NOT_FOR_GRADING_SUFFIXES or rel in _NOT_FOR_GRADING_NAMES:
            continue
        files.append(path)
    return files


def requirements(root: Path, *, torch_index: str | None = TORCH_CPU_INDEX) -> str:
    """``requirements.txt``: the dependencies of ``pyproject.toml``, torch from ``torch_index``."""
    pyproject = root / "pyproject.toml"
    try:
        deps = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as e:
        raise InteropError(f"{pyproject}: cannot read [project] dependencies ({e})") from None
    lines = ["# The grader's Python dependencies, from pyproject.toml."]
    if torch_index:
        lines += [f"# torch and torchvision come from {torch_index} (CPU builds: Gradescope has no GPU).",
                  f"--extra-index-url {torch_index}"]
    return "\n".join(lines + list(deps)) + "\n"


def source_files(project: str, root: Path) -> dict[str, Path]:
    """What grading ``project`` needs, as ``{path in the zip: path on disk}``."""
    files = {}
    for path in walk(root / "autograder"):
        files[path.relative_to(root).as_posix()] = path
    for path in _assignment_files(course.assignment_dir(project, root)):
        files[path.relative_to(root).as_posix()] = path
    if (root / "solutions" / "__init__.py").is_file():
        files["solutions/__init__.py"] = root / "solutions" / "__init__.py"
    for name in needed_solutions(project, root):
        for path in walk(root / "solutions" / name):
            files[path.relative_to(root).as_posix()] = path
    files["pyproject.toml"] = root / "pyproject.toml"
    return files


def build_autograder(*, project: str, output: Path, root: Path | None = None,
                     torch_index: str | None = TORCH_CPU_INDEX, isolation: str = "auto") -> Path:
    """Write the Gradescope autograder zip of ``project`` to ``output`` and return its path.

    ``output`` may be a folder (the zip is then ``<project>-autograder.zip`` in it).
    ``isolation`` is the sandbox level ``run_autograder`` grades with. ``auto`` takes the
    strongest that Gradescope's image offers (bubblewrap, then Landlock); where it offers
    neither, ``setup.sh`` fails the image build, naming what is missing, unless the zip
    was built with ``isolation="process"``, which grades without a sandbox and says so in
    every report.
    """
    from autograder.sandbox.isolation import LEVELS

    if isolation != "auto" and isolation not in LEVELS:
        raise InteropError(f"unknown isolation {isolation!r}; expected 'auto' or one of {', '.join(LEVELS)}")
    root = Path(root).resolve() if root else course.course_root()
    project = course.project_name(project)
    course.assignment_dir(project, root)  # raises CourseError when there is no assignment
    output = Path(output)
    if output.is_dir():
        output = output / f"{project}-autograder.zip"
    output.parent.mkdir(parents=True, exist_ok=True)
    files = source_files(project, root)
    tmp = output.with_name(f".{output.name}.part")
    with zipfile.ZipFile(tmp, "w") as zf:
        _zip_add(zf, "setup.sh", SETUP_SH.replace("__ISOLATION__", isolation).encode(), executable=True)
        run = RUN_AUTOGRADER.replace("__PROJECT__", project).replace("__ISOLATION__", isolation)
        _zip_add(zf, "run_autograder", run.encode(), executable=True)
        _zip_add(zf, "requirements.txt", requirements(root, torch_index=torch_index).encode())
        for name in sorted(files):
            _zip_add(zf, name, files[name].read_bytes())
    tmp.replace(output)
    return output
