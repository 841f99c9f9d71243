"""Does the P2 notebook (assignments/p2_training/training.ipynb) hold together?"""

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from .test_p1_notebook import code_cells, outputs
from .test_p1_public import BEGIN, END, clear_solutions

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "assignments" / "p2_training" / "training.ipynb"
PACKAGES = ("p1_forward", "p2_training")  # what a P2 bundle holds next to the notebook


def test_notebook_is_released_clean():
    """Is the notebook valid nbformat 4 for python3, with no stored outputs or counts?"""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    for cell in code_cells(nb):
        assert cell.outputs == []
        assert cell.execution_count is None


def test_notebook_imports_only_what_the_bundle_has():
    """Does the notebook import p2_training and p1_forward from the bundle root, and no sampler of P3?"""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = code_cells(nb)
    assert "sys.path.insert(0, str(pathlib.Path.cwd()))" in cells[0].source
    assert any("from p2_training import" in cell.source for cell in cells)
    assert sum("sys.path" in cell.source for cell in cells) == 1
    assert not any(re.search(r"\b(solutions|p3_sampling)\b", cell.source) for cell in cells)


def test_notebook_exercises_clear_to_valid_code():
    """Does each exercise cell have a solution region, and compile once it is cleared?"""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    exercises = [cell for cell in code_cells(nb) if BEGIN in cell.source]
    assert len(exercises) == 2
    for cell in exercises:
        assert cell.source.count(BEGIN) == cell.source.count(END)
        cleared = clear_solutions(cell.source)
        assert BEGIN not in cleared and "raise NotImplementedError()" in cleared
        compile(cleared, "<exercise cell>", "exec")


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook executed headless in a folder laid out like a student bundle,
    with the references as ``p1_forward/`` and ``p2_training/``."""
    root = tmp_path_factory.mktemp("p2_notebook")
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    for package in PACKAGES:
        shutil.copytree(ROOT / "solutions" / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    nb = nbformat.read(root / NOTEBOOK.name, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(root)}})
    client.execute()
    return nb, root


def stream_text(nb) -> str:
    return "".join(out.text for out in outputs(nb) if out.output_type == "stream")


def test_notebook_runs_headless_against_reference(executed):
    """Does the P2 notebook run headless against the reference, every cell without error, drawing its figures?"""
    nb, root = executed
    assert all(cell.execution_count is not None for cell in code_cells(nb))
    assert not [out for out in outputs(nb) if out.output_type == "error"]
    images = [out for out in outputs(nb) if "image/png" in out.get("data", {})]
    assert len(images) >= 6
    assert (root / "p2_checkpoints" / "step_00000600.safetensors").is_file()


def test_notebook_training_lowers_the_loss(executed):
    """Does the notebook's run lower the loss clearly, and resume to one history of 600 steps?"""
    text = stream_text(executed[0])
    match = re.search(r"first 50 steps: (\d+\.\d+)\s+last 50 steps: (\d+\.\d+)", text)
    assert match, text
    first, last = map(float, match.groups())
    assert last < 0.6 * first, (first, last)
    assert "step 600, 128 model tensors, 600 losses" in text


def test_notebook_loss_is_hardest_at_small_t(executed):
    """Does the loss-by-timestep table go down from t = 0 to t = 999, and is the .pt file refused?"""
    text = stream_text(executed[0])
    rows = {int(t): float(loss) for t, loss in re.findall(r"^t =\s*(\d+)\s+loss (\d+\.\d+)$", text, flags=re.M)}
    assert sorted(rows) == [0, 1, 3, 10, 30, 100, 300, 600, 999], text
    assert rows[0] > rows[100] > rows[999]
    assert "refused:" in text
