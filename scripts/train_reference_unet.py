"""Train the reference U-Net of P3 on the digits train split and write its EMA weights.

P3's samplers are graded on a model the course ships, so that a student's
sampler is judged on the same network whatever happened in their P2. This
script makes that model reproducibly: the reference ``UNet`` and ``train`` of
``solutions/p2_training``, the linear schedule with ``T = 1000``, fixed seeds,
one CPU thread (``--threads``; for a model this small a second thread buys
little, and on a busy 2-core machine it made each step several times slower),
about six minutes on a 2-core machine. It writes the EMA weights as
safetensors (never a pickle) with one metadata entry, ``"diffgrade_unet"``, a
JSON document holding the ``UNetConfig`` fields, ``T``, ``schedule``,
``steps``, ``seed``, the final mean loss and the torch version. At the end it
prints the FID of 1000 DDIM samples (50 steps) against the train split.
The quality tests' thresholds are then set with ``diffgrade calibrate p3``.

Run from the repository root::

    python scripts/train_reference_unet.py      # writes assignments/p3_sampling/assets/unet_digits.safetensors
"""

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors.torch import save_file

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout without installing
sys.path.insert(0, str(REPO / "solutions"))  # the references import each other by plain name

from autograder.data import load_digits  # noqa: E402
from autograder.grading.runner import load_module  # noqa: E402
from autograder.metrics import fid  # noqa: E402
from p1_forward import alpha_bar as alpha_bar_of  # noqa: E402
from p1_forward import get_schedule  # noqa: E402
from p2_training import TrainConfig, UNet, UNetConfig, train  # noqa: E402
from p3_sampling import ddim_sample  # noqa: E402

ASSIGNMENT = REPO / "assignments" / "p3_sampling"
OUT = ASSIGNMENT / "assets" / "unet_digits.safetensors"
# Small enough that 1000 DDPM steps on a few hundred samples take about a minute on a CPU.
CONFIG = UNetConfig(base_channels=16, channel_mults=(1, 2), num_res_blocks=1, attention_resolutions=(4,))
TRAIN = TrainConfig(steps=4500, batch_size=128, lr=2e-3, ema_decay=0.999, grad_clip=1.0, T=1000,
                    schedule="linear", seed=0, log_every=250)


def config_fields(config: UNetConfig) -> dict:
    """The fields of ``config`` as JSON-ready values (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()}


shared = load_module(ASSIGNMENT / "tests" / "hidden" / "_shared.py", prefix="p3_script")  # the metadata key


@torch.no_grad()
def evaluate(model: torch.nn.Module, alpha_bar: torch.Tensor, *, samples: int, steps: int, seed: int) -> float:
    """FID of ``samples`` DDIM samples (``steps`` steps, eta = 0, clipped to [-1, 1]) vs the train split."""
    generator = torch.Generator().manual_seed(seed)
    x = ddim_sample(model, (samples, 1, 8, 8), alpha_bar, steps, 0.0, generator)  # (N, 1, 8, 8)
    return fid(x.clamp(-1, 1), load_digits("train")[0])


def main(*, out: Path = OUT, steps: int = TRAIN.steps, seed: int = TRAIN.seed,
         base_channels: int = CONFIG.base_channels, fid_samples: int = 1000, threads: int = 1) -> None:
    torch.set_num_threads(threads)
    config = UNetConfig(**{**asdict(CONFIG), "base_channels": base_channels})
    train_config = TrainConfig(**{**asdict(TRAIN), "steps": steps, "seed": seed})
    data, _ = load_digits("train")  # (1500, 1, 8, 8) in [-1, 1]
    torch.manual_seed(seed)  # the initial weights
    model = UNet(config)
    print(f"UNet {config}: {sum(p.numel() for p in model.parameters())} parameters; {train_config}")
    start = time.perf_counter()
    result = train(model, data, train_config,
                   on_log=lambda step, loss: print(f"step {step:5d}  loss {loss:.4f}  "
                                                   f"{time.perf_counter() - start:6.1f} s", flush=True))
    seconds = time.perf_counter() - start
    ema = result.ema_model.eval()
    final_loss = sum(result.loss_history[-100:]) / len(result.loss_history[-100:])
    meta = {"unet": config_fields(config), "T": train_config.T, "schedule": train_config.schedule,
            "steps": train_config.steps, "seed": seed, "batch_size": train_config.batch_size,
            "lr": train_config.lr, "ema_decay": train_config.ema_decay, "final_loss": round(final_loss, 4),
            "torch": torch.__version__, "script": "scripts/train_reference_unet.py"}
    state = {k: v.detach().to("cpu").contiguous().clone() for k, v in ema.state_dict().items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    # One metadata entry: safetensors writes several in random order, and the file should be byte-reproducible.
    save_file(state, str(out), metadata={shared.META_KEY: json.dumps(meta, sort_keys=True)})
    out.chmod(0o644)  # safetensors creates the file readable by its owner only
    print(f"trained {steps} steps in {seconds:.1f} s (mean loss of the last 100: {final_loss:.4f}); "
          f"wrote {out} ({out.stat().st_size} bytes)")
    alpha_bar = alpha_bar_of(get_schedule(train_config.schedule, train_config.T))
    start = time.perf_counter()
    score = evaluate(ema, alpha_bar, samples=fid_samples, steps=50, seed=seed)
    print(f"FID of {fid_samples} DDIM samples (50 steps, eta = 0) vs the train split: {score:.3f} "
          f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the weights")
    parser.add_argument("--steps", type=int, default=TRAIN.steps)
    parser.add_argument("--seed", type=int, default=TRAIN.seed)
    parser.add_argument("--base-channels", type=int, default=CONFIG.base_channels)
    parser.add_argument("--fid-samples", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    main(out=args.out, steps=args.steps, seed=args.seed, base_channels=args.base_channels,
         fid_samples=args.fid_samples, threads=args.threads)
