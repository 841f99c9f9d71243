"""The shared toy course (``toy_course`` in ``tests/conftest.py``) made releasable.

``make_releasable`` adds what a release needs beyond solutions and hidden
tests: a handout, a notebook with a solution region and outputs, and public
tests; ``release_toy`` releases it and returns the student bundle.
"""

import json
from pathlib import Path

from autograder.release.pipeline import release

HANDOUT = "# Toy project\n\nComplete `scale` and `pair` in `p1_forward/toy.py`, then run `diffgrade check p1`.\n"

PUBLIC_TEST = '''"""Public tests of the toy project (plain numbers, so a check starts without torch)."""

from p1_forward import pair, scale


def test_scale_triples():
    """Does scale(x, 3) triple x?"""
    assert scale(2.0, 3.0) == 6.0


def test_pair_neighbours():
    """Does pair return x + 1 and x - 1?"""
    assert tuple(pair(0)) == (1, -1)


def test_sanity():
    """Does the bundle run at all?"""
    assert sum([1, 1, 1]) == 3
'''

# A finished toy.py without torch: quick to import in a subprocess.
FINISHED = '''
def scale(x, factor):
    return factor * x


def pair(x):
    return x + 1, x - 1
'''

NOTEBOOK_SOLUTION_LINE = "tripled_value = 3 * x"

NOTEBOOK = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "cells": [
        {"cell_type": "markdown", "id": "intro", "metadata": {}, "source": ["# Toy notebook\n", "Fill in `triple`."]},
        {"cell_type": "code", "id": "triple",
         "metadata": {"tags": ["exercise"], "execution": {"iopub.status.busy": "x"}},
         "execution_count": 3,
         "outputs": [{"output_type": "execute_result", "execution_count": 3, "metadata": {},
                      "data": {"text/plain": ["6"]}}],
         "source": ["def triple(x):\n", "    # BEGIN SOLUTION\n", f"    {NOTEBOOK_SOLUTION_LINE}\n",
                    "    return tripled_value\n", "    # END SOLUTION\n", "\n", "\n", "triple(2)"]},
    ],
}


def make_releasable(root: Path) -> Path:
    """Add a handout, a notebook and public tests to the toy course at ``root``."""
    adir = root / "assignments" / "p1_forward"
    (adir / "README.md").write_text(HANDOUT)
    (adir / "toy.ipynb").write_text(json.dumps(NOTEBOOK, indent=1))
    (adir / "tests" / "public" / "test_public_toy.py").write_text(PUBLIC_TEST)
    return root


def release_toy(root: Path, dest: Path) -> Path:
    """Release the toy course into ``dest/release`` (template in ``dest/template``); return the bundle."""
    release(root=root, out_dir=dest / "release", template_dir=dest / "template")
    return dest / "release" / "p1_forward"
