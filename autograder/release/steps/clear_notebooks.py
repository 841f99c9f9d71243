"""Step: every ``assignments/<project>/*.ipynb``, solutions stubbed and outputs removed."""

from autograder.release.context import ProjectRelease
from autograder.release.notebooks import clear_notebook, notebook_text, read_notebook


def clear_notebooks(release: ProjectRelease) -> None:
    for path in sorted(release.assignment.glob("*.ipynb")):
        label = release.label(path)
        cleared = clear_notebook(read_notebook(path, label=label), label=label)
        release.write(release.bundle / path.name, notebook_text(cleared))
