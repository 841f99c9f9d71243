"""Tests of ``autograder.release.notebooks``: clearing a notebook for students."""

import copy
import json

import pytest

from autograder.release.errors import ReleaseError
from autograder.release.notebooks import clear_notebook, notebook_text, read_notebook

from .toy import NOTEBOOK, NOTEBOOK_SOLUTION_LINE


def test_outputs_counts_and_timings_are_removed():
    """Are outputs, execution counts and execution timings gone from every code cell?"""
    code = clear_notebook(copy.deepcopy(NOTEBOOK), label="toy.ipynb")["cells"][1]
    assert code["outputs"] == [] and code["execution_count"] is None
    assert code["metadata"] == {"tags": ["exercise"]}


def test_solution_region_is_replaced_and_the_rest_kept():
    """Is the region replaced by a bare raise, with markdown, ids and kernel metadata kept?"""
    cleared = clear_notebook(copy.deepcopy(NOTEBOOK), label="toy.ipynb")
    code = "".join(cleared["cells"][1]["source"])
    assert code == "def triple(x):\n    raise NotImplementedError()\n\n\ntriple(2)"
    assert NOTEBOOK_SOLUTION_LINE not in notebook_text(cleared)
    assert cleared["cells"][0] == NOTEBOOK["cells"][0]
    assert cleared["metadata"] == NOTEBOOK["metadata"] and cleared["cells"][1]["id"] == "triple"


def test_clearing_leaves_the_input_alone():
    """Does clearing return a new notebook rather than edit the one it was given?"""
    original = copy.deepcopy(NOTEBOOK)
    clear_notebook(original, label="toy.ipynb")
    assert original == NOTEBOOK


def test_marker_in_markdown_is_refused():
    """Is a marker in a markdown cell an error naming the file, cell and line?"""
    nb = copy.deepcopy(NOTEBOOK)
    nb["cells"][0]["source"] = ["# Title\n", "# BEGIN SOLUTION\n"]
    with pytest.raises(ReleaseError, match=r"^toy.ipynb: cell 1, line 2: solution marker in a markdown cell"):
        clear_notebook(nb, label="toy.ipynb")


def test_malformed_marker_in_code_names_the_cell():
    """Is a malformed marker in a code cell reported with its cell and line?"""
    nb = copy.deepcopy(NOTEBOOK)
    nb["cells"][1]["source"][4] = "    # END SOLUTON\n"
    with pytest.raises(ReleaseError, match=r"^toy.ipynb: cell 2, line 5: malformed"):
        clear_notebook(nb, label="toy.ipynb")


def test_written_like_nbformat(tmp_path):
    """Is a cleared notebook written as nbformat writes it, and read back unchanged?"""
    cleared = clear_notebook(copy.deepcopy(NOTEBOOK), label="toy.ipynb")
    path = tmp_path / "toy.ipynb"
    path.write_text(notebook_text(cleared))
    assert path.read_text() == json.dumps(cleared, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    assert read_notebook(path, label="toy.ipynb") == cleared


@pytest.mark.parametrize("text", ["not json", "[]", '{"nbformat": 3, "cells": []}'])
def test_unreadable_notebook_names_the_file(tmp_path, text):
    """Is a file that is not an nbformat 4 notebook refused, naming it?"""
    path = tmp_path / "bad.ipynb"
    path.write_text(text)
    with pytest.raises(ReleaseError, match="^assignments/p1_forward/bad.ipynb: not"):
        read_notebook(path, label="assignments/p1_forward/bad.ipynb")
