"""Writing [thresholds] into assignment.toml as text: the values change, nothing else does."""

import tomllib

import pytest

from autograder.calibrate.toml_thresholds import STAMP, ThresholdsError, set_thresholds, write_thresholds
from autograder.config import load
from tests.calibrate.toy import THRESHOLDS
from tests.conftest import TOY_TOML

STAMP_1 = f"{STAMP} on 2025-01-01: 10 seeds"
STAMP_2 = f"{STAMP} on 2025-02-01: 20 seeds"
TEXT = TOY_TOML.replace("[points]", THRESHOLDS + "[points]")


def test_existing_key_keeps_its_comment_and_new_key_follows_the_last():
    """Is an existing value replaced in place (comment kept), a new key added after the last one, and a stamp added?"""
    out = set_thresholds(TEXT, {"fid_toy": 23.5, "loss_toy": 0.0124}, stamp=STAMP_1)
    assert "fid_toy = 23.5  # a first guess\n" in out
    assert "unmeasured = 5  # no test records this\nloss_toy = 0.0124\n\n[points]" in out
    assert f"[thresholds]\n{STAMP_1}\n# FID of 16 toy samples.\n" in out
    before, after = tomllib.loads(TEXT), tomllib.loads(out)
    assert after.pop("thresholds") == {"fid_toy": 23.5, "unmeasured": 5, "loss_toy": 0.0124}
    before.pop("thresholds")
    assert before == after
    assert [line for line in TEXT.splitlines() if "fid_toy" not in line] == \
        [line for line in out.splitlines() if "fid_toy" not in line and "loss_toy" not in line and STAMP not in line]


def test_a_second_calibration_replaces_the_stamp():
    """Does calibrating again leave one stamp, the newest?"""
    out = set_thresholds(set_thresholds(TEXT, {"fid_toy": 23.5}, stamp=STAMP_1), {"fid_toy": 24.0}, stamp=STAMP_2)
    assert STAMP_1 not in out and out.count(STAMP) == 1 and "fid_toy = 24.0  # a first guess" in out


def test_missing_table_is_appended():
    """Without a [thresholds] table, is one added at the end?"""
    out = set_thresholds(TOY_TOML, {"fid_x": 3.0}, stamp=STAMP_1)
    assert out.startswith(TOY_TOML) and out.endswith(f"\n[thresholds]\n{STAMP_1}\nfid_x = 3.0\n")
    assert tomllib.loads(out)["thresholds"] == {"fid_x": 3.0}


@pytest.mark.parametrize("text", [
    "thresholds = { fid = 3.0 }\n",
    "[thresholds.fid]\nvalue = 3.0\n",
    "[thresholds]\nfid = 1.0\n[thresholds]\nfid = 2.0\n",
])
def test_unusual_layouts_are_refused(text):
    """Are thresholds written in a form this editor does not handle refused rather than mangled?"""
    with pytest.raises(ThresholdsError):
        set_thresholds(text, {"fid": 3.0}, stamp=STAMP_1)


def test_write_round_trip_through_config_load(tmp_path):
    """Does write_thresholds update the file so that autograder.config.load reads the new values?"""
    (tmp_path / "assignment.toml").write_text(TEXT)
    write_thresholds(tmp_path, {"fid_toy": 23.5, "loss_toy": 0.0124}, stamp=STAMP_1)
    cfg = load(tmp_path)
    assert cfg.thresholds == {"fid_toy": 23.5, "unmeasured": 5.0, "loss_toy": 0.0124}
    assert cfg.points == load_points(TEXT)


def load_points(text: str) -> dict[str, float]:
    return {k: float(v) for k, v in tomllib.loads(text)["points"].items()}
