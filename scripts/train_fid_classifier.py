"""Train the FID feature network on the digits train split and write its safetensors weights.

Reproducible: fixed seeds, deterministic algorithms, 2 CPU threads, the fixed
train split of ``autograder.data.load_digits``; takes seconds on a CPU. Prints
the test accuracy and the FID reference scales (real vs real, noise vs real),
and stores the accuracy, seed and torch version in the file's metadata.

Run from the repository root::

    python scripts/train_fid_classifier.py            # writes autograder/metrics/digits_classifier.safetensors
"""

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from autograder.data import load_digits  # noqa: E402
from autograder.metrics.classifier import WEIGHTS, DigitsClassifier, load_classifier  # noqa: E402
from autograder.metrics.fid import reference_scales  # noqa: E402


def all_shifts(x: torch.Tensor, max_shift: int = 1) -> torch.Tensor:
    """Every shift of every image of ``x`` ``(N, 1, H, W)`` by up to ``max_shift`` pixels: ``(S, N, 1, H, W)``.

    ``S = (2 * max_shift + 1) ** 2``; uncovered pixels get the background value -1.
    """
    _, _, h, w = x.shape
    padded = F.pad(x, [max_shift] * 4, value=-1.0)  # (N, 1, H + 2s, W + 2s)
    offsets = range(2 * max_shift + 1)
    return torch.stack([padded[:, :, dy:dy + h, dx:dx + w] for dy in offsets for dx in offsets])


@torch.no_grad()
def accuracy(model: DigitsClassifier, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of images ``x`` ``(N, 1, 8, 8)`` whose argmax logit is the label ``y`` ``(N,)``."""
    model.eval()
    return (model(x).argmax(dim=1) == y).double().mean().item()


def train(*, epochs: int = 40, batch_size: int = 64, lr: float = 3e-3, seed: int = 0) -> DigitsClassifier:
    """A DigitsClassifier trained on the train split (Adam, one-cycle learning rate, shifts of up to one pixel)."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    x, y = load_digits("train")  # (1500, 1, 8, 8), (1500,)
    model = DigitsClassifier()
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * ((len(x) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    shifted = all_shifts(x)  # (9, 1500, 1, 8, 8): augmentation by shifts of up to one pixel
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(x), generator=generator).split(batch_size):
            shift = torch.randint(0, len(shifted), (len(idx),), generator=generator)  # (b,)
            loss = F.cross_entropy(model(shifted[shift, idx]), y[idx])  # shifted[...]: (b, 1, 8, 8)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    return model.eval()


def main(*, out: Path = WEIGHTS, epochs: int = 40, seed: int = 0) -> None:
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    start = time.perf_counter()
    model = train(epochs=epochs, seed=seed)
    seconds = time.perf_counter() - start
    x_test, y_test = load_digits("test")
    acc = accuracy(model, x_test, y_test)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    # One metadata entry: safetensors writes several in random order, and the file should be byte-reproducible.
    metadata = {"provenance": f"scripts/train_fid_classifier.py seed={seed} epochs={epochs} "
                              f"test_accuracy={acc:.4f} torch={torch.__version__}"}
    save_file(state, str(out), metadata=metadata)
    out.chmod(0o644)  # safetensors creates the file readable by its owner only
    reloaded = load_classifier(weights=out)
    print(f"trained in {seconds:.1f} s; test accuracy {accuracy(reloaded, x_test, y_test):.4f} "
          f"({len(y_test)} images); wrote {out} ({out.stat().st_size} bytes)")
    with torch.no_grad():
        spread = reloaded.features(load_digits("train")[0]).std(dim=0)  # (D,)
    print(f"feature standard deviations on the train split: min {spread.min():.3g}, max {spread.max():.3g}")
    for name, value in reference_scales(classifier=reloaded).items():
        print(f"FID {name:>15}: {value:10.4f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=WEIGHTS, help="where to write the weights")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(out=args.out, epochs=args.epochs, seed=args.seed)
