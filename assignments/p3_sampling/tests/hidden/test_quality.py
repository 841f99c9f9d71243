"""Hidden sample-quality tests: FID of the student's samplers on the shipped U-Net.

Each test draws samples with the student's sampler from the shipped
checkpoint, clips them to ``[-1, 1]`` and computes their FID against the
digits train split with ``autograder.metrics.fid``. It records the FID as the
metric named like its threshold (``fid_ddim_20``, ..., ``fid_ddpm``) and adds
the ``seed`` fixture to its own seed, so ``diffgrade calibrate p3`` can set the
thresholds from the reference's spread. They hold for exactly these sample
counts (FID is biased upward for small sets): change a count, calibrate again.

Returning copies of training images would give a low FID, so each test also
checks that the samples are new (``autograder.metrics.novelty``): their mean
distance to the nearest training image must be of the size the reference's
samples have, and almost none may be a copy.

Returning other real digits (the test split, a little perturbed, or mixed into
part of the batch) would pass both, so the samples are also tied to the model and
the sampler: after the call, the grader picks ``REPLAY`` (32) of the returned
samples at random (from fresh entropy, so no submission can know which) and
recomputes them with the reference sampler and its own copy of the U-Net, from a
copy of the generator's state before the call. With the documented order of draws
this is exact for any subset: the replay draws the same full-batch tensors (the
start ``randn(shape)``, then DDPM's per-step ``randn(shape)``) and evaluates the
network only on the chosen rows; the other rows cost only the elementwise updates
(``REPLAY``, ``RowSubset``, ``replay_rows`` and ``generator_copy`` are in
``autograder.evidence``). The replayed samples must agree with the returned ones
within ``REPLAY_TOLERANCE``, that of the trajectory test on the shipped U-Net
(``test_ddim_sample_on_shipped_unet``), which admits the float32 rounding of an
independent correct sampler (the one in ``tests/assignments/p3_sampling_support/alt``
differs by at most 3e-6 for DDIM, 1e-4 for DDPM; on the CPU the subset's rows equal
the full batch's bit for bit). On a GPU every row is replayed: cheap there, and the
network sees the shapes of the student's call. A sampler that swaps a share ``f`` of
its batch for real images escapes with a chance ``(1 - f) ** REPLAY`` on the CPU
(below 1e-4 for ``f = 1/4``); one that blends real images into every sample is
always caught. The replay comes after the FID check, so a broken sampler fails fast.
These tests are tagged ``quality``: ``diffgrade grade --quick`` leaves them out.
"""

from pathlib import Path

import torch

from autograder.evidence import RowSubset, generator_copy, replay_rows
from autograder.grading.runner import load_module
from autograder.metrics.novelty import novelty
from autograder.testing import cases, tags

shared = load_module(Path(__file__).with_name("_shared.py"), prefix="p3_hidden")

DDIM_SAMPLES = 1000
DDPM_SAMPLES = 256  # 1000 network evaluations each: the slowest test of the project
SEEDS = {"ddim": 2024, "ddpm": 2025}
REPLAY_TOLERANCE = {"atol": 1e-3, "rtol": 1e-3}  # as test_ddim_sample_on_shipped_unet


def _train_images() -> torch.Tensor:
    from autograder.data import load_digits

    return load_digits("train")[0]  # (1500, 1, 8, 8) in [-1, 1]


