"""Stubs: source with every solution region replaced by ``raise NotImplementedError``.

In a Python file the raise names what to complete, ``complete q_sample in
p1_forward/forward.py``, and sits at the indentation of the region's BEGIN line,
so the function keeps its signature and docstring (both outside the region).
A notebook cell gets a bare ``raise NotImplementedError()``.
"""

import re

from autograder.release.errors import ReleaseError
from autograder.release.markers import Location, Region, replace_regions

_DEF = re.compile(r"([ \t]*)(?:async[ \t]+)?(def|class)[ \t]+(\w+)")


def enclosing_name(lines: list[str], index: int) -> str | None:
    """The dotted name (``Class.method``) of the def enclosing line ``index``, or None at module level."""
    names, indent = [], len(lines[index]) - len(lines[index].lstrip(" \t"))
    for line in reversed(lines[:index]):
        match = _DEF.match(line)
        if match and len(match.group(1)) < indent:
            names.append(match.group(3))
            indent = len(match.group(1))
            if indent == 0:
                break
    return ".".join(reversed(names)) or None


def stub_python(text: str, *, location: Location, module: str) -> str:
    """``text`` (a .py file) with its solution regions replaced; ``module`` names it in the messages.

    Raises ``ReleaseError`` for a malformed marker, or when the stubbed file no
    longer compiles (a region that does not cover whole statements).
    """

    def stub(region: Region, lines: list[str]) -> str:
        name = enclosing_name(lines, region.begin)
        what = f"{name} in {module}" if name else module
        return f'raise NotImplementedError("complete {what}")'

    out = replace_regions(text, location=location, stub=stub)
    try:
        compile(out, location.path, "exec")
    except SyntaxError as e:
        raise ReleaseError(f"{location.path}: once stubbed, the file does not compile ({e.msg} at its "
                           f"line {e.lineno}); a solution region must hold whole statements of one block") from None
    return out


def stub_cell(source: str, *, location: Location) -> str:
    """A notebook code cell with its solution regions replaced by ``raise NotImplementedError()``."""
    return replace_regions(source, location=location, stub=lambda region, lines: "raise NotImplementedError()")
