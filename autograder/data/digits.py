"""The embedded default dataset: UCI 8x8 handwritten digits, available offline.

1797 grey-scale images of 8x8 pixels (pixel values 0..16) with labels 0..9,
shipped with the package as ``digits8x8.npz`` (made by
``scripts/make_digits_array.py`` from scikit-learn's bundled copy of the UCI
"Optical Recognition of Handwritten Digits" data; scikit-learn is not needed
here).

The split is fixed and shipped in the archive (``is_test``): the test split is
the last 297 indices of ``numpy.random.RandomState(0).permutation(1797)``, the
train split the other 1500. Within a split, images keep the archive's order.

Symbols: ``N`` images, pixel ``p`` in 0..16, image value ``x = p / 8 - 1`` in
``[-1, 1]`` (exact in every float dtype).
"""

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

ARCHIVE = Path(__file__).with_name("digits8x8.npz")
SPLITS = ("train", "test", "all")
NUM_TRAIN = 1500
NUM_TEST = 297
PIXEL_MAX = 16


@lru_cache(maxsize=1)
def _arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The archive's ``images`` uint8 (1797, 8, 8), ``labels`` uint8 (1797,), ``is_test`` bool (1797,)."""
    with np.load(ARCHIVE, allow_pickle=False) as archive:
        arrays = archive["images"], archive["labels"], archive["is_test"]
    for a in arrays:
        a.setflags(write=False)  # cached and shared: nobody may change them
    return arrays


def split_indices(split: str = "train") -> np.ndarray:
    """Indices into the archive of ``split`` ("train", "test" or "all"), ascending, int64 ``(N,)``."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r} of the digits dataset; expected one of {', '.join(SPLITS)}")
    is_test = _arrays()[2]
    if split == "all":
        return np.arange(len(is_test), dtype=np.int64)
    return np.flatnonzero(is_test if split == "test" else ~is_test).astype(np.int64)


def load_digits(split: str = "train", *, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """The 8x8 digits of ``split``: images ``(N, 1, 8, 8)`` in ``[-1, 1]`` and labels ``(N,)`` int64.

    ``split`` is "train" (N = 1500), "test" (N = 297) or "all" (N = 1797); the
    split is fixed (see the module docstring), so every call returns the same
    tensors. ``dtype`` is the images' floating dtype. Fresh tensors on the CPU.
    """
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise ValueError(f"dtype must be a floating torch dtype, got {dtype!r}")
    index = split_indices(split)
    images, labels, _ = _arrays()
    pixels = torch.from_numpy(images[index])  # (N, 8, 8) uint8, a copy: fancy indexing copies
    x = pixels.unsqueeze(1).to(dtype) / (PIXEL_MAX / 2) - 1  # (N, 1, 8, 8), p / 8 - 1
    y = torch.from_numpy(labels[index].astype(np.int64))  # (N,)
    return x, y
