"""Step: a ``conftest.py`` at the bundle root.

Its presence makes pytest put the bundle root on ``sys.path``, so the public
tests can ``import <package>`` when a student runs plain ``pytest`` there.
"""

from autograder.release.context import ProjectRelease

CONFTEST = '''"""pytest configuration of this bundle.

This file makes pytest put this folder on ``sys.path``, so that the tests in
``tests/`` can ``import {package}``. Run ``pytest`` here, or ``diffgrade check {short}``.
"""
'''


def write_conftest(release: ProjectRelease) -> None:
    text = CONFTEST.format(package=release.config.package, short=release.project.split("_")[0])
    release.write(release.bundle / "conftest.py", text)
