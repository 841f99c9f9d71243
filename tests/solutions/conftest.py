"""Shared setup for the tests of the reference solutions.

Later projects import earlier ones by their plain package names
(``from p1_forward import q_sample``), as in a student's bundle and in the
grader. ``reference`` imports the reference packages that way, from
``solutions/``, and then takes ``solutions/`` off ``sys.path`` and the plain
names out of ``sys.modules`` again: other tests in the same session (the
grader's, say) import a toy package under the same name ``p1_forward`` and must
not get ours from the module cache. The loaded modules keep working.
"""

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

SOLUTIONS = str(Path(__file__).resolve().parents[2] / "solutions")
PACKAGES = ("p1_forward", "p2_training", "p3_sampling", "p4_guidance", "p5_latent")
_loaded: dict[str, ModuleType] = {}


def _is_ours(module_name: str) -> bool:
    return any(module_name == p or module_name.startswith(p + ".") for p in PACKAGES)


def _import_without_trace() -> dict[str, ModuleType]:
    shadowed = {k: v for k, v in sys.modules.items() if _is_ours(k)}
    for name in shadowed:
        del sys.modules[name]
    sys.path.insert(0, SOLUTIONS)
    try:
        return {name: importlib.import_module(name) for name in PACKAGES}
    finally:
        sys.path.remove(SOLUTIONS)
        for name in [k for k in sys.modules if _is_ours(k)]:
            del sys.modules[name]
        sys.modules.update(shadowed)


def reference(name: str) -> ModuleType:
    """The reference package ``name`` (``"p1_forward"``, ``"p2_training"``, ``"p3_sampling"``),
    imported once, by its plain name, all three together (so P2 and P3 use this very P1)."""
    if not _loaded:
        _loaded.update(_import_without_trace())
    return _loaded[name]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Run these tests on one intra-op thread, and restore the setting afterwards.

    The models here are tiny: on a shared 2-core machine, OpenMP threads that
    wait for each other cost far more than a second thread saves.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
