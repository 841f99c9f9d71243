"""The audit's worker pool: what its workers leave behind."""

from autograder.audit.pool import Request, WorkerPool

WRITES_A_TEMP_FILE = '''
import os
import tempfile


def test_writes_a_checkpoint(student, ref, check):
    """Writes a file where hidden tests keep checkpoints, as P2's do."""
    fd, path = tempfile.mkstemp(suffix=".safetensors")
    os.write(fd, b"weights")
    os.close(fd)
    check.true(True, "the file", "")
'''


def test_temporary_files_go_with_the_pool(toy_course):
    """Do files the hidden tests write to the temp folder land in the pool's folder, removed on close?"""
    (toy_course / "assignments" / "p1_forward" / "tests" / "hidden" / "test_tmp.py").write_text(WRITES_A_TEMP_FILE)
    with WorkerPool(project="p1", root=toy_course) as pool:
        replies = pool.run([Request("reference")], timeout=60)
        assert replies["reference"].status == "ran" and replies["reference"].failed == ()
        written = list(pool.tmp.glob("*.safetensors"))
        assert len(written) == 1 and written[0].read_bytes() == b"weights"
    assert not pool.tmp.exists()
