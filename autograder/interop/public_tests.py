"""The public tests of a project, as nbgrader and otter see them.

A public test is a top-level function ``test_*`` of a module
``assignments/<project>/tests/public/test_*.py``; its parametrized cases count
as one test. Modules come in the order of the package files they test, as
``assignment.toml`` lists them under ``files`` (``test_schedules.py`` before
``test_forward.py`` when ``schedules.py`` comes first), then by name.
"""

import ast
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from autograder.config import AssignmentConfig
from autograder.interop.errors import InteropError


@dataclass(frozen=True)
class PublicTest:
    """One public test function: ``module`` is the file name, ``doc`` its docstring's first line."""

    module: str
    name: str
    doc: str

    @property
    def node(self) -> str:
        """``test_forward.py::test_q_sample_shape_and_dtype``, as pytest names it."""
        return f"{self.module}::{self.name}"


@dataclass(frozen=True)
class PublicModule:
    """A public test module: its path, its source text and its test functions in file order."""

    path: Path
    source: str
    tests: tuple[PublicTest, ...]

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def topic(self) -> str:
        """What the module tests: ``schedules`` for ``test_schedules.py``."""
        return self.path.stem.removeprefix("test_")


def _functions(path: Path, source: str) -> tuple[PublicTest, ...]:
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as e:
        raise InteropError(f"{path}:{e.lineno}: public test does not parse ({e.msg})") from None
    tests = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            doc = (ast.get_docstring(node) or "").strip().splitlines()
            tests.append(PublicTest(path.name, node.name, doc[0] if doc else ""))
    return tuple(tests)


def _rank(config: AssignmentConfig):
    """Sort key: the position of the tested file in ``config.files``, then the module name."""
    stems = [PurePosixPath(f).stem for f in config.files]

    def key(path: Path) -> tuple[int, str]:
        topic = path.stem.removeprefix("test_")
        return (stems.index(topic) if topic in stems else len(stems), path.name)

    return key


def public_modules(assignment_dir: Path, config: AssignmentConfig) -> list[PublicModule]:
    """The public test modules of the project in ``assignment_dir`` that hold at least one test."""
    folder = Path(assignment_dir) / "tests" / "public"
    modules = []
    for path in sorted(folder.glob("test_*.py"), key=_rank(config)):
        source = path.read_text(encoding="utf-8")
        tests = _functions(path, source)
        if tests:
            modules.append(PublicModule(path, source, tests))
    return modules

