"""Hidden sample-quality tests: FID of the student's samplers on the shipped U-Net.

Each test draws samples with the student's sampler from the shipped
checkpoint, clips them to ``[-1, 1]`` and computes their FID against the
digits train split with ``autograder.metrics.fid``. It records the FID as the
metric named like its threshold (``fid_ddim_20``, ..., ``fid_ddpm``) and adds
the ``seed`` fixture to its own seed, so ``diffgrade calibrate p3`` can set the
thresholds from the reference's spread. They hold for exactly these sample
counts (FID is biased upward for small sets): change a count, calibrate again.

Returning copies of training images would give a low FID, so each test also
checks that the samples are new: their mean distance to the nearest training
image must be of the size the reference's samples have, and almost none may be
a copy. (The trajectory tests already pin the samplers to the model.)
These tests are tagged ``quality``: ``diffgrade grade --quick`` leaves them out.
"""

from pathlib import Path

import torch

from autograder.grading.runner import load_module
from autograder.testing import cases, tags

shared = load_module(Path(__file__).with_name("_shared.py"), prefix="p3_hidden")

DDIM_SAMPLES = 1000
DDPM_SAMPLES = 256  # 1000 network evaluations each: the slowest test of the project
SEEDS = {"ddim": 2024, "ddpm": 2025}
COPY_DISTANCE = 1e-3  # an L2 distance below this to a training image counts as a copy
MAX_COPY_FRACTION = 0.01


def _train_images() -> torch.Tensor:
    from autograder.data import load_digits

    return load_digits("train")[0]  # (1500, 1, 8, 8) in [-1, 1]


def nearest_train_distances(samples: torch.Tensor, train: torch.Tensor) -> torch.Tensor:
    """L2 distance ``(N,)`` from each sample to its nearest training image (64 pixels each)."""
    return torch.cdist(samples.flatten(1).double(), train.flatten(1).double()).min(dim=1).values


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


def check_samples(check, config, metrics, samples, shape, what: str, threshold_key: str, artifacts) -> None:
    """Shape, finite values, novelty, then FID (recorded as ``threshold_key``) below its threshold.

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
    distances = nearest_train_distances(samples, train)
    copies = float((distances < COPY_DISTANCE).double().mean())
    mean_distance = float(distances.mean())
    min_distance = config.thresholds["min_nearest_train_distance"]
    check.true(copies <= MAX_COPY_FRACTION and mean_distance >= min_distance, what,
               f"the samples are (nearly) training images: {copies:.0%} are copies, mean distance to the "
               f"nearest training image {mean_distance:.3f} (new samples: at least {min_distance:.3f})",
               hint="sample from the model: start from noise and run the reverse process")
    score = metrics.record(threshold_key, fid(samples.clamp(-1, 1), train))
    limit = config.thresholds[threshold_key]
    check.true(score <= limit, what, f"FID {score:.2f} against the train split is above the threshold {limit:.2f} "
               f"(the reference: see the handout; your samples: p3_{threshold_key}.png)",
               hint="the trajectory tests say where your sampler goes wrong; a sampler that passes them passes "
                    "this test")


@tags("quality")
@cases(num_steps=[20, 50, 100])
def test_ddim_fid(student, provided, check, config, metrics, seed, device, artifacts, num_steps):
    """Do DDIM samples (eta = 0) from the shipped U-Net reach the calibrated FID at 20, 50 and 100 steps?"""
    _, alpha_bar = shared.linear_schedule()
    model = shared.unet_in_sandbox(provided, device)
    shape = (DDIM_SAMPLES, *shared.IMAGE_SHAPE)
    samples = student.ddim_sample(model, shape, alpha_bar, num_steps, 0.0, shared.generator(SEEDS["ddim"] + seed))
    check_samples(check, config, metrics, samples, shape,
                  f"{DDIM_SAMPLES} samples of ddim_sample(unet, shape, alpha_bar, {num_steps}, eta=0.0, generator)",
                  f"fid_ddim_{num_steps}", artifacts)


@tags("quality")
def test_ddpm_fid(student, provided, check, config, metrics, seed, device, artifacts):
    """Do DDPM samples (1000 steps) from the shipped U-Net reach the calibrated FID?"""
    betas, _ = shared.linear_schedule()
    model = shared.unet_in_sandbox(provided, device)
    shape = (DDPM_SAMPLES, *shared.IMAGE_SHAPE)
    samples = student.ddpm_sample(model, shape, betas, shared.generator(SEEDS["ddpm"] + seed))
    check_samples(check, config, metrics, samples, shape,
                  f"{DDPM_SAMPLES} samples of ddpm_sample(unet, shape, betas, generator), T = 1000",
                  "fid_ddpm", artifacts)
