"""The leak check: does student-facing output contain anything it must not?

Secrets are (a) every significant line inside a solution region, in
``solutions/`` and in the assignment notebooks, and (b) the names of hidden test
files and of the hidden ``test_*`` functions. A line is significant when,
stripped, it has at least 12 characters and is not a comment.

Two exceptions keep the check free of false alarms. A region line that also
appears outside every region (the instructor ships it anyway, e.g. a helper
in a stub file) is not a secret; nor is a hidden test name that a public test
also uses as its file or function name. Everything else is scanned: stubs,
handouts, notebooks, public tests, metadata.

Lines are compared whole (after stripping), names as whole words.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from autograder.release.files import read_source, walk
from autograder.release.markers import Location, split_regions
from autograder.release.notebooks import cell_source, read_notebook

MIN_LENGTH = 12
_TEST_DEF = re.compile(r"^\s*(?:async\s+)?def\s+(test_\w*)", re.MULTILINE)
_NOT_TEST_FILES = {"__init__.py", "conftest.py"}


@dataclass(frozen=True)
class Secrets:
    lines: dict[str, str]  # stripped line -> where it is, e.g. "solutions/p1_forward/forward.py:27"
    names: dict[str, str]  # hidden test file or function name -> where it is


def significant(line: str) -> bool:
    text = line.strip()
    return len(text) >= MIN_LENGTH and not text.startswith("#") and not text.startswith("raise NotImplementedError")


class _Collector:
    def __init__(self, root: Path):
        self.root = root
        self.secret_lines: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.shipped_lines: set[str] = set()  # lines outside regions: shipped on purpose
        self.public_names: set[str] = set()   # file and test names the public tests use

    def label(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def regions(self, text: str, location: Location) -> None:
        inside, outside = split_regions(text, location=location)
        for number, line in inside:
            if significant(line):
                self.secret_lines.setdefault(line.strip(), location.at(number))
        self.shipped_lines.update(line.strip() for _, line in outside)

    def notebook(self, path: Path) -> None:
        label = self.label(path)
        for number, cell in enumerate(read_notebook(path, label=label)["cells"], start=1):
            if cell.get("cell_type") == "code":
                self.regions(cell_source(cell), Location(label, cell=number))

    def solutions(self, folder: Path) -> None:
        for path in walk(folder):
            if path.suffix == ".py":
                self.regions(read_source(path, label=self.label(path)), Location(self.label(path)))
            elif path.suffix == ".ipynb":
                self.notebook(path)

    def test_names(self, folder: Path) -> dict[str, str]:
        """File names, stems and ``test_*`` function names of the tests under ``folder``."""
        names = {}
        for path in walk(folder):
            label = self.label(path)
            if path.name not in _NOT_TEST_FILES:
                names.setdefault(path.name, label)
                names.setdefault(path.stem, label)
            if path.suffix == ".py":
                text = read_source(path, label=label)
                for match in _TEST_DEF.finditer(text):
                    names.setdefault(match.group(1), f"{label}:{text.count(chr(10), 0, match.start(1)) + 1}")
        return names

    def assignment(self, folder: Path) -> None:
        for path in sorted(folder.glob("*.ipynb")):
            self.notebook(path)
        self.public_names.update(self.test_names(folder / "tests" / "public"))
        for name, where in self.test_names(folder / "tests" / "hidden").items():
            self.names.setdefault(name, where)

    def result(self) -> Secrets:
        lines = {k: v for k, v in self.secret_lines.items() if k not in self.shipped_lines}
        names = {k: v for k, v in self.names.items() if k not in self.public_names}
        return Secrets(lines, names)


def _subfolders(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and p.name != "__pycache__" and not p.name.startswith("."))


def collect_secrets(root: Path) -> Secrets:
    """Every secret of the course at ``root``, with where it comes from."""
    root = Path(root).resolve()
    collector = _Collector(root)
    for folder in _subfolders(root / "solutions"):
        collector.solutions(folder)
    for folder in _subfolders(root / "assignments"):
        collector.assignment(folder)
    return collector.result()


def _output_text(output: dict) -> str:
    """The text of a notebook output: a stream's text, or the text of each rich-data entry."""
    parts = [output.get("text", "")] + [v for v in output.get("data", {}).values() if isinstance(v, (str, list))]
    return "\n".join(cell_source({"source": part}) for part in parts)


def _numbered_lines(path: Path, rel: str) -> list[tuple[str, str]]:
    """``(where, line)`` for every line a student could read in ``path``; binary files have none."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return []
    if path.suffix == ".ipynb":
        try:
            cells = json.loads(text).get("cells", [])
        except (json.JSONDecodeError, AttributeError):
            cells = None
        if isinstance(cells, list):
            found = []
            for number, cell in enumerate(cells, start=1):
                outputs = "\n".join(_output_text(out) for out in cell.get("outputs", []))
                for line_no, line in enumerate((cell_source(cell) + "\n" + outputs).splitlines(), start=1):
                    found.append((Location(rel, cell=number).at(line_no), line))
            return found
    return [(f"{rel}:{n}", line) for n, line in enumerate(text.splitlines(), start=1)]


def find_leaks(out_dir: Path, root: Path, released: tuple[str, ...] = ()) -> list[str]:
    """Every secret of the course at ``root`` found under ``out_dir``, one message each.

    Messages start with the path relative to ``out_dir`` (and the line, or cell
    and line) and say what leaked and where it comes from. Solution lines of the
    projects in ``released`` (earlier projects shipped as references) are allowed.
    """
    out_dir = Path(out_dir)
    secrets = collect_secrets(root)
    names = sorted(secrets.names, key=len, reverse=True)
    name_re = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b") if names else None
    leaks = []
    for path in sorted(p for p in out_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(out_dir).as_posix()
        if name_re and (match := name_re.search(rel)):
            leaks.append(f"{rel}: file named after hidden test {match.group(1)!r} ({secrets.names[match.group(1)]})")
        for where, line in _numbered_lines(path, rel):
            text = line.strip()
            if text in secrets.lines and not secrets.lines[text].startswith(
                    tuple(f"solutions/{p}/" for p in released)):
                leaks.append(f"{where}: solution line {text!r} (from {secrets.lines[text]})")
            if name_re and (match := name_re.search(line)):
                leaks.append(f"{where}: hidden test name {match.group(1)!r} (from {secrets.names[match.group(1)]})")
    return leaks
