"""Reading the equivalent-mutant declarations of ``audit.toml``."""

import pytest

from autograder.audit.equivalents import load_equivalents
from autograder.audit.errors import AuditError
from tests.audit.test_mutants import REPO


def test_no_file_means_no_equivalents(tmp_path):
    """Is a missing audit.toml the same as declaring nothing?"""
    assert load_equivalents(tmp_path) == {}


def test_declarations_are_read(tmp_path):
    """Are ids and reasons read in order?"""
    (tmp_path / "audit.toml").write_text('# why\n[[equivalent]]\nid = "a.py:1:1:x"\nreason = " same "\n\n'
                                         '[[equivalent]]\nid = "a.py:2:1:y"\nreason = "also"\n')
    assert load_equivalents(tmp_path) == {"a.py:1:1:x": "same", "a.py:2:1:y": "also"}


@pytest.mark.parametrize("text, message", [
    ('[[equivalent]]\nid = "a.py:1:1:x"\n', "'reason' must say why"),
    ('[[equivalent]]\nreason = "r"\n', "'id' must be a mutant id"),
    ('[[equivalent]]\nid = "a"\nreason = "r"\n[[equivalent]]\nid = "a"\nreason = "r"\n', "declared twice"),
    ('[[equivalent]]\nid = "a"\nreason = "r"\nwhy = 1\n', "unknown keys"),
    ('[other]\nx = 1\n', "unknown tables"),
    ('[[equivalent]\n', "audit.toml"),
])
def test_malformed_declarations_are_errors(tmp_path, text, message):
    """Does each malformed declaration raise an AuditError that names the problem?"""
    (tmp_path / "audit.toml").write_text(text)
    with pytest.raises(AuditError, match=message):
        load_equivalents(tmp_path)


def test_p1_declarations_are_well_formed():
    """Does P1's audit.toml parse, with a reason for every declared mutant?"""
    declared = load_equivalents(REPO / "assignments" / "p1_forward")
    assert declared and all(len(reason) > 20 for reason in declared.values())
