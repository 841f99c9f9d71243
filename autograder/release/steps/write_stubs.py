"""Step: the stubs, into ``student_template/<project>/`` and the bundle's ``<package>/``.

Every file of ``solutions/<project>/`` is copied; ``.py`` files get their
solution regions replaced by ``raise NotImplementedError("complete ...")`` and
notebooks are cleared. Both destinations receive the same bytes.
"""

from autograder.release.context import ProjectRelease
from autograder.release.files import read_source, walk
from autograder.release.markers import Location
from autograder.release.notebooks import clear_notebook, notebook_text, read_notebook
from autograder.release.stubs import stub_python


def write_stubs(release: ProjectRelease) -> None:
    for path in walk(release.solutions):
        rel = path.relative_to(release.solutions)
        label = release.label(path)
        if path.suffix == ".py":
            module = f"{release.config.package}/{rel.as_posix()}"
            data = stub_python(read_source(path, label=label), location=Location(label), module=module)
        elif path.suffix == ".ipynb":
            data = notebook_text(clear_notebook(read_notebook(path, label=label), label=label))
        else:
            data = path.read_bytes()
        release.write(release.template / rel, data)
        release.write(release.package / rel, data)
