"""Write a PNG grid of captioned samples (shapes or digits), to look at the data by eye.

    python scripts/preview_shapes.py --out shapes.png
    python scripts/preview_shapes.py --out pairs.png --two-objects --resolution 32
    python scripts/preview_shapes.py --out heldout.png --split heldout
    python scripts/preview_shapes.py --out digits.png --digits
"""

import argparse
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402

from autograder.data import make_captioned_digits, make_shapes  # noqa: E402


def main(*, out: Path, n: int = 24, resolution: int = 16, split: str = "train", seed: int = 0,
         two_objects: bool = False, digits: bool = False, columns: int = 6) -> Path:
    """Draw ``n`` samples in a grid, each titled with its caption, and save the figure to ``out``."""
    if digits:
        batch = make_captioned_digits(n, resolution=resolution, split=split, seed=seed)
    else:
        batch = make_shapes(n, resolution=resolution, split=split, seed=seed, two_objects=two_objects)
    rows = -(-n // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.6 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, caption in zip(axes.flat, batch.images, batch.captions):
        ax.imshow(((image.permute(1, 2, 0) + 1) / 2).clamp(0, 1).numpy(), interpolation="nearest")
        ax.set_title("\n".join(textwrap.wrap(caption, 26)), fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="the PNG to write")
    parser.add_argument("--n", type=int, default=24)
    parser.add_argument("--resolution", type=int, default=16)
    parser.add_argument("--split", default="train", help="train, test or heldout (digits: train or test)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--two-objects", action="store_true")
    parser.add_argument("--digits", action="store_true", help="captioned digits instead of shapes")
    args = parser.parse_args()
    print(main(out=args.out, n=args.n, resolution=args.resolution, split=args.split, seed=args.seed,
               two_objects=args.two_objects, digits=args.digits))
