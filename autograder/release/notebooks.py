"""Jupyter notebooks as plain JSON (nbformat 4): read, clear for students, write.

Clearing replaces the solution regions of code cells, removes every output,
execution count and execution timing, and keeps everything else (markdown,
cell ids, tags, kernel metadata). Markers are only allowed in code cells; one
in a markdown or raw cell is an error. Writing uses nbformat's own layout
(``indent=1``, sorted keys, a final newline), so a cleared notebook diffs well.
"""

import json
from pathlib import Path

from autograder.release.errors import ReleaseError
from autograder.release.markers import Location, looks_like_marker
from autograder.release.stubs import stub_cell


def cell_source(cell: dict) -> str:
    """The text of a cell, whether stored as one string or a list of lines."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def read_notebook(path: Path, *, label: str) -> dict:
    """The notebook at ``path`` as a dict; ``label`` names it in errors."""
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ReleaseError(f"{label}: not a readable notebook ({e})") from None
    if not isinstance(nb, dict) or nb.get("nbformat") != 4 or not isinstance(nb.get("cells"), list):
        raise ReleaseError(f"{label}: not an nbformat 4 notebook (no 'nbformat': 4 or no 'cells' list)")
    return nb


def clear_notebook(nb: dict, *, label: str) -> dict:
    """A copy of ``nb`` with solution regions stubbed and all outputs removed."""
    cells = []
    for number, cell in enumerate(nb["cells"], start=1):
        cell = dict(cell)
        location = Location(label, cell=number)
        source = cell_source(cell)
        if cell.get("cell_type") == "code":
            source = stub_cell(source, location=location)
            cell["outputs"] = []
            cell["execution_count"] = None
            cell["metadata"] = {k: v for k, v in cell.get("metadata", {}).items() if k != "execution"}
        else:
            for line_no, line in enumerate(source.splitlines(), start=1):
                if looks_like_marker(line):
                    raise ReleaseError(f"{location.at(line_no)}: solution marker in a {cell.get('cell_type')} "
                                       f"cell; markers are only allowed in code cells")
        cell["source"] = source.splitlines(keepends=True)
        cells.append(cell)
    return {**nb, "cells": cells}


def notebook_text(nb: dict) -> str:
    """``nb`` serialised as nbformat writes it."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
