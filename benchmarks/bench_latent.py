"""Pixel space against latent space: what does diffusing in a VAE's latents save per training step?

Two reference U-Nets of equal width (P2's ``UNet``, the same ``base_channels`` and
``channel_mults``) train on the same batch size: one on RGB shapes ``(B, 3, 32, 32)``
(``autograder.data.make_shapes``), one on the latents ``(B, 4, 8, 8)`` of P5's reference
VAE (f = 4), which stays frozen and whose encoding of the batch is counted in the latent
step's time. Side by side, in one run, it prints:

* the time per training step (median of ``--steps`` steps, after warm-up), and its ratio;
* the activation memory: on the CPU the bytes of the tensors saved for backward
  (``torch.autograd.graph.saved_tensors_hooks``), on a GPU ``torch.cuda.max_memory_allocated``
  over the step; and its ratio;
* the sampling time per image, DDIM with ``--sampler-steps`` steps (the latent one decoded).

The LDM paper's claim at f = 4 to 8 is a 3 to 4x saving in training compute; the targets
here are latent at least 3x faster per step and at most 1/4 of the activation memory.
The VAE is untrained (its cost, not its quality, is measured); the FID after equal
wall-clock training budgets needs the shipped VAE and is not measured here yet.

    python benchmarks/bench_latent.py [--batch 64] [--steps 20] [--threads 2] [--device cpu]
"""

import argparse
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "solutions"))  # the references import each other by their plain names

from autograder.data import make_shapes  # noqa: E402
from p1_forward import alpha_bar as alpha_bar_of  # noqa: E402
from p1_forward import get_schedule  # noqa: E402
from p2_training import UNet, UNetConfig, diffusion_loss  # noqa: E402
from p3_sampling import ddim_sample  # noqa: E402
from p5_latent import VAE, VAEConfig  # noqa: E402

TARGET_SPEEDUP, TARGET_MEMORY = 3.0, 0.25


@contextmanager
def saved_bytes(counter: list[int]):
    """Add to ``counter[0]`` the bytes of every tensor autograd saves for backward meanwhile."""
    def pack(t: torch.Tensor) -> torch.Tensor:
        counter[0] += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        yield


def step_cost(model, optimizer, make_batch, alpha_bar, device) -> tuple[float, int]:
    """Seconds and activation bytes of one training step."""
    x0, t, noise = make_batch()
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    counter = [0]
    start = time.perf_counter()
    with saved_bytes(counter):
        loss = diffusion_loss(model, x0, t, alpha_bar, noise)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
        counter[0] = torch.cuda.max_memory_allocated() - base
    return time.perf_counter() - start, counter[0]


def main(*, batch: int = 64, steps: int = 20, threads: int = 2, device: str = "cpu", sampler_steps: int = 20) -> None:
    torch.set_num_threads(threads)
    dev = torch.device(device)
    torch.manual_seed(0)
    alpha_bar = alpha_bar_of(get_schedule("linear", 1000)).to(dev)
    images = make_shapes(max(batch * 4, 256), resolution=32, seed=0).images.to(dev)
    vae = VAE(VAEConfig()).to(dev).eval().requires_grad_(False)
    unet_args = dict(base_channels=32, channel_mults=(1, 2), attention_resolutions=(4,))
    # Self-attention at each U-Net's lowest resolution: 16x16 in pixel space, 4x4 in latent space.
    pixel = UNet(UNetConfig(in_channels=3, image_size=32, attention_resolutions=(16,),
                            **{k: v for k, v in unet_args.items() if k != "attention_resolutions"})).to(dev)
    latent = UNet(UNetConfig(in_channels=4, image_size=8, **unet_args)).to(dev)
    g = torch.Generator().manual_seed(1)

    def pixel_batch():
        x0 = images[torch.randint(0, len(images), (batch,), generator=g)]
        return x0, torch.randint(0, 1000, (batch,), generator=g).to(dev), torch.randn(x0.shape, generator=g).to(dev)

    def latent_batch():  # the frozen encoder's cost is part of a latent step
        x0 = images[torch.randint(0, len(images), (batch,), generator=g)]
        with torch.no_grad():
            z0 = vae.encode(x0)[0]
        return z0, torch.randint(0, 1000, (batch,), generator=g).to(dev), torch.randn(z0.shape, generator=g).to(dev)

    results = {}
    for name, model, make in (("pixel", pixel, pixel_batch), ("latent", latent, latent_batch)):
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
        for _ in range(3):  # warm-up
            step_cost(model, opt, make, alpha_bar, dev)
        costs = [step_cost(model, opt, make, alpha_bar, dev) for _ in range(steps)]
        results[name] = (statistics.median(c[0] for c in costs), costs[-1][1])
    n_sample = 16
    start = time.perf_counter()
    ddim_sample(pixel, (n_sample, 3, 32, 32), alpha_bar, sampler_steps, 0.0, torch.Generator().manual_seed(2))
    pixel_sampling = (time.perf_counter() - start) / n_sample
    start = time.perf_counter()
    with torch.no_grad():
        vae.decode(ddim_sample(latent, (n_sample, 4, 8, 8), alpha_bar, sampler_steps, 0.0,
                               torch.Generator().manual_seed(2)))
    latent_sampling = (time.perf_counter() - start) / n_sample

    (tp, mp), (tl, ml) = results["pixel"], results["latent"]
    what = "max_memory_allocated" if dev.type == "cuda" else "saved for backward"
    print(f"batch {batch}, U-Nets of width {unet_args['base_channels']} x {unet_args['channel_mults']}, "
          f"{threads} thread(s), {device}")
    print(f"{'':12}{'pixel 3x32x32':>16}{'latent 4x8x8':>16}{'ratio':>10}")
    print(f"{'step (ms)':12}{tp * 1e3:16.1f}{tl * 1e3:16.1f}{tp / tl:9.1f}x   target >= {TARGET_SPEEDUP:g}x faster")
    print(f"{'act. (MiB)':12}{mp / 2**20:16.1f}{ml / 2**20:16.1f}{ml / mp:10.3f}   target <= {TARGET_MEMORY:g} ({what})")
    print(f"{'sample (ms)':12}{pixel_sampling * 1e3:16.1f}{latent_sampling * 1e3:16.1f}"
          f"{pixel_sampling / latent_sampling:9.1f}x   per image, DDIM {sampler_steps} steps (latent decoded)")
    ok = tp / tl >= TARGET_SPEEDUP and ml / mp <= TARGET_MEMORY
    print("targets met" if ok else "targets NOT met")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sampler-steps", type=int, default=20)
    args = parser.parse_args()
    main(batch=args.batch, steps=args.steps, threads=args.threads, device=args.device,
         sampler_steps=args.sampler_steps)