def save_grid(samples: torch.Tensor, path: Path, title: str) -> None:
    """The first 64 samples ``(N, 1, 8, 8)`` as an 8x8 grid of digits, clipped to [-1, 1]."""
    from matplotlib.figure import Figure  # no pyplot: no global backend state

    x = samples[:64].clamp(-1, 1).nan_to_num(0.0)  # (n, 1, 8, 8)
    canvas = torch.zeros(8 * 9 + 1, 8 * 9 + 1)  # grey lines between the digits
    for i in range(len(x)):
        r, c = divmod(i, 8)
        canvas[1 + 9 * r: 9 + 9 * r, 1 + 9 * c: 9 + 9 * c] = x[i, 0]
    fig = Figure(figsize=(4, 4.3))
    ax = fig.subplots()
    ax.imshow(canvas.numpy(), cmap="gray_r", vmin=-1, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def check_samples(check, config, metrics, device, samples, shape, what: str, threshold_key: str, artifacts,
                  replay) -> None:
    """Shape, finite values, novelty, FID (recorded as ``threshold_key``) below its threshold, then
    the replay: ``replay(rows)`` gives the reference's samples ``(k, C, H, W)`` for the rows ``rows``.

    With ``artifacts``, a grid of the samples goes into the report as ``p3_<threshold_key>.png``."""
    from autograder.metrics import fid

    check.shape(samples, shape, what, hint="return x_0 with the shape given")
    samples = samples.detach().to("cpu", torch.float32)
    if artifacts is not None:
        save_grid(samples, Path(artifacts) / f"p3_{threshold_key}.png",
                  f"{threshold_key}: the first 64 of {len(samples)} samples")
    bad = int((~torch.isfinite(samples)).sum())
    check.true(bad == 0, what, f"{bad} value(s) are NaN or infinite",
               hint="look for a division by sqrt(alpha_bar) of 0 or a negative value under a square root")
    train = _train_images()
    new = novelty(samples, train)
    min_distance = config.thresholds["min_nearest_train_distance"]
    check.true(new.is_new(min_distance), what, new.describe(min_distance),
               hint="sample from the model: start from noise and run the reverse process")
    score = metrics.record(threshold_key, fid(samples.clamp(-1, 1), train))
    limit = config.thresholds[threshold_key]
    check.true(score <= limit, what, f"FID {score:.2f} against the train split is above the threshold {limit:.2f} "
               f"(the reference: see the handout; your samples: p3_{threshold_key}.png)",
               hint="the trajectory tests say where your sampler goes wrong; a sampler that passes them passes "
                    "this test")
    rows = replay_rows(len(samples), device)
    which = "every row" if len(rows) == len(samples) else f"rows {rows.tolist()} (picked after the call)"
    check.close(samples[rows], replay(rows),
                f"{what}: {which} against the reference sampler run from the generator's state before your "
                f"call, on the same U-Net",
                **REPLAY_TOLERANCE, check_dtype=False, check_device=False,
                hint="samples count for FID only if they are what the model and the generator give: return the "
                     "sampler's x_0 for every row, unchanged, with the documented order of draws")


@tags("quality")
@cases(num_steps=[20, 50, 100])
def test_ddim_fid(student, ref, provided, check, config, metrics, seed, device, artifacts, num_steps):
    """Do DDIM samples (eta = 0) from the shipped U-Net reach the calibrated FID at 20, 50 and 100 steps,
    and are they what the reference sampler gives on the rows it replays?"""
    _, alpha_bar = shared.linear_schedule()
    model = shared.unet_in_sandbox(provided, device)
    shape = (DDIM_SAMPLES, *shared.IMAGE_SHAPE)
    generator = shared.generator(SEEDS["ddim"] + seed)
    before = generator_copy(generator)
    samples = student.ddim_sample(model, shape, alpha_bar, num_steps, 0.0, generator)

    def replay(rows: torch.Tensor) -> torch.Tensor:
        local = RowSubset(shared.local_unet(device), rows)
        return ref.ddim_sample(local, shape, alpha_bar, num_steps, 0.0, generator_copy(before))[rows]

    check_samples(check, config, metrics, device, samples, shape,
                  f"{DDIM_SAMPLES} samples of ddim_sample(unet, shape, alpha_bar, {num_steps}, eta=0.0, generator)",
                  f"fid_ddim_{num_steps}", artifacts, replay)


@tags("quality")
def test_ddpm_fid(student, ref, provided, check, config, metrics, seed, device, artifacts):
    """Do DDPM samples (1000 steps) from the shipped U-Net reach the calibrated FID, and are they what the
    reference sampler gives on the rows it replays?"""
    betas, _ = shared.linear_schedule()
    model = shared.unet_in_sandbox(provided, device)
    shape = (DDPM_SAMPLES, *shared.IMAGE_SHAPE)
    generator = shared.generator(SEEDS["ddpm"] + seed)
    before = generator_copy(generator)
    samples = student.ddpm_sample(model, shape, betas, generator)

    def replay(rows: torch.Tensor) -> torch.Tensor:
        local = RowSubset(shared.local_unet(device), rows)
        return ref.ddpm_sample(local, shape, betas, generator_copy(before))[rows]

    check_samples(check, config, metrics, device, samples, shape,
                  f"{DDPM_SAMPLES} samples of ddpm_sample(unet, shape, betas, generator), T = 1000",
                  "fid_ddpm", artifacts, replay)
