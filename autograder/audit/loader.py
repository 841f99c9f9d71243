"""Import a copy of a package folder under a private name, with some files' text replaced.

Nothing is written to disk: a finder on ``sys.meta_path`` serves the package's
modules from memory, compiled with their real paths as file names (so
``__file__`` and data files next to it still work, and tracebacks name the
right file). Each copy gets its own name (``diffgrade_mutant_7``), so copies
never share modules with each other or with the reference, which keeps its
plain name. Relative imports inside the package resolve to the copy; absolute
imports of other projects (``from p1_forward import ...``) get the reference.
"""

import importlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class _SourceFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finder and loader of the modules named in ``modules``: ``{name: (path, source, is_package)}``."""

    def __init__(self, modules: dict[str, tuple[Path, str, bool]]):
        self.modules = modules

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.modules:
            return None
        file, _, is_package = self.modules[fullname]
        spec = importlib.util.spec_from_loader(fullname, self, origin=str(file), is_package=is_package)
        spec.has_location = True
        if is_package:
            spec.submodule_search_locations = [str(file.parent)]
        return spec

    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module) -> None:
        file, source, _ = self.modules[module.__name__]
        module.__file__ = str(file)
        exec(compile(source, str(file), "exec", dont_inherit=True), module.__dict__)  # noqa: S102 - trusted copy


def package_modules(folder: Path, name: str,
                    overrides: dict[str, str] | None = None) -> dict[str, tuple[Path, str, bool]]:
    """``{module name: (path, source, is_package)}`` for every ``.py`` file of the package in ``folder``,
    named under ``name``; ``overrides`` maps paths relative to ``folder`` (``"forward.py"``) to new text."""
    folder = Path(folder).resolve()
    overrides = dict(overrides or {})
    modules = {}
    for path in sorted(folder.rglob("*.py")):
        rel = path.relative_to(folder)
        if "__pycache__" in rel.parts:
            continue
        parts = list(rel.with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        key = rel.as_posix()
        source = overrides.pop(key) if key in overrides else path.read_text()
        modules[".".join([name, *parts])] = (path, source, is_package)
    if overrides:
        raise ValueError(f"files not in the package {folder}: {sorted(overrides)}")
    if name not in modules:
        raise ValueError(f"{folder} has no __init__.py, so it is not a package")
    return modules


@contextmanager
def imported_package(folder: Path, name: str, overrides: dict[str, str] | None = None) -> Iterator[object]:
    """The package in ``folder`` imported as ``name`` (with ``overrides``), for the duration of the block.

    On leaving the block its modules leave ``sys.modules`` and its finder leaves ``sys.meta_path``.
    """
    if name in sys.modules:
        raise ValueError(f"a module named {name!r} is already imported")
    finder = _SourceFinder(package_modules(folder, name, overrides))
    sys.meta_path.insert(0, finder)
    try:
        yield importlib.import_module(name)
    finally:
        sys.meta_path.remove(finder)
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[key]
