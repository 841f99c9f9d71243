"""Student ids from entry names and from a roster CSV."""

from datetime import datetime, timezone

import pytest

from autograder.batch.errors import RosterError
from autograder.batch.roster import discover, read_roster, student_id_from_name


@pytest.mark.parametrize("name, expected", [
    ("alice.zip", "alice"),
    ("alice_submission.zip", "alice"),
    ("bob-p1-submission.zip", "bob"),
    ("bob-p1-submission", "bob"),
    ("carol_p1_forward_submission.zip", "carol"),
    ("dave-submission", "dave"),
    ("Erin Smith.zip", "Erin_Smith"),
    ("j.doe.zip", "j.doe"),
    ("s1234567", "s1234567"),
    ("frank.tar.gz", "frank"),
    ("submission.zip", "submission"),
])
def test_ids_from_entry_names(name, expected):
    """Are archive extensions and LMS suffixes stripped, and unsafe characters replaced?"""
    assert student_id_from_name(name) == expected


def make_entries(folder, *names):
    folder.mkdir(exist_ok=True)
    for name in names:
        if name.endswith(".zip"):
            (folder / name).write_bytes(b"PK")
        else:
            (folder / name).mkdir()
    return folder


def test_discover_without_roster(tmp_path):
    """Does every entry become one student, sorted by id, with hidden files and clutter skipped?"""
    subs = make_entries(tmp_path / "subs", "zoe_submission.zip", "adam-p1-submission", "__MACOSX", ".DS_Store")
    found = discover(subs)
    assert [(e.student_id, e.path.name) for e in found.entries] == [
        ("adam", "adam-p1-submission"), ("zoe", "zoe_submission.zip")]
    assert found.unmatched == ()


def test_two_entries_with_one_id_is_an_error(tmp_path):
    """Do two entries that give the same id stop the batch, naming both?"""
    subs = make_entries(tmp_path / "subs", "amy.zip", "amy_submission.zip")
    with pytest.raises(RosterError, match=r"amy: amy.zip, amy_submission.zip"):
        discover(subs)


def test_roster_with_file_column(tmp_path):
    """Does the roster map files to ids, list students without a file as missing, and report strays?"""
    subs = make_entries(tmp_path / "subs", "x1.zip", "x2", "stray.zip")
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,file,submitted_at\n"
                      "s1,Ann,x1.zip,2025-03-01T10:00:00Z\n"
                      "s2,Ben,x2,\n"
                      "s3,Cy,,\n")
    found = discover(subs, roster)
    by_id = {e.student_id: e for e in found.entries}
    assert by_id["s1"].path.name == "x1.zip" and by_id["s1"].name == "Ann"
    assert by_id["s1"].submitted_at == datetime(2025, 3, 1, 10, tzinfo=timezone.utc)
    assert by_id["s2"].path.name == "x2" and by_id["s2"].submitted_at is None
    assert by_id["s3"].path is None
    assert found.unmatched == ("stray.zip",)


def test_roster_without_file_column_matches_derived_ids(tmp_path):
    """Without a file column, are entries matched by the id their name gives?"""
    subs = make_entries(tmp_path / "subs", "ann_submission.zip", "ben.zip")
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id\nann\ncarl\n")
    found = discover(subs, roster)
    assert [(e.student_id, e.path.name if e.path else None) for e in found.entries] == [
        ("ann", "ann_submission.zip"), ("carl", None)]
    assert found.unmatched == ("ben.zip",)


@pytest.mark.parametrize("text, message", [
    ("name,file\nAnn,a.zip\n", r"row 1: the header must have a student_id column"),
    ("student_id,file,grade\na,a.zip,3\n", r"row 1: unknown or repeated columns \['grade'\]"),
    ("student_id,file\na,a.zip\nb,b.zip,extra\n", r"row 3: 3 fields, but the header has 2"),
    ("student_id,file\na,a.zip\na,b.zip\n", r"row 3: student_id 'a' already appears in row 2"),
    ("student_id,file\na,a.zip\nb,a.zip\n", r"row 3: file 'a.zip' already belongs to row 2"),
    ("student_id,file\nhas space,a.zip\n", r"row 2: student_id 'has space' must be"),
    ("student_id,file\na,../a.zip\n", r"row 2: file '../a.zip' must be the name of an entry"),
    ("student_id,file,submitted_at\na,a.zip,yesterday\n", r"row 2: submitted_at 'yesterday' is not an ISO 8601"),
    ("student_id,file\n", r"a header but no students"),
])
def test_malformed_roster_names_the_row(tmp_path, text, message):
    """Does each kind of malformed roster raise a RosterError naming the file and row?"""
    roster = tmp_path / "roster.csv"
    roster.write_text(text)
    with pytest.raises(RosterError, match=message) as info:
        read_roster(roster)
    assert str(roster) in str(info.value)


def test_missing_roster_and_missing_folder(tmp_path):
    """Are a roster or submissions folder that do not exist reported clearly?"""
    with pytest.raises(RosterError, match="not a folder of submissions"):
        discover(tmp_path / "nope")
    make_entries(tmp_path / "subs", "a.zip")
    with pytest.raises(RosterError, match="roster not found"):
        discover(tmp_path / "subs", tmp_path / "roster.csv")
