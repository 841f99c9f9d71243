"""Step: what a later project builds on, into its bundle.

* the reference packages of the earlier projects it ``requires`` (from
  ``assignment.toml``), with the solution markers removed: by the time a later
  project is released the earlier one is graded, and a mistake there should
  cost points once, in its own project (the grader provides the same code);
* the files of ``assignments/<project>/assets/`` (e.g. a trained checkpoint)
  into the bundle's ``assets/``.

The leak check knows that these reference packages are released on purpose.
"""

from autograder import course
from autograder.release.context import ProjectRelease
from autograder.release.files import read_source, walk
from autograder.release.markers import BEGIN, END, find_regions, Location


def unmarked(text: str, *, label: str) -> str:
    """``text`` without its marker lines; the markers are validated first."""
    lines = text.splitlines(keepends=True)
    find_regions(lines, location=Location(label))
    return "".join(line for line in lines if line.strip() not in (BEGIN, END))


def copy_provided(release: ProjectRelease) -> None:
    for name in release.config.requires:
        package = course.project_name(name)
        source = release.root / "solutions" / package
        for path in walk(source):
            rel = path.relative_to(source)
            data = unmarked(read_source(path, label=release.label(path)), label=release.label(path)) \
                if path.suffix == ".py" else path.read_bytes()
            release.write(release.bundle / package / rel, data)
    assets = release.assignment / "assets"
    if assets.is_dir():
        for path in walk(assets):
            release.write(release.bundle / "assets" / path.relative_to(assets), path.read_bytes())
