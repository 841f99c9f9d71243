"""Tests of ``autograder.release.markers``: finding and replacing solution regions."""

import pytest

from autograder.release.errors import ReleaseError
from autograder.release.markers import Location, find_regions, looks_like_marker, replace_regions, split_regions

WHERE = Location("solutions/p1_forward/forward.py")

SOURCE = """def f(x):
    \"\"\"Docstring.\"\"\"
    # BEGIN SOLUTION
    y = x + 1
    return y
    # END SOLUTION


def g(x):
    if x:
        # BEGIN SOLUTION
        return 2
        # END SOLUTION
    return 0
"""


def stub(region, lines):
    return "raise NotImplementedError()"


def test_regions_are_found_with_their_indentation():
    """Are regions found at the right lines, with the BEGIN line's indentation?"""
    regions = find_regions(SOURCE.splitlines(), location=WHERE)
    assert [(r.begin, r.end, r.indent) for r in regions] == [(2, 5, "    "), (10, 12, "        ")]


def test_regions_are_replaced_at_their_indentation():
    """Are solution regions correctly replaced, leaving signature, docstring and the rest alone?"""
    out = replace_regions(SOURCE, location=WHERE, stub=stub)
    assert out == """def f(x):
    \"\"\"Docstring.\"\"\"
    raise NotImplementedError()


def g(x):
    if x:
        raise NotImplementedError()
    return 0
"""


def test_text_without_regions_is_unchanged():
    """Is a file without markers returned byte for byte?"""
    text = "import torch\n\n\ndef f():\n    return 1\n"
    assert replace_regions(text, location=WHERE, stub=stub) == text


def test_line_endings_are_kept():
    """Do CRLF files keep CRLF, including on the stub line?"""
    text = "def f():\r\n    # BEGIN SOLUTION\r\n    return 1\r\n    # END SOLUTION\r\nx = 1\r\n"
    expected = "def f():\r\n    raise NotImplementedError()\r\nx = 1\r\n"
    assert replace_regions(text, location=WHERE, stub=stub) == expected


def test_region_at_end_of_file_without_newline():
    """Does a region whose END is the last line, without a newline, still get replaced?"""
    text = "def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION"
    assert replace_regions(text, location=WHERE, stub=stub) == "def f():\n    raise NotImplementedError()"


def test_split_regions_numbers_lines_from_one():
    """Does split_regions give the lines inside regions (without markers) and the others, numbered from 1?"""
    inside, outside = split_regions(SOURCE, location=WHERE)
    assert inside == [(4, "    y = x + 1"), (5, "    return y"), (12, "        return 2")]
    assert (1, "def f(x):") in outside and all("SOLUTION" not in line for _, line in outside)


MALFORMED = [
    ("end without begin", "x = 1\n# END SOLUTION\n", 2, "without a matching"),
    ("nested begin", "# BEGIN SOLUTION\nx = 1\n    # BEGIN SOLUTION\n# END SOLUTION\n", 3, "nested"),
    ("begin without end", "x = 1\n\n    # BEGIN SOLUTION\nx = 2\n", 3, "no matching"),
    ("typo", "def f():\n    # BEGIN SOLUTON\n    return 1\n", 2, "malformed"),
    ("wrong case", "def f():\n    # begin solution\n", 2, "malformed"),
    ("no space after #", "def f():\n    #BEGIN SOLUTION\n", 2, "malformed"),
    ("extra text", "# BEGIN SOLUTION\nx = 1\n# END SOLUTION here\n", 3, "malformed"),
    ("underscore", "# BEGIN_SOLUTION\n", 1, "malformed"),
    ("misspelt begin", "x = 1\n# BEGN SOLUTION\n", 2, "malformed"),
    ("after code", "x = 1  # BEGIN SOLUTION\n", 1, "malformed"),
    ("inside a string", 'MARK = "# END SOLUTION"\n', 1, "malformed"),
]


@pytest.mark.parametrize("text, line, problem", [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_markers_name_file_and_line(text, line, problem):
    """Does every malformed marker raise a ReleaseError naming the file and the 1-based line?"""
    with pytest.raises(ReleaseError, match=problem) as info:
        replace_regions(text, location=WHERE, stub=stub)
    assert str(info.value).startswith(f"solutions/p1_forward/forward.py:{line}: ")


def test_notebook_errors_name_cell_and_line():
    """Does an error in a notebook cell name the file, the cell and the line in the cell?"""
    with pytest.raises(ReleaseError) as info:
        find_regions(["x = 1", "# END SOLUTION"], location=Location("forward_process.ipynb", cell=4))
    assert str(info.value).startswith("forward_process.ipynb: cell 4, line 2: ")


@pytest.mark.parametrize("line", [
    "# the end of the solution is near",
    "    append_solution(x)",
    "# Solution: see the handout",
    "end_time = begin + 1",
])
def test_ordinary_lines_are_not_markers(line):
    """Are comments and code that merely mention solutions left alone?"""
    assert not looks_like_marker(line)


@pytest.mark.parametrize("line", ["# BEGIN SOLUTION", "  # END SOLUTION  ", "# End Solution", "# BEGINSOLUTION",
                                  "# END SOLN", "# SOLUTION BEGIN", "s = 'begin solution'"])
def test_marker_like_lines_are_markers(line):
    """Are exact markers and their near misses all recognised as markers?"""
    assert looks_like_marker(line)
