"""Solution regions: the lines between ``# BEGIN SOLUTION`` and ``# END SOLUTION``.

A region starts at a line whose stripped text is exactly ``# BEGIN SOLUTION``
and ends at the next line whose stripped text is exactly ``# END SOLUTION``;
both marker lines belong to the region. Regions do not nest.

Any other line that looks like a marker is an error rather than a guess: wrong
case, a typo (``# BEGIN SOLUTON``), extra text, a marker after code or inside a
string. Telling a comment from a string reliably would need a tokenizer that
notebook cells (with their ``%magics``) do not always satisfy, and a wrong guess
either leaks a solution or breaks a stub.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from autograder.release.errors import ReleaseError

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"

# "begin solution" / "end solution" anywhere, in any case: in code, strings or comments.
_ANYWHERE = re.compile(r"\b(begin|end)\s+solution", re.IGNORECASE)
# In a comment line, also the near misses: "BEGINSOLUTION", "END_SOLUTON", "BEGIN SOLN",
# and any "SOLUTION" in capitals ("# BEGN SOLUTION", "# SOLUTION BEGIN").
_NEAR_MISS = re.compile(r"\b(begin|end)[\s_-]*sol(u|n)", re.IGNORECASE)


@dataclass(frozen=True)
class Location:
    """Where lines come from, for error messages: a file, and a cell of it for notebooks.

    ``cell`` counts from 1, in the order the cells appear in Jupyter.
    """

    path: str
    cell: int | None = None

    def at(self, line: int) -> str:
        """``path:line`` for a file, ``path: cell N, line L`` for a notebook cell (``line`` from 1)."""
        if self.cell is None:
            return f"{self.path}:{line}"
        return f"{self.path}: cell {self.cell}, line {line}"


@dataclass(frozen=True)
class Region:
    """One solution region: 0-based indices of its marker lines and the BEGIN line's indentation."""

    begin: int
    end: int
    indent: str


def looks_like_marker(line: str) -> bool:
    """Whether ``line`` is, or might have been meant as, a solution marker."""
    text = line.strip()
    if _ANYWHERE.search(text):
        return True
    return text.startswith("#") and bool(_NEAR_MISS.search(text) or "SOLUTION" in text)


def _indent(line: str) -> str:
    return re.match(r"[ \t]*", line).group()


def find_regions(lines: Sequence[str], *, location: Location) -> list[Region]:
    """The solution regions of ``lines``, in order.

    Raises ``ReleaseError`` naming ``location`` and the 1-based line for an END
    without a BEGIN, a BEGIN inside an open region, a BEGIN never closed, and
    any line that looks like a marker but is not exactly one.
    """
    regions, start = [], None
    for i, line in enumerate(lines):
        text = line.strip()
        if text == BEGIN:
            if start is not None:
                raise ReleaseError(f"{location.at(i + 1)}: nested {BEGIN!r}: the region opened at "
                                   f"line {start + 1} is not closed yet (regions do not nest)")
            start = i
        elif text == END:
            if start is None:
                raise ReleaseError(f"{location.at(i + 1)}: {END!r} without a matching {BEGIN!r} before it")
            regions.append(Region(start, i, _indent(lines[start])))
            start = None
        elif looks_like_marker(line):
            raise ReleaseError(f"{location.at(i + 1)}: malformed solution marker {text!r}; a marker must be "
                               f"a line of its own reading exactly {BEGIN!r} or {END!r}")
    if start is not None:
        raise ReleaseError(f"{location.at(start + 1)}: {BEGIN!r} has no matching {END!r}")
    return regions


def replace_regions(text: str, *, location: Location, stub: Callable[[Region, list[str]], str]) -> str:
    """``text`` with each region, markers included, replaced by one line ``stub(region, lines)``.

    The stub line gets the region's indentation and the line ending of its END line.
    """
    lines = text.splitlines(keepends=True)
    regions = find_regions(lines, location=location)
    out, pos = [], 0
    for region in regions:
        out.extend(lines[pos:region.begin])
        end_line = lines[region.end]
        ending = end_line[len(end_line.rstrip("\r\n")):]
        out.append(region.indent + stub(region, lines) + ending)
        pos = region.end + 1
    out.extend(lines[pos:])
    return "".join(out)


def split_regions(text: str, *, location: Location) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """``(inside, outside)``: the 1-based numbered lines inside regions (markers excluded) and the others."""
    lines = text.splitlines()
    inside_idx = set()
    for region in find_regions(lines, location=location):
        inside_idx.update(range(region.begin + 1, region.end))
    markers = {i for i, line in enumerate(lines) if line.strip() in (BEGIN, END)}
    inside = [(i + 1, line) for i, line in enumerate(lines) if i in inside_idx]
    outside = [(i + 1, line) for i, line in enumerate(lines) if i not in inside_idx and i not in markers]
    return inside, outside
