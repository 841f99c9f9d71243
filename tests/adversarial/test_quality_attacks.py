"""Quality points need the student's work: forged samples and forged EMA models earn none.

Each attack is a hostile submission (``submissions/p3_borrowed_samples``,
``submissions/p2_forged_ema``: the perfect example with the attack patched into its
``__init__.py``, the mode chosen by ``attack.py``, the digits it ships in ``bank.py``)
graded by ``grade(...)`` in the sandbox on a copy of the real project whose hidden
tests are only its quality tests (the files themselves, unchanged: the real code
path, without the minutes the other tests would add). Every quality case must fail
by its own checks, for the reason the attack runs into.

P3 (``test_quality.py``): real digits pass the novelty check and the FID threshold
(the test split scores about 4), and training digits with noise of std 0.18 pass
novelty too; only the replay of randomly chosen rows with the reference sampler
catches them, and also a sampler that is honest but swaps a quarter of its rows for
real digits (missed with a chance of 0.75 ** 32, about 1e-4) or blends 2% of a
digit into every row (always caught).

P2 (``test_whole_pipeline.py``): an EMA model of another class, a state dict with
extra, missing or renamed keys, a wrong shape or dtype, NaN, or not a dict, fails
before any sampling; the right architecture holding weights that were not trained
from the initial weights the grader gave (the U-Net shipped with P3, alone or with
some of those initial weights mixed in) fails the correlation with those weights;
an honest but untrained copy fails the FID. Not detectable: weights trained
elsewhere from the same (published) initial weights on the same data, which only
training again could tell apart.

That the honest submissions keep these points is tested where the hidden tests are
(``tests/assignments``: ``test_full_suite_on_reference`` of P3, with the replay, and
``test_reference_passes_the_quality_test`` of P2, on the reference that the perfect
examples are); grading them here would cost minutes more.
"""

import shutil
from pathlib import Path

import pytest

from autograder.grading.grade import grade
from tests.conftest import REPO

from .conftest import overlay

pytestmark = pytest.mark.slow

# The quality tests of each project and what they need next to them.
QUALITY_FILES = {"p2_training": ("test_whole_pipeline.py",), "p3_sampling": ("test_quality.py", "_shared.py")}
P3_CASES = {"test_ddim_fid[20]", "test_ddim_fid[50]", "test_ddim_fid[100]", "test_ddpm_fid"}
REPLAY = "against the reference sampler"  # the replay check's failure, in P3's feedback


