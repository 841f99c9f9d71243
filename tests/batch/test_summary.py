"""The batch summary: statistics, histogram, pass rates hardest first."""

import json

from autograder.batch.gradebook import Column, Record
from autograder.batch.summary import histogram, render_markdown, summarize, write_summary

COLUMNS = [Column("test_easy", "test_easy", 1.0), Column("test_hard", "test_hard", 1.0),
           Column("test_mid", "test_mid", 1.0)]


def records():
    def graded(sid, passed, late=False):
        points = {c.name: (1.0 if c.name in passed else 0.0) for c in COLUMNS}
        return Record(sid, "graded", sum(points.values()), 3.0, late, "", points, frozenset(passed))

    return [graded("a", {"test_easy", "test_mid", "test_hard"}), graded("b", {"test_easy", "test_mid"}, late=True),
            graded("c", {"test_easy"}), graded("d", set()),
            Record("e", "error", 0.0, 3.0, False, "killed"), Record("f", "missing", 0.0, 3.0, None, "no submission")]


def test_tests_most_failed_first():
    """Are tests sorted by pass rate, lowest first, counting graded students only?"""
    s = summarize(records(), COLUMNS, project="p1_forward", title="Toy")
    assert [(t.name, t.passed, t.graded) for t in s.tests] == [
        ("test_hard", 1, 4), ("test_mid", 2, 4), ("test_easy", 3, 4)]
    assert (s.students, s.graded, s.errors, s.missing, s.late) == (6, 4, 1, 1, 1)
    assert (s.mean, s.median, s.minimum, s.maximum) == (1.5, 1.5, 0.0, 3.0)


def test_histogram_bins():
    """Do scores fall in ten bins of 10 %, with 100 % in the last one?"""
    h = histogram([0.0, 9.99, 10.0, 55.0, 100.0])
    assert [c for _, _, c in h] == [2, 1, 0, 0, 0, 1, 0, 0, 0, 1]
    assert h[0][:2] == (0, 10) and h[-1][:2] == (90, 100)


def test_markdown_and_json(tmp_path):
    """Do summary.md and summary.json say the same things a TA needs?"""
    s = summarize(records(), COLUMNS, project="p1_forward", title="Toy", unmatched=("stray.zip",))
    md_path, json_path = write_summary(tmp_path, s)
    md = md_path.read_text()
    assert md == render_markdown(s)
    assert "students: 6 (graded 4, grading failed 1, missing 1)" in md
    assert "not in the roster, not graded: stray.zip" in md
    assert md.index("`test_hard`") < md.index("`test_mid`") < md.index("`test_easy`")
    assert "| `test_hard` | 1 / 4 | 25% | 1 |" in md
    assert "[  0%,  10%)    1 " in md and "[ 90%, 100%]    1 " in md
    assert "- `e`: killed" in md
    data = json.loads(json_path.read_text())
    assert data["tests"][0] == {"name": "test_hard", "passed": 1, "graded": 4, "rate": 0.25, "max_score": 1.0}
    assert data["unmatched"] == ["stray.zip"] and data["histogram"][0] == [0, 10, 1]
