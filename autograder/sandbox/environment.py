"""What the worker sees of the grader's machine whatever the level: its interpreter,
the folders of the grader's Python environment, and a small fixed set of variables."""

import os
import sys
from pathlib import Path

# Files a Python interpreter needs from /etc; the rest of /etc stays hidden.
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf",
             "passwd", "group", "hosts", "resolv.conf")
SYSTEM_DIRS = ("/usr", "/bin", "/lib", "/lib64", "/sbin")
NOBODY = 65534  # the unprivileged user the worker runs as where the grader is root


def python_executable() -> str:
    """The grader's interpreter as it was started, symlinks kept.

    A venv's ``bin/python`` is a symlink to the base interpreter, and Python finds
    its venv (``pyvenv.cfg``) from the path it was started by: resolving the link
    would start the worker outside the grader's environment, without its packages.
    """
    return sys.executable


def python_roots() -> list[str]:
    """Folders holding the grader's Python environment: the venv or conda env, its base
    interpreter, and every folder a link on the way to the interpreter passes through."""
    roots = set()
    for p in (sys.prefix, sys.base_prefix, sys.exec_prefix):
        roots.update({os.path.abspath(p), os.path.realpath(p)})
    exe = python_executable()
    for _ in range(40):  # follow the chain of links hop by hop: each hop's folder must be visible
        roots.add(str(Path(os.path.abspath(exe)).parent.parent))
        if not os.path.islink(exe):
            break
        exe = os.path.join(os.path.dirname(exe), os.readlink(exe))
    roots.add(str(Path(os.path.realpath(python_executable())).parent.parent))
    roots.update(libpython_dirs())
    return sorted(roots)


def libpython_dirs() -> set[str]:
    """Folders of the libpython this interpreter runs on. A relocated environment's
    interpreter may find it by an absolute RPATH outside the environment; hidden, the
    loader would pick the system's libpython instead, with another ``site`` frozen in it."""
    found = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.rstrip("\n").split(maxsplit=5)[-1]
                if os.path.basename(path).startswith("libpython"):
                    found.add(os.path.dirname(os.path.realpath(path)))
    except OSError:
        pass
    return found


def system_files() -> list[str]:
    """The system folders and /etc files that exist here (read-only for the worker)."""
    return [d for d in SYSTEM_DIRS if os.path.exists(d)] + \
        [f"/etc/{n}" for n in ETC_FILES if os.path.exists(f"/etc/{n}")]


def variables(threads: int, tmp: str = "/tmp") -> dict[str, str]:
    """A small, fixed environment: nothing of the grader's leaks in.

    ``tmp`` becomes HOME and TMPDIR: the sandbox's own /tmp under bubblewrap, a
    folder the grader makes and removes with the worker at the other levels (else files
    the student's code or the hidden tests write there would pile up in the machine's /tmp).
    """
    env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "TMPDIR": tmp, "LANG": "C.UTF-8",
           "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
           "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "MPLBACKEND": "Agg"}
    for key in ("CUDA_VISIBLE_DEVICES", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env
