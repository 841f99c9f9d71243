"""The gradebook CSV, from records."""

from autograder.batch.gradebook import Column, Record, missing_record, render_csv

COLUMNS = [Column("test_a", "test_a", 2.0), Column("test_b[1]", "test_b", 0.5), Column("test_b[2]", "test_b", 0.5)]


def test_rows_sorted_with_every_column():
    """Is there one row per student, sorted by id, with points, total, max, late, status and reason?"""
    records = [
        Record("zed", "graded", 2.5, 3.0, True, "", {"test_a": 2.0, "test_b[1]": 0.5, "test_b[2]": 0.0}),
        Record("amy", "error", 0.0, 3.0, False, "the grading process was killed by SIGKILL",
               {"test_a": 0.0, "test_b[1]": 0.0, "test_b[2]": 0.0}),
        missing_record("kim", 3.0),
    ]
    assert render_csv(records, COLUMNS) == (
        "student_id,test_a,test_b[1],test_b[2],total,max,late,status,reason\n"
        "amy,0,0,0,0,3,no,error,the grading process was killed by SIGKILL\n"
        "kim,,,,0,3,,missing,no submission\n"
        "zed,2,0.5,0,2.5,3,yes,graded,\n")


def test_numbers_print_cleanly():
    """Do float sums of shares print as short decimals, not 0.30000000000000004?"""
    r = Record("a", "graded", 0.1 + 0.2, 1.0, None, "", {"test_a": 1 / 3})
    row = render_csv([r], [Column("test_a", "test_a", 1.0)]).splitlines()[1]
    assert row == "a,0.333333,0.3,1,,graded,"