def quality_course(root: Path, project: str) -> Path:
    """A course at ``root`` with the real ``project`` (limits, points, thresholds, assets) whose
    hidden tests are only its quality tests, and the real references."""
    adir = root / "assignments" / project
    shutil.copytree(REPO / "assignments" / project, adir, ignore=shutil.ignore_patterns("__pycache__"))
    hidden = adir / "tests" / "hidden"
    for path in hidden.iterdir():
        if path.name not in QUALITY_FILES[project]:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    shutil.copytree(REPO / "solutions", root / "solutions", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _as_module(tensors: dict) -> str:
    """A ``.py`` file holding ``tensors`` as a base64 safetensors string ``DATA`` (only ``.py`` is staged)."""
    import base64

    from safetensors.torch import save

    return f'DATA = "{base64.b64encode(save(tensors)).decode()}"\n'


def hostile_copy(dest: Path, name: str, package: str, mode: str, *, shipped: bool = False) -> Path:
    """A copy of ``submissions/<name>`` set to ``mode``, with the digits it ships (and P3's U-Net)."""
    import torch
    from safetensors.torch import load_file

    from autograder.data import load_digits

    overlay(name, package, dest)
    folder = dest / package
    (folder / "attack.py").write_text(f"MODE = {mode!r}\n")
    bank = {split: load_digits(split)[0].to(torch.float32).contiguous() for split in ("train", "test")}
    (folder / "bank.py").write_text(_as_module(bank))
    if shipped:
        weights = load_file(str(REPO / "assignments" / "p3_sampling" / "assets" / "unet_digits.safetensors"))
        (folder / "shipped.py").write_text(_as_module(weights))
    return dest


def grade_quality(course: Path, project: str, submission: Path, out: Path) -> dict:
    """``{case name: TestScore}`` of the quality tests, graded in the sandbox on the CPU."""
    result = grade(project=project, submission=submission, out_dir=out, root=course, device="cpu")
    return {row.name: row for row in result.tests}


def assert_no_quality_points(rows: dict, reasons: dict[str, str]) -> None:
    """Every case scored 0, failing its own checks, with ``reasons[case]`` in its feedback."""
    for name, row in rows.items():
        assert row.score == 0 and not row.passed and row.own_checks_passed in (None, False), (name, row.output)
    for name, reason in reasons.items():
        assert reason in rows[name].output, (name, rows[name].output[:1500])


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The grader's side (FID, replays) on one thread: two busy-wait each other on a shared machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def p3_course(tmp_path_factory) -> Path:
    return quality_course(tmp_path_factory.mktemp("p3_quality_course"), "p3_sampling")


@pytest.fixture(scope="module")
def p2_course(tmp_path_factory) -> Path:
    return quality_course(tmp_path_factory.mktemp("p2_quality_course"), "p2_training")


# Which cases each P3 attack gets past novelty and FID with, so that the replay must catch them.
P3_ATTACKS = {
    "test_digits": P3_CASES,
    "noisy_train_digits": P3_CASES - {"test_ddpm_fid"},  # 256 of them are near the FID threshold
    "swap_quarter": P3_CASES - {"test_ddpm_fid"},  # a blank DDPM batch: test_digits covers DDPM
    "blend": P3_CASES - {"test_ddpm_fid"},
}


@pytest.mark.parametrize("mode", list(P3_ATTACKS))
def test_p3_borrowed_samples_earn_no_quality_points(p3_course, tmp_path, mode):
    """Do samplers that return real digits for large batches, or mix them into honest samples, score 0?"""
    submission = hostile_copy(tmp_path / "submission", "p3_borrowed_samples", "p3_sampling", mode)
    rows = grade_quality(p3_course, "p3_sampling", submission, tmp_path / "out")
    assert set(rows) == P3_CASES
    assert_no_quality_points(rows, {name: REPLAY for name in P3_ATTACKS[mode]})


P2_ATTACKS = {  # mode: what the feedback must say
    "digit_bank": "TrainResult.ema_model is not a UNet",
    "not_a_module": "TrainResult.ema_model is not a UNet",
    "bank_in_unet": "extra: bank",
    "renamed_keys": "extra: module.",
    "missing_key": "missing: out.2.bias",
    "wrong_shape": "['conv_in.weight'] has the wrong shape or dtype",
    "int_weights": "torch.int64",
    "float64_weights": "torch.float64",
    "nan_weights": "['conv_in.weight'] has NaN or infinite values",
    "state_dict_not_a_dict": "is not a dict of tensors",
    "shipped_weights": "not a training of the initial weights",
    "shipped_plus_initial": "not a training of the initial weights",
    "untrained": "is above the threshold",
}


@pytest.mark.parametrize("mode", list(P2_ATTACKS))
def test_p2_forged_ema_earns_no_quality_points(p2_course, tmp_path, mode):
    """Does a train() whose EMA model is not the student's trained UNet score 0, saying what was expected?"""
    submission = hostile_copy(tmp_path / "submission", "p2_forged_ema", "p2_training", mode,
                              shipped=mode.startswith("shipped"))
    rows = grade_quality(p2_course, "p2_training", submission, tmp_path / "out")
    assert set(rows) == {"test_sample_quality_fid"}
    assert_no_quality_points(rows, {"test_sample_quality_fid": P2_ATTACKS[mode]})
    output = rows["test_sample_quality_fid"].output
    assert "Traceback" not in output and "the grader could not check" not in output, output
