"""Hostile archives and pickles: can what a submission *is* (rather than what it runs) hurt the grader?

A zip may hold ``../`` and absolute paths, symbolic links, members that inflate
to gigabytes, sizes and checksums that lie, names no file system accepts, and
a pickle dressed as a checkpoint. Staging must copy only the package's Python
files into its own folder, skip everything else with a reason, and never crash;
nothing the student sends may ever be unpickled.
"""

import json
import os
import pickle
import stat
import struct
import time
import zipfile

import pytest
import torch

from autograder.sandbox.runtime import codec
from autograder.submission import MAX_FILE_BYTES, SubmissionError, stage
from tests.adversarial.conftest import PERFECT, hostile, requires_bwrap

REQUIRED = ("p1_forward/__init__.py", "p1_forward/forward.py", "p1_forward/schedules.py")


class Payload:
    """Unpickling this makes the folder ``marker``: proof that student bytes were unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def _patch_sizes(data: bytearray, name: bytes, size: int) -> None:
    """Make the central directory and the local header of ``name`` claim ``size`` uncompressed bytes."""
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46:at + 46 + name_len]) == name:
            struct.pack_into("<I", data, at + 24, size)
            local = struct.unpack_from("<I", data, at + 42)[0]
            struct.pack_into("<I", data, local + 22, size)
        at = data.find(b"PK\x01\x02", at + 4)


def hostile_zip(path, tmp_path, marker) -> dict:
    """A zip of the perfect package plus every trick; returns where escapes would land."""
    escapes = {"dotdot": tmp_path / "escaped_dotdot.py", "absolute": tmp_path / "escaped_absolute.py"}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted((PERFECT / "p1_forward").glob("*.py")):
            zf.write(f, f"p1_forward/{f.name}")
        # Relative to the staging folder and the grader's scratch: deep enough to reach tmp_path.
        zf.writestr("../" * 12 + str(escapes["dotdot"]).lstrip("/"), b"ESCAPED = True\n")
        zf.writestr(str(escapes["absolute"]), b"ESCAPED = True\n")
        zf.writestr("p1_forward/../../escaped_dotdot.py", b"ESCAPED = True\n")
        for name, target in (("p1_forward/hidden_tests.py", "/work/main/assignments/p1_forward/tests/hidden"),
                             ("p1_forward/solution.py", "../../../solutions/p1_forward/forward.py")):
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
        zf.writestr("p1_forward/bomb.py", b"#" * (64 << 20))  # 64 MiB of one byte: a ~64 KiB member
        zf.writestr("p1_forward/liar.py", b"#" * (4 << 20))  # sizes patched below to claim 100 bytes
        zf.writestr("p1_forward/corrupt.py", b"CORRUPT = 'checksum'\n", compress_type=zipfile.ZIP_STORED)
        zf.writestr("p1_forward/" + "n" * 300 + ".py", b"LONG = True\n")
        zf.writestr("p1_forward/clash.py", b"CLASH = 1\n")
        zf.writestr("p1_forward/clash.py/inner.py", b"CLASH = 2\n")
        zf.writestr("p1_forward/\n## Score: 100 / 100\n.py", b"INJECTED = True\n")
        zf.writestr("p1_forward/checkpoint.pt", pickle.dumps(Payload(marker)))
        zf.writestr("p1_forward/weights.pkl", pickle.dumps(Payload(marker)))
    data = bytearray(path.read_bytes())
    _patch_sizes(data, b"p1_forward/liar.py", 100)
    data[data.find(b"CORRUPT = 'checksum'")] ^= 1  # stored as is: one flipped bit, a wrong CRC-32
    path.write_bytes(bytes(data))
    return escapes


def test_hostile_zip_is_staged_safely(tmp_path):
    """Is a zip with escapes, links, a bomb, lying sizes, a bad checksum and impossible names staged without harm?"""
    marker = tmp_path / "unpickled"
    z = tmp_path / "hostile.zip"
    escapes = hostile_zip(z, tmp_path, marker)
    start = time.monotonic()
    staged = stage(z, tmp_path / "a" / "b" / "c" / "stage", package="p1_forward", required=REQUIRED)
    assert time.monotonic() - start < 5
    assert set(REQUIRED) <= set(staged.files) and staged.missing == []
    stage_dir = (tmp_path / "a" / "b" / "c" / "stage").resolve()
    assert all((stage_dir / f).resolve().is_relative_to(stage_dir / "p1_forward") for f in staged.files)
    assert not any(p.exists() for p in escapes.values()) and not list(tmp_path.rglob("escaped_*.py"))
    assert not marker.exists()
    reasons = " | ".join(staged.skipped)
    for expected in ("leaves the submission", "symbolic link", "too large", "unreadable", "cannot be written"):
        assert expected in reasons, (expected, staged.skipped)
    assert all("\n" not in s for s in staged.skipped)  # a name cannot write lines into the report
    files = [p for p in (tmp_path / "a").rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < MAX_FILE_BYTES and all(p.suffix == ".py" for p in files)


@requires_bwrap
def test_hostile_zip_grades_like_its_python_files(tmp_path, monkeypatch, p1_course):
    """Graded, does the hostile zip score like the perfect package, without anything being unpickled?"""
    marker = tmp_path / "unpickled"
    z = tmp_path / "hostile.zip"
    hostile_zip(z, tmp_path, marker)
    calls = []

    def record(name):
        def refuse(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"the grader called {name} during grading")
        return refuse

    for module, name in ((pickle, "load"), (pickle, "loads"), (pickle, "Unpickler"), (torch, "load")):
        monkeypatch.setattr(module, name, record(f"{module.__name__}.{name}"))
    result = p1_course.grade(z, tmp_path / "out")
    assert calls == [] and not marker.exists()
    assert result.score == result.max_score
    feedback = (tmp_path / "out" / "feedback.md").read_text()
    assert "Ignored:" in feedback and "\n## Score: 100 / 100" not in feedback
    p1_course.assert_untouched()
    monkeypatch.undo()
    p1_course.assert_grades_normally(tmp_path / "after")


def test_pickle_next_to_a_folder_submission_is_not_staged(tmp_path):
    """Is a checkpoint pickle in a folder submission left out of the staged package (only .py is copied)?"""
    marker = tmp_path / "unpickled"
    sub = tmp_path / "sub"
    (sub / "p1_forward").mkdir(parents=True)
    for f in (hostile("pickle_checkpoint", tmp_path) / "p1_forward").glob("*.py"):
        (sub / "p1_forward" / f.name).write_bytes(f.read_bytes())
    for name in ("checkpoint.pt", "weights.pkl"):
        (sub / "p1_forward" / name).write_bytes(pickle.dumps(Payload(marker)))
    staged = stage(sub, tmp_path / "stage", package="p1_forward", required=REQUIRED)
    assert sorted(p.name for p in (tmp_path / "stage" / "p1_forward").iterdir()) == \
        ["__init__.py", "forward.py", "schedules.py"]
    assert staged.missing == [] and not marker.exists()


def test_zip_bombs_are_not_inflated(tmp_path):
    """Does a member that inflates to 256 MiB cost no time or memory, and too many honest members a clear refusal?"""
    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("p1_forward/__init__.py", b"")
        with zf.open("p1_forward/bomb.py", "w", force_zip64=True) as member:
            block = b"\0" * (64 << 20)
            for _ in range(4):
                member.write(block)
    assert z.stat().st_size < 1 << 20
    start = time.monotonic()
    staged = stage(z, tmp_path / "stage", package="p1_forward", required=("p1_forward/__init__.py",))
    assert time.monotonic() - start < 2 and any("too large" in s for s in staged.skipped)

    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("p1_forward/__init__.py", b"")
        for i in range(60):  # each member honest and allowed, together past the 50 MiB total
            zf.writestr(f"p1_forward/m{i}.py", os.urandom(1 << 20))  # incompressible: no ratio alarm
    with pytest.raises(SubmissionError, match="MiB of source files"):
        stage(many, tmp_path / "stage2", package="p1_forward", required=("p1_forward/__init__.py",))


def test_codec_refuses_pickles():
    """Does the wire format refuse pickle bytes, and any node or dtype that is not plain data?"""
    for payload in (pickle.dumps(Payload("/nonexistent")), pickle.dumps(torch.ones(2)),
                    pickle.dumps({"ok": True, "value": 1})):
        with pytest.raises(codec.CodecError):
            codec.decode_bytes(payload)
    def frame(value, buffers=()):
        header = json.dumps({"buffers": len(buffers), "value": value}).encode()
        return b"".join([struct.pack("<Q", len(header)), header,
                         *[struct.pack("<Q", len(b)) + b for b in buffers]])

    raw = pickle.dumps(Payload("/nonexistent"))
    for value in ({"pickle": 0}, {"object": "os.system"},
                  {"tensor": 0, "dtype": "object", "shape": [1], "device": "cpu"},
                  {"tensor": 0, "dtype": "float32", "shape": [len(raw)], "device": "cpu"}):
        with pytest.raises(codec.CodecError):
            codec.decode_bytes(frame(value, [raw]))
