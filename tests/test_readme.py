"""The README's quick start is what CI runs, and it works on an externally managed Python."""

import re

from tests.conftest import REPO


def quick_start() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = re.search(r"## Quick start\n.*?```bash\n(.*?)```", text, re.S)
    assert block, "README.md has no bash block under '## Quick start'"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_quick_start_is_two_commands_in_a_virtual_environment():
    """Two lines; each makes and activates .venv before pip, so PEP 668 cannot refuse them."""
    lines = quick_start()
    assert len(lines) == 2
    for line in lines:
        steps = [s.strip() for s in line.split("&&")]
        assert steps[:2] == ["python3 -m venv .venv", ". .venv/bin/activate"], line
        assert steps[2].startswith("python -m pip install -e ")
    assert lines[0].endswith("diffgrade demo")
    assert "pytest" in lines[1] and lines[1].endswith(" tests")


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert quick_start()[1] in ci, "the README's test command is not a line of .ci/run"


def test_the_venv_is_ignored_by_git():
    assert "/.venv/" in (REPO / ".gitignore").read_text().splitlines()
