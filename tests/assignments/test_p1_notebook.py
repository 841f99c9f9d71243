"""Does the P1 notebook (assignments/p1_forward/forward_process.ipynb) hold together?"""

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from .test_p1_public import BEGIN, END, REFERENCE, clear_solutions

NOTEBOOK = Path(__file__).resolve().parents[2] / "assignments" / "p1_forward" / "forward_process.ipynb"
SCHEDULES = ("linear", "quadratic", "cosine")


def code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def test_notebook_is_released_clean():
    """Is the notebook valid nbformat 4 for python3, with no stored outputs or counts?"""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    for cell in code_cells(nb):
        assert cell.outputs == []
        assert cell.execution_count is None


def test_notebook_imports_the_students_package():
    """Does the notebook import p1_forward from the bundle root, with no other path hacks?"""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = code_cells(nb)
    assert "sys.path.insert(0, str(pathlib.Path.cwd()))" in cells[0].source
    assert any("from p1_forward import" in cell.source for cell in cells)
    assert sum("sys.path" in cell.source for cell in cells) == 1
    assert not any("solutions" in cell.source for cell in cells)


def test_notebook_exercises_clear_to_valid_code():
    """Does each exercise cell have a solution region, and compile once it is cleared?"""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    exercises = [cell for cell in code_cells(nb) if BEGIN in cell.source]
    assert len(exercises) >= 1
    for cell in exercises:
        assert cell.source.count(BEGIN) == cell.source.count(END)
        cleared = clear_solutions(cell.source)
        assert BEGIN not in cleared and "raise NotImplementedError()" in cleared
        compile(cleared, "<exercise cell>", "exec")


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook executed headless in a folder laid out like a student bundle,
    with the reference as ``p1_forward/``."""
    root = tmp_path_factory.mktemp("p1_notebook")
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    shutil.copytree(REFERENCE, root / "p1_forward", ignore=shutil.ignore_patterns("__pycache__"))
    nb = nbformat.read(root / NOTEBOOK.name, as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(root)}})
    client.execute()
    return nb


def outputs(nb):
    return [out for cell in code_cells(nb) for out in cell.outputs]


def test_notebook_runs_headless_against_reference(executed):
    """Does the P1 notebook run headless against the reference, every cell without error?"""
    assert all(cell.execution_count is not None for cell in code_cells(executed))
    assert not [out for out in outputs(executed) if out.output_type == "error"]


def test_notebook_draws_figures_and_widget(executed):
    """Does the run produce the schedule and x_t figures and the interactive explorer?"""
    images = [out for out in outputs(executed) if "image/png" in out.get("data", {})]
    assert len(images) >= 3
    assert any("application/vnd.jupyter.widget-view+json" in out.get("data", {}) for out in outputs(executed))


def test_notebook_reports_x_last_close_to_standard_normal(executed):
    """Does the verification table show mean ~ 0 and variance ~ 1 of x_{T-1} for every schedule?"""
    text = "".join(out.text for out in outputs(executed) if out.output_type == "stream")
    for name in SCHEDULES:
        match = re.search(rf"^{name}\s+\S+\s+(-?\d+\.\d+)\s+(\d+\.\d+)\s+(\d+\.\d+)$", text, flags=re.M)
        assert match, f"no statistics row for {name} in:\n{text}"
        mean, var, ks = map(float, match.groups())
        assert abs(mean) < 0.05 and abs(var - 1) < 0.02 and ks < 0.02, (name, mean, var, ks)
