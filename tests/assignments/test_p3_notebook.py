"""Does the P3 notebook (assignments/p3_sampling/sampling.ipynb) hold together?"""

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from .test_p1_public import BEGIN, END, clear_solutions

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = ROOT / "assignments" / "p3_sampling"
NOTEBOOK = ASSIGNMENT / "sampling.ipynb"
PACKAGES = ("p1_forward", "p2_training", "p3_sampling")


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


def test_notebook_imports_the_bundle_packages():
    """Does the notebook import p3_sampling and the P1, P2 references from the bundle root, with no other path hacks?"""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = code_cells(nb)
    assert "sys.path.insert(0, str(pathlib.Path.cwd()))" in cells[0].source
    for package in PACKAGES:
        assert any(f"from {package} import" in cell.source for cell in cells), package
    assert sum("sys.path" in cell.source for cell in cells) == 1
    assert not any("solutions" in cell.source for cell in cells)
    assert any("assets/unet_digits.safetensors" in cell.source for cell in cells)


def test_notebook_exercises_clear_to_valid_code():
    """Does each exercise cell have a solution region, and compile once it is cleared?"""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    exercises = [cell for cell in code_cells(nb) if BEGIN in cell.source]
    assert len(exercises) == 2
    for cell in exercises:
        assert cell.source.count(BEGIN) == cell.source.count(END) == 1
        cleared = clear_solutions(cell.source)
        assert BEGIN not in cleared and "raise NotImplementedError()" in cleared
        compile(cleared, "<exercise cell>", "exec")


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook executed headless in a folder laid out like the P3 student bundle:
    the three reference packages and ``assets/`` next to it."""
    root = tmp_path_factory.mktemp("p3_notebook")
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    for package in PACKAGES:
        shutil.copytree(ROOT / "solutions" / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ASSIGNMENT / "assets", root / "assets")
    nb = nbformat.read(root / NOTEBOOK.name, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(root)}})
    client.execute()
    return nb


def outputs(nb):
    return [out for cell in code_cells(nb) for out in cell.outputs]


def stream_text(nb) -> str:
    return "".join(out.text for out in outputs(nb) if out.output_type == "stream")


@pytest.mark.slow
def test_notebook_runs_headless_against_reference(executed):
    """Does the P3 notebook run headless against the reference, every cell without error, drawing its figures?"""
    assert all(cell.execution_count is not None for cell in code_cells(executed))
    assert not [out for out in outputs(executed) if out.output_type == "error"]
    images = [out for out in outputs(executed) if "image/png" in out.get("data", {})]
    assert len(images) >= 5


@pytest.mark.slow
def test_notebook_reports_speed_and_quality(executed):
    """Does the speed table list every sampler, with DDIM 50 much faster than DDPM and FIDs far below noise?"""
    text = stream_text(executed)
    rows = {}
    for name in ("DDIM 10", "DDIM 20", "DDIM 50", "DDIM 100", "DDIM 250", "DDPM 1000"):
        match = re.search(rf"^{name}\s+\d+\s+(\d+\.\d+)\s+(\d+\.\d+)x\s+(\d+\.\d+)$", text, flags=re.M)
        assert match, f"no row for {name} in:\n{text}"
        rows[name] = tuple(map(float, match.groups()))
    assert rows["DDIM 50"][1] > 8  # about 20 in theory; timings on a busy machine are noisy
    noise = float(re.search(r"noise vs train at this sample count: FID (\d+\.\d+)", text).group(1))
    assert all(fid < noise / 5 for _, _, fid in rows.values()), (rows, noise)


@pytest.mark.slow
def test_notebook_inversion_round_trip(executed):
    """Does the inversion section report a small round-trip error?"""
    match = re.search(r"round trip: mean \|x0 - back\| = (\d+\.\d+)", stream_text(executed))
    assert match and float(match.group(1)) < 0.05
