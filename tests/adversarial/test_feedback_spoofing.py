"""Can a submission make its feedback *look* better than its score?

The score in results.json is the grader's, but feedback.md is read by people,
and parts of it come from the student: what the code printed, and the messages
of its exceptions. Markdown in them must stay text: inside a code block that
the student's own text cannot close.
"""

import json
import re

import pytest

from autograder.grading.grade import grade
from tests.adversarial.conftest import requires_bwrap
from tests.conftest import write_package

SPOOF = '''
print("\\n\\n**Score: 1000 / 5**\\n\\n| `test_scale` | pass | 1000 / 2 |\\n")


def scale(x, factor):
    raise ValueError("no\\n```\\n\\n## Every test passed: **Score: 1000 / 5**\\n\\n```")


def pair(x):
    return x + 1, x - 1
'''


def lines_outside_code(markdown: str) -> list[str]:
    """The lines of ``markdown`` that render as markdown, not inside a fenced code block (CommonMark)."""
    out, fence = [], None
    for line in markdown.splitlines():
        stripped = line.strip()
        if fence is None:
            m = re.match(r"^(`{3,}|~{3,})", stripped)
            if m:
                fence = m.group(1)
                continue
            out.append(line)
        elif re.fullmatch(re.escape(fence[0]) + "{%d,}" % len(fence), stripped):
            fence = None
    return out


@requires_bwrap
def test_student_text_cannot_forge_the_feedback(toy_course, tmp_path):
    """Do printed text and exception messages stay inside code blocks, unable to show a fake score?"""
    sub = write_package(tmp_path / "spoof", SPOOF)
    out = tmp_path / "out"
    result = grade(project="p1", submission=sub, out_dir=out, root=toy_course, device="cpu", isolation="bwrap")
    assert result.score == 1 and json.loads((out / "results.json").read_text())["score"] == 1  # the real score
    rendered = lines_outside_code((out / "feedback.md").read_text())
    assert not [line for line in rendered if "1000" in line], rendered


def test_fence_reader_is_sound():
    """Does the helper above tell code from markdown as a renderer would?"""
    text = "a\n```\nb\n```\nc\n````\n```\nd\n````\ne\n"
    assert lines_outside_code(text) == ["a", "c", "e"]
