"""How much faster is DDIM than DDPM on the shipped U-Net, and what does it cost in quality?

Draws the same number of samples (default 256) from P3's shipped U-Net
(``assignments/p3_sampling/assets/unet_digits.safetensors``) with the reference
DDPM sampler (1000 steps) and the reference DDIM sampler (50 steps, eta = 0),
from the same seed, and prints side by side: the wall time of each, the speedup
(target: at least 18x, against the ideal 20x of 1000 / 50 network evaluations)
and the FID of each against the 1500 training digits. The samplers run with
``--threads`` intra-op threads (default 1: the model is small, and a second
thread mostly adds contention on a busy 2-core machine). DDPM runs once; DDIM
runs ``--repeats`` times before it and as many times after it, and its median
is reported, so that a burst of load on a shared machine cannot decide the ratio.

    python benchmarks/bench_sampling.py [--samples 256] [--threads 1] [--repeats 2]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "solutions"))  # the references import each other by their plain names

from autograder.data import load_digits  # noqa: E402
from autograder.grading.runner import load_module  # noqa: E402
from autograder.metrics import fid, load_classifier  # noqa: E402
from p1_forward import alpha_bar as alpha_bar_of  # noqa: E402
from p1_forward import get_schedule  # noqa: E402
from p3_sampling import ddim_sample, ddpm_sample  # noqa: E402

HIDDEN = REPO / "assignments" / "p3_sampling" / "tests" / "hidden"
TARGET_SPEEDUP = 18.0


def timed(sample) -> tuple[float, torch.Tensor]:
    start = time.perf_counter()
    x = sample()
    return time.perf_counter() - start, x


def main(*, samples: int = 256, threads: int = 1, repeats: int = 2, seed: int = 0) -> None:
    torch.set_num_threads(threads)
    shared = load_module(HIDDEN / "_shared.py", prefix="bench_p3")  # the shipped U-Net's loader
    model, meta = shared.load_reference_unet()
    betas = get_schedule(meta["schedule"], meta["T"])
    alpha_bar = alpha_bar_of(betas)
    shape = (samples, 1, 8, 8)
    print(f"shipped U-Net: {sum(p.numel() for p in model.parameters())} parameters, T = {meta['T']}; "
          f"{samples} samples, {threads} thread(s)", flush=True)

    def generator() -> torch.Generator:
        return torch.Generator().manual_seed(seed)

    def ddim() -> tuple[float, torch.Tensor]:
        return timed(lambda: ddim_sample(model, shape, alpha_bar, 50, 0.0, generator()))

    ddim_runs = [ddim() for _ in range(repeats)]
    ddpm_seconds, ddpm_x = timed(lambda: ddpm_sample(model, shape, betas, generator()))
    ddim_runs += [ddim() for _ in range(repeats)]
    ddim_seconds = statistics.median(seconds for seconds, _ in ddim_runs)
    ddim_x = ddim_runs[0][1]

    classifier = load_classifier()
    train = load_digits("train")[0]  # (1500, 1, 8, 8)
    test = load_digits("test")[0][:samples]  # (<= 297, 1, 8, 8), digits the model never saw
    noise = torch.randn(shape, generator=generator()).clamp(-1, 1)
    rows = [
        ("DDPM", 1000, ddpm_seconds, fid(ddpm_x.clamp(-1, 1), train, classifier=classifier)),
        ("DDIM, eta = 0", 50, ddim_seconds, fid(ddim_x.clamp(-1, 1), train, classifier=classifier)),
    ]
    print(f"\n{'sampler':<14} {'steps':>5} {'seconds':>8} {'ms/step':>8} {'FID vs train':>12}")
    for name, steps, seconds, score in rows:
        print(f"{name:<14} {steps:>5} {seconds:>8.2f} {1000 * seconds / steps:>8.2f} {score:>12.2f}")
    print(f"(for scale: {len(test)} test digits score {fid(test, train, classifier=classifier):.2f}, "
          f"{samples} draws of clipped noise {fid(noise, train, classifier=classifier):.1f}; the FID of "
          f"{samples} samples moves by a point or two from one --seed to another)")
    speedup = ddpm_seconds / ddim_seconds
    verdict = "meets" if speedup >= TARGET_SPEEDUP else "BELOW"
    print(f"\nspeedup of DDIM 50 over DDPM 1000: {speedup:.1f}x ({verdict} the target of {TARGET_SPEEDUP:g}x; "
          f"20x is the ratio of network evaluations)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2, help="DDIM runs before DDPM, and again after it")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(samples=args.samples, threads=args.threads, repeats=args.repeats, seed=args.seed)
