"""Placeholder submissions: the student template with every stub replaced by a cheap return of
the right shape and dtype, the given code untouched. Such a submission shows no work and must
earn at most ``BOUND`` of a project's points.

Each project's ``<project>_support/placeholders.py`` holds ``VARIANTS``: for each way a student
might fill stubs without doing the work (zeros, the inputs handed back, the noise handed back,
random values, property-passing tricks), the body of every stub, by the stub's name as its
``raise NotImplementedError("complete NAME in ...")`` gives it. ``build`` copies
``student_template/<project>`` and puts the bodies in place; it fails if a stub has no body or
a body no stub, so the tables follow the template.
"""

import re
import shutil
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "student_template"
BOUND = 0.05  # at most this share of a project's points
STUB = re.compile(r'^([ \t]*)raise NotImplementedError\("complete (\S+) in [^"]*"\)\n', re.M)


def stub_names(project: str) -> set[str]:
    """The names of the stubs in the template of ``project``."""
    return {m.group(2) for path in (TEMPLATE / project).glob("*.py") for m in STUB.finditer(path.read_text())}


def build(project: str, bodies: dict[str, str], dest: Path) -> Path:
    """``dest/<project>``: the template with each stub's ``raise`` replaced by ``bodies[name]``."""
    package = dest / project
    shutil.copytree(TEMPLATE / project, package, ignore=shutil.ignore_patterns("__pycache__"))
    used = set()
    for path in package.glob("*.py"):
        def fill(m):
            indent, name = m.group(1), m.group(2)
            if name not in bodies:
                raise KeyError(f"no placeholder body for the stub {name} in {path.name}")
            used.add(name)
            return textwrap.indent(textwrap.dedent(bodies[name]).strip() + "\n", indent)
        path.write_text(STUB.sub(fill, path.read_text()))
    unused = set(bodies) - used
    if unused:
        raise KeyError(f"placeholder bodies for stubs that {project} does not have: {sorted(unused)}")
    return package
