"""Datasets by name, offline: the embedded 8x8 digits, or torchvision sets already on disk.

``load_dataset("digits")`` is the embedded default and always works.
``"mnist"`` and ``"cifar10"`` are read with torchvision only when their files
are already under ``root`` (``download=False``); when they are missing,
:class:`DatasetNotFound` says what was looked for where. Nothing is ever
downloaded.

Every loader returns images ``(N, C, H, W)`` in ``[-1, 1]`` and labels ``(N,)``
int64, on the CPU.

For text-to-image work, :func:`make_shapes` (procedural captioned shapes,
with held-out attribute combinations) and :func:`make_captioned_digits` return
a :class:`CaptionedBatch`; :func:`tokenize` turns captions into word ids and a
padding mask (see :mod:`.shapes`, :mod:`.captions`, :mod:`.tokenizer`).
"""

import os
from pathlib import Path

import numpy as np
import torch

from .captioned import CaptionedBatch, make_captioned_digits, make_shapes
from .captions import (attributes_of_caption, canonical_caption, canonical_captions, canonical_digit_caption,
                       digit_of_caption, sample_captions, sample_digit_captions, vocabulary)
from .digits import NUM_TEST, NUM_TRAIN, SPLITS, load_digits, split_indices
from .shapes import (ATTRIBUTES, COLOURS, HELD_OUT, POSITIONS, SHAPES, SIZES, attribute_tuples, colour_rgb,
                     is_held_out, render)
from .tokenizer import WordTokenizer, tokenize

__all__ = [
    "ATTRIBUTES",
    "COLOURS",
    "CaptionedBatch",
    "DATASETS",
    "DatasetNotFound",
    "HELD_OUT",
    "NUM_TEST",
    "NUM_TRAIN",
    "POSITIONS",
    "SHAPES",
    "SIZES",
    "SPLITS",
    "WordTokenizer",
    "attribute_tuples",
    "attributes_of_caption",
    "canonical_caption",
    "canonical_captions",
    "canonical_digit_caption",
    "colour_rgb",
    "default_root",
    "digit_of_caption",
    "is_held_out",
    "load_dataset",
    "load_digits",
    "make_captioned_digits",
    "make_shapes",
    "render",
    "sample_captions",
    "sample_digit_captions",
    "split_indices",
    "tokenize",
    "vocabulary",
]

DATASETS = ("digits", "mnist", "cifar10")
ROOT_ENV = "DIFFGRADE_DATA"

# The files torchvision reads for each set, relative to ``root`` (for the error message).
_EXPECTED_FILES = {
    "mnist": [f"MNIST/raw/{s}-{k}-ubyte" for s in ("train", "t10k") for k in ("images-idx3", "labels-idx1")],
    "cifar10": [f"cifar-10-batches-py/{b}" for b in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]],
}


class DatasetNotFound(FileNotFoundError):
    """A torchvision dataset is not on disk where it was looked for (and is never downloaded)."""


def default_root() -> Path:
    """Where torchvision datasets are looked for when no ``root`` is given: ``$DIFFGRADE_DATA`` or ``~/.cache/diffgrade/data``."""
    env = os.environ.get(ROOT_ENV)
    return Path(env) if env else Path.home() / ".cache" / "diffgrade" / "data"


def load_dataset(
    name: str = "digits",
    *,
    root: Path | None = None,
    split: str = "train",
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``(N, C, H, W)`` in ``[-1, 1]`` and labels ``(N,)`` int64 of dataset ``name``.

    - ``"digits"``: :func:`load_digits` (``C, H, W = 1, 8, 8``); ``root`` is unused.
    - ``"mnist"`` (``1, 28, 28``) and ``"cifar10"`` (``3, 32, 32``): torchvision's
      files under ``root`` (default :func:`default_root`), split "train", "test"
      or "all" (both, train first). Raises :class:`DatasetNotFound` if they are
      not there; never downloads.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")
    if name == "digits":
        return load_digits(split, dtype=dtype)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r} of {name}; expected one of {', '.join(SPLITS)}")
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise ValueError(f"dtype must be a floating torch dtype, got {dtype!r}")
    root = Path(root) if root is not None else default_root()
    parts = [_load_torchvision(name, root, train) for train in ((True, False) if split == "all" else (split == "train",))]
    pixels = torch.cat([p for p, _ in parts])  # (N, C, H, W) uint8
    labels = torch.cat([y for _, y in parts])  # (N,)
    return pixels.to(dtype) / 127.5 - 1, labels


def _load_torchvision(name: str, root: Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixels ``(N, C, H, W)`` uint8 and labels ``(N,)`` int64 read by torchvision from ``root``, or DatasetNotFound."""
    from torchvision import datasets  # imported here: the digits need no torchvision

    cls = {"mnist": datasets.MNIST, "cifar10": datasets.CIFAR10}[name]
    if not root.is_dir():
        raise _not_found(name, root, "the folder does not exist")
    try:
        ds = cls(str(root), train=train, download=False)  # never download
    except RuntimeError as err:  # torchvision: "Dataset not found" / "... or corrupted"
        raise _not_found(name, root, str(err)) from err
    data = torch.as_tensor(np.asarray(ds.data))  # MNIST (N, H, W); CIFAR-10 (N, H, W, C)
    pixels = data.unsqueeze(1) if data.ndim == 3 else data.permute(0, 3, 1, 2)  # (N, C, H, W)
    labels = torch.as_tensor(np.asarray(ds.targets), dtype=torch.int64)  # (N,)
    return pixels.contiguous(), labels


def _not_found(name: str, root: Path, why: str) -> DatasetNotFound:
    files = ", ".join(_EXPECTED_FILES[name])
    return DatasetNotFound(
        f"dataset {name!r} not found under {root} ({why}); looked for {files}. "
        f"Nothing is downloaded at run time: place torchvision's files there beforehand "
        f"(or set root= / ${ROOT_ENV}), or use the embedded 'digits' dataset."
    )
