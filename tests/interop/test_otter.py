"""otter checks: test files that the real otter reads, and ``grader.check`` in a real notebook kernel."""

import json
import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from autograder import config
from autograder.interop.otter import make_otter_tests
from autograder.interop.public_tests import public_modules
from autograder.release.notebooks import cell_source
from tests.conftest import REPO

ADIR = REPO / "assignments" / "p1_forward"


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    return make_otter_tests(project="p1", out_dir=tmp_path_factory.mktemp("otter"), root=REPO)


def test_one_question_per_public_module_in_package_order(made):
    """Is q1 the schedules' public tests and q2 the forward process's, as assignment.toml orders the files?"""
    assert made.questions == {"q1": "test_schedules.py", "q2": "test_forward.py"}
    assert sorted(p.name for p in made.tests_dir.iterdir()) == ["q1.py", "q2.py"]


def test_otter_reads_each_file_as_one_case_per_public_test(made):
    """Does otter's own loader find one one-point case per public test function, named after it?"""
    from otter.nbmeta_config import NBMetadataConfig
    from otter.test_files import create_test_file

    modules = {m.name: m for m in public_modules(ADIR, config.load(ADIR))}
    for question, module in made.questions.items():
        parsed = create_test_file(str(made.tests_dir / f"{question}.py"), NBMetadataConfig())
        assert parsed.name == question
        assert [c.name for c in parsed.test_cases] == [t.name for t in modules[module].tests]
        assert all(c.points == 1 and not c.hidden for c in parsed.test_cases)


def test_notebook_gets_init_and_check_cells_after_the_import(made):
    """Are the otter cells right after the cell importing p1_forward, with solutions cleared?"""
    nb = json.loads(made.notebooks[0].read_text())
    sources = [cell_source(c) for c in nb["cells"]]
    at = next(i for i, (c, s) in enumerate(zip(nb["cells"], sources))
              if c["cell_type"] == "code" and "from p1_forward import" in s)
    assert 'grader = otter.Notebook(tests_dir="tests")' in sources[at + 2]
    assert sources[at + 3: at + 5] == ['grader.check("q1")', 'grader.check("q2")']
    assert "# BEGIN SOLUTION" not in "".join(sources)
    assert len({c["id"] for c in nb["cells"]}) == len(nb["cells"])


# Appended to the real notebook's first cells: wrong versions of a function each question tests.
WRONG_ANSWERS = '''
import json
results = {"q1": grader.check("q1"), "q2": grader.check("q2")}
outcome = {k: (r.passed_all, r.score, r.possible) for k, r in results.items()}

def q_sample(x0, t, alpha_bar, noise):  # forgets the noise
    return x0
r = grader.check("q2")
outcome["q2 wrong q_sample"] = (r.passed_all, r.score, r.possible)
outcome["q2 failures"] = [x.test_case.name for x in r.test_case_results if not x.passed]
outcome["q2 message"] = next(x.message for x in r.test_case_results if not x.passed)
r = grader.check("q1")
outcome["q1 after wrong q_sample"] = (r.passed_all, r.score, r.possible)

def get_schedule(name, T):  # ignores the name
    return linear_beta_schedule(T)
r = grader.check("q1")
outcome["q1 wrong get_schedule"] = (r.passed_all, r.score, r.possible)
print(json.dumps(outcome))
'''


@pytest.mark.slow
def test_grader_check_passes_correct_code_and_fails_wrong_code(made, tmp_path):
    """In a real kernel, do the notebook's own check cells pass on the reference package, and
    does redefining a function wrongly in a cell fail the question that tests it, and only that one?"""
    work = tmp_path / "work"
    shutil.copytree(made.tests_dir, work / "tests")
    shutil.copytree(REPO / "examples" / "p1_forward" / "perfect" / "p1_forward", work / "p1_forward")
    nb = nbformat.read(made.notebooks[0], as_version=4)
    last_check = max(i for i, c in enumerate(nb.cells) if "grader.check(" in c.source)
    nb.cells = nb.cells[:last_check + 1]
    nb.cells.append(nbformat.v4.new_code_cell("from p1_forward import linear_beta_schedule\n" + WRONG_ANSWERS))
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(work)}})
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        for var in ("JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
            mp.setenv(var, str(scratch / var.lower()))
        mp.setenv("MPLBACKEND", "Agg")
        client.execute()
    for cell in nb.cells[last_check - 1: last_check + 1]:  # the notebook's own check cells
        assert not [o for o in cell.outputs if o.get("output_type") == "error"], cell.outputs
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("output_type") == "stream")
    outcome = json.loads(printed.strip().splitlines()[-1])
    n1, n2 = (len(m.tests) for m in public_modules(ADIR, config.load(ADIR)))
    assert outcome["q1"] == [True, n1, n1] and outcome["q2"] == [True, n2, n2]
    assert outcome["q2 wrong q_sample"][0] is False and 0 < outcome["q2 wrong q_sample"][1] < n2
    assert "test_q_sample_uses_one_timestep_per_sample" in outcome["q2 failures"]
    assert "Tensor-likes are not close" in outcome["q2 message"]
    assert outcome["q1 after wrong q_sample"] == [True, n1, n1]
    assert outcome["q1 wrong get_schedule"][0] is False
