"""Tests of ``autograder.release.leaks``: finding solutions and hidden test names in output."""

import json

from autograder.release.leaks import collect_secrets, find_leaks

from .toy import NOTEBOOK_SOLUTION_LINE, make_releasable

TOY = "solutions/p1_forward/toy.py"
HIDDEN = "assignments/p1_forward/tests/hidden/test_toy.py"


def line_of(root, rel: str, text: str) -> str:
    """``rel:N`` for the first line of ``root/rel`` that contains ``text``: the shared toy course may move."""
    lines = (root / rel).read_text().splitlines()
    return f"{rel}:{next(i for i, line in enumerate(lines, start=1) if text in line)}"


def test_secrets_of_the_toy_course(toy_course):
    """Are region lines (solutions and notebooks) and hidden test names the secrets, with their origin?"""
    secrets = collect_secrets(make_releasable(toy_course))
    assert secrets.lines["return x * factor"] == line_of(toy_course, TOY, "return x * factor")
    assert secrets.lines[NOTEBOOK_SOLUTION_LINE] == "assignments/p1_forward/toy.ipynb: cell 2, line 3"
    assert {"test_toy.py", "test_toy", "test_scale", "test_scale_cases", "test_pair"} == set(secrets.names)
    assert secrets.names["test_pair"] == line_of(toy_course, HIDDEN, "def test_pair")


def test_short_and_comment_lines_are_not_secrets(toy_course):
    """Are short lines and comments inside a region left out of the secrets?"""
    toy = toy_course / "solutions" / "p1_forward" / "toy.py"
    toy.write_text(toy.read_text().replace("    return x * factor\n",
                                           "    # multiply it, as a comment\n    y = x\n    return x * factor\n"))
    lines = collect_secrets(toy_course).lines
    assert "y = x" not in lines and "# multiply it, as a comment" not in lines


def test_lines_shipped_outside_regions_are_not_secrets(toy_course):
    """Is a region line that also appears outside every region (so ships anyway) not a secret?"""
    toy = toy_course / "solutions" / "p1_forward" / "toy.py"
    toy.write_text(toy.read_text() + "\n\ndef helper(x, factor):\n    return x * factor\n")
    assert "return x * factor" not in collect_secrets(toy_course).lines


def test_hidden_names_shared_with_public_tests_are_not_secrets(toy_course):
    """Is a hidden test file or function that a public test also names not a secret?"""
    public = toy_course / "assignments" / "p1_forward" / "tests" / "public" / "test_toy.py"
    public.write_text("def test_pair():\n    pass\n")
    names = collect_secrets(toy_course).names
    assert "test_toy.py" not in names and "test_pair" not in names and "test_scale_cases" in names


def test_leaks_are_found_with_file_and_line(toy_course, tmp_path):
    """Are solution lines, hidden names and hidden file names found, each naming where it is?"""
    out = tmp_path / "out"
    (out / "pkg").mkdir(parents=True)
    (out / "pkg" / "ops.py").write_text("def f(x, factor):\n        return x * factor\n")
    (out / "README.md").write_text("See test_scale_cases for more.\n")
    (out / "tests").mkdir()
    (out / "tests" / "test_toy.py").write_text("x = 1\n")
    leaks = find_leaks(out, toy_course)
    assert leaks == [
        f"README.md:1: hidden test name 'test_scale_cases' "
        f"(from {line_of(toy_course, HIDDEN, 'def test_scale_cases')})",
        f"pkg/ops.py:2: solution line 'return x * factor' (from {line_of(toy_course, TOY, 'return x * factor')})",
        f"tests/test_toy.py: file named after hidden test 'test_toy.py' ({HIDDEN})",
    ]


def test_leaks_in_notebook_cells_and_outputs(toy_course, tmp_path):
    """Are leaks in notebook sources and outputs reported by cell and line?"""
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "source": ["x = 1\n", "return x + 1, x - 1"],
         "outputs": [{"output_type": "stream", "name": "stdout", "text": ["ran test_scale\n"]}]}]}
    out = tmp_path / "out"
    out.mkdir()
    (out / "nb.ipynb").write_text(json.dumps(nb))
    leaks = find_leaks(out, toy_course)
    assert leaks == [
        f"nb.ipynb: cell 1, line 2: solution line 'return x + 1, x - 1' "
        f"(from {line_of(toy_course, TOY, 'return x + 1, x - 1')})",
        f"nb.ipynb: cell 1, line 3: hidden test name 'test_scale' "
        f"(from {line_of(toy_course, HIDDEN, 'def test_scale(')})",
    ]


def test_names_match_whole_words_only(toy_course, tmp_path):
    """Does a public name that merely starts like a hidden one (test_scale_triples) pass?"""
    out = tmp_path / "out"
    out.mkdir()
    (out / "test_public.py").write_text("def test_scale_triples():\n    pass\n")
    assert find_leaks(out, toy_course) == []
