"""A toy course with a quality test: the shared ``toy_course`` plus a test that records noisy metrics.

The "FID" depends on the ``seed`` fixture (through the inputs it draws), like a real
sample-quality test, and the test compares it with ``config.thresholds["fid_toy"]``.
``[thresholds]`` starts with comments, a first guess for ``fid_toy`` and a key no
test records, followed by another table, so a rewrite has things to keep.
"""

from pathlib import Path

from tests.conftest import TOY_TOML

QUALITY_TEST = '''
import torch

from autograder.testing import tags


@tags("quality")
def test_sample_quality(student, ref, check, config, metrics, seed):
    """Is the (simulated) FID of the samples at most its threshold?"""
    g = torch.Generator().manual_seed(1234 + seed)
    x = torch.rand(16, generator=g, dtype=torch.float64)
    samples = student.scale(x, 2.0)
    fid = metrics.record("fid_toy", 20.0 + 4.0 * float(samples.mean()))
    metrics.record("loss_toy", 0.1 * float(samples.std()))
    check.true(fid <= config.thresholds["fid_toy"], "fid_toy", f"FID {fid:.3f} is above the threshold")
'''

THRESHOLDS = '''# Sample quality: a quality test passes when the metric it records is at most this.
[thresholds]
# FID of 16 toy samples.
fid_toy = 21.0  # a first guess
unmeasured = 5  # no test records this

'''


def make_quality_course(root: Path) -> Path:
    """Add the quality test and the thresholds to the ``toy_course`` at ``root``; return ``root``."""
    adir = root / "assignments" / "p1_forward"
    (adir / "tests" / "hidden" / "test_quality.py").write_text(QUALITY_TEST)
    toml = TOY_TOML.replace("[points]", THRESHOLDS + "[points]") + "test_sample_quality = 1\n"
    (adir / "assignment.toml").write_text(toml)
    return root
