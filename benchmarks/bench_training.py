"""How good a model does the P2 reference train on a laptop CPU in a few minutes?

Trains the reference ``UNet`` with the reference ``train`` on the digits train split
for a fixed wall-clock budget (default 4 minutes on 2 threads), in chunks of
``--chunk`` steps that resume from safetensors checkpoints (a resumed run equals an
uninterrupted one, so the chunks change nothing but where the clock is read). Then
it draws samples from the EMA model with the reference DDIM sampler of P3, stochastic
(eta = 1, which forgives the errors of a briefly trained model) and deterministic
(eta = 0), and prints their FID against the training digits, next to real-vs-real and
noise-vs-real FIDs at the same set sizes (target: below 3; two halves of the train
split score about 2.3).

Last, it times one training step of the reference U-Net against a diffusers
``UNet2DModel`` of about the same size and layout, if diffusers is installed.

    python benchmarks/bench_training.py [--minutes 4] [--threads 2] [--base-channels 16]
"""

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "solutions"))  # the references import each other by their plain names

from autograder.data import load_digits  # noqa: E402
from autograder.metrics import fid, load_classifier  # noqa: E402
from p1_forward import alpha_bar as alpha_bar_of  # noqa: E402
from p1_forward import get_schedule  # noqa: E402
from p2_training import TrainConfig, UNet, UNetConfig, draw_batch, train, train_step  # noqa: E402
from p3_sampling import ddim_sample  # noqa: E402


def train_for(seconds: float, model: UNet, data: torch.Tensor, config: TrainConfig, chunk: int):
    """Train in chunks of ``chunk`` steps until ``seconds`` have passed; returns (result, seconds used)."""
    start = time.perf_counter()
    result = None
    with tempfile.TemporaryDirectory(prefix="bench-training-") as folder:
        steps = 0
        while time.perf_counter() - start < seconds:
            steps += chunk
            result = train(model, data, replace(config, steps=steps), checkpoint_dir=folder, resume=True)
            last = sum(result.loss_history[-chunk:]) / chunk
            print(f"  step {steps:6d}  mean loss {last:.4f}  {time.perf_counter() - start:6.1f} s", flush=True)
    return result, time.perf_counter() - start


def step_time(model: torch.nn.Module, call, data: torch.Tensor, batch_size: int, steps: int) -> float:
    """Median seconds of one forward + backward + AdamW step of ``call(model, x_t, t)``, after warm-up."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    times = []
    for i in range(steps + 3):
        x0, t, noise = draw_batch(data, batch_size, 1000, generator)
        start = time.perf_counter()
        loss = (call(model, x0 + noise, t) - noise).square().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if i >= 3:
            times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def compare_with_diffusers(config: UNetConfig, data: torch.Tensor, batch_size: int, steps: int) -> None:
    try:
        from diffusers import UNet2DModel
    except ImportError:
        print("diffusers not installed: no comparison of step times")
        return
    ours = UNet(config)
    theirs = UNet2DModel(
        sample_size=config.image_size, in_channels=config.in_channels, out_channels=config.in_channels,
        block_out_channels=tuple(m * config.base_channels for m in config.channel_mults),
        down_block_types=("DownBlock2D", "AttnDownBlock2D"), up_block_types=("AttnUpBlock2D", "UpBlock2D"),
        layers_per_block=config.num_res_blocks, norm_num_groups=8, attention_head_dim=None)
    rows = [("reference UNet", ours, lambda m, x, t: m(x, t)),
            ("diffusers UNet2DModel", theirs, lambda m, x, t: m(x, t).sample)]
    print(f"one training step, batch {batch_size}, median of {steps}:")
    times = []
    for name, model, call in rows:
        params = sum(p.numel() for p in model.parameters())
        times.append(step_time(model, call, data, batch_size, steps))
        print(f"  {name:<22} {params:>9,d} parameters  {times[-1] * 1000:7.1f} ms")
    print(f"  diffusers / reference step time: {times[1] / times[0]:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=4.0, help="wall-clock training budget")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--base-channels", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--ema-decay", type=float, default=0.998)
    parser.add_argument("--chunk", type=int, default=250, help="steps between looks at the clock")
    parser.add_argument("--samples", type=int, default=1500)
    parser.add_argument("--sampler-steps", type=int, default=100, help="DDIM steps")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    data, _ = load_digits("train")  # (1500, 1, 8, 8) in [-1, 1]
    unet = UNetConfig(base_channels=args.base_channels, channel_mults=(1, 2), attention_resolutions=(4,))
    config = TrainConfig(steps=args.chunk, batch_size=args.batch_size, lr=args.lr, ema_decay=args.ema_decay,
                         seed=args.seed, log_every=0)
    torch.manual_seed(args.seed)
    model = UNet(unet)
    print(f"training {unet} ({sum(p.numel() for p in model.parameters()):,d} parameters) for "
          f"{args.minutes:g} min on {args.threads} thread(s): batch {args.batch_size}, lr {args.lr}, "
          f"EMA {args.ema_decay}")
    result, seconds = train_for(args.minutes * 60, model, data, config, args.chunk)
    steps = result.steps_done
    print(f"trained {steps} steps in {seconds:.0f} s ({seconds / steps * 1000:.0f} ms per step, "
          f"checkpoints included)")

    alpha_bar = alpha_bar_of(get_schedule("linear", config.T))
    classifier = load_classifier()
    perm = torch.randperm(len(data), generator=torch.Generator().manual_seed(args.seed))
    half_a, half_b = data[perm[:len(data) // 2]], data[perm[len(data) // 2:]]
    noise = torch.randn((args.samples, 1, 8, 8), generator=torch.Generator().manual_seed(args.seed + 2)).clamp(-1, 1)
    n = min(len(half_a), args.samples)
    print(f"FID for scale ({n} vs {n}): real (other half) {fid(half_b, half_a, classifier=classifier):.2f}   "
          f"noise {fid(noise[:n], half_a, classifier=classifier):.2f}")
    for eta in (1.0, 0.0):
        start = time.perf_counter()
        with torch.no_grad():
            samples = ddim_sample(result.ema_model.eval(), (args.samples, 1, 8, 8), alpha_bar, args.sampler_steps,
                                  eta, torch.Generator().manual_seed(args.seed + 1)).clamp(-1, 1)
        print(f"DDIM {args.sampler_steps} steps, eta {eta:g}: {args.samples} samples in "
              f"{time.perf_counter() - start:.0f} s;  FID vs {len(data)} train {fid(samples, data, classifier=classifier):.2f}"
              f"   ({n} vs {n} half: {fid(samples[:n], half_a, classifier=classifier):.2f})")

    compare_with_diffusers(unet, data, args.batch_size, steps=20)


if __name__ == "__main__":
    main()
