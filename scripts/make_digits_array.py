"""Write ``autograder/data/digits8x8.npz``, the embedded default dataset.

Provenance: the UCI "Optical Recognition of Handwritten Digits" data set
(Alpaydin & Kaynak, 1998; https://archive.ics.uci.edu/dataset/80), 1797 images
of 8x8 pixels, each pixel a count 0..16 of set pixels in a 4x4 block of a
32x32 bitmap, labels 0..9. We take the copy bundled with scikit-learn
(``sklearn.datasets.load_digits()``, read from the installed package, no
network), which is the test part of the UCI set (CC BY 4.0).

The archive holds, compressed:

- ``images``  uint8 ``(1797, 8, 8)``, values 0..16, in scikit-learn's order;
- ``labels``  uint8 ``(1797,)``, values 0..9;
- ``is_test`` bool  ``(1797,)``, the fixed test split: the last 297 indices of
  ``numpy.random.RandomState(0).permutation(1797)`` (``RandomState`` streams
  are frozen by numpy, so the rule can be re-checked anywhere).

Run once from the repository root (scikit-learn is needed here only, never at
run time)::

    python scripts/make_digits_array.py
"""

import argparse
from pathlib import Path

import numpy as np

NUM_TEST = 297
SPLIT_SEED = 0
OUT = Path(__file__).resolve().parent.parent / "autograder" / "data" / "digits8x8.npz"


def held_out_mask(n: int, num_test: int = NUM_TEST, seed: int = SPLIT_SEED) -> np.ndarray:
    """Boolean ``(n,)``: True for the ``num_test`` indices last in a seeded permutation."""
    perm = np.random.RandomState(seed).permutation(n)
    mask = np.zeros(n, dtype=bool)
    mask[perm[n - num_test:]] = True
    return mask


def main(*, out: Path = OUT) -> None:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.asarray(bunch.images)  # (N, 8, 8) float64, integer-valued
    labels = np.asarray(bunch.target)  # (N,) int
    if not (np.array_equal(images, np.round(images)) and images.min() >= 0 and images.max() <= 16):
        raise ValueError("expected integer pixel values in 0..16")
    if images.shape != (1797, 8, 8) or labels.shape != (1797,) or set(np.unique(labels)) != set(range(10)):
        raise ValueError(f"unexpected data: images {images.shape}, labels {labels.shape}")
    np.savez_compressed(
        out,
        images=images.astype(np.uint8),
        labels=labels.astype(np.uint8),
        is_test=held_out_mask(len(labels)),
    )
    print(f"wrote {out} ({out.stat().st_size} bytes): {len(labels)} images, {NUM_TEST} in the test split")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the .npz")
    main(out=parser.parse_args().out)
