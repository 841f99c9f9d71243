"""Captioned image datasets for text-to-image training (P4) and latent diffusion (P5), made from a seed.

Two modes share one batch type, :class:`CaptionedBatch`:

- :func:`make_shapes`: procedural coloured shapes on black (see
  :mod:`autograder.data.shapes`), one object or two, with captions from the
  grammar of :mod:`autograder.data.captions`. The images are rendered, never
  downloaded; 16x16 is the CPU default for P4, 32x32 for P5, 64 or 128 on a GPU.
- :func:`make_captioned_digits`: the embedded 8x8 digits
  (:func:`autograder.data.load_digits`) with captions ("a handwritten seven"),
  a simpler warm-up. The grey image is upsampled bilinearly to the resolution
  and replicated to 3 channels, so the same 3-channel model trains on both.

Randomness. Each call seeds one ``torch.Generator`` with
``3 * seed + SPLITS.index(split)`` (so the splits of one seed are different
streams) and draws, in order: the attribute tuples (or the digits' order),
the layout jitter of each object, then the captions. The same arguments give
the same bytes.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .captions import sample_captions, sample_digit_captions
from .digits import load_digits
from .shapes import (BACKGROUND, OPPOSITE, POSITION, POSITIONS, SPLITS, attribute_tuples, check_resolution,
                     check_split, layout, paint)

DIGIT_SPLITS = ("train", "test")


@dataclass(frozen=True, eq=False)  # tensors: compare fields with torch.equal
class CaptionedBatch:
    """Images with their attributes and captions.

    - ``images``: float32 ``(n, 3, R, R)`` in ``[-1, 1]``;
    - ``attributes``: int64 ``(n, A)``; for shapes ``A = 4``, columns
      ``[shape, colour, position, size]`` (indices into the tables of
      :mod:`autograder.data.shapes`) of the first object; for digits ``A = 1``,
      the digit;
    - ``captions``: ``n`` strings;
    - ``second``: int64 ``(n, 4)``, the second object of two-object shapes, else None.
    """

    images: torch.Tensor
    attributes: torch.Tensor
    captions: list[str]
    second: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.captions)


def _generator(seed: int, split: str) -> torch.Generator:
    """The generator of one call: seeded with ``3 * seed + SPLITS.index(split)``."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return torch.Generator().manual_seed(len(SPLITS) * seed + SPLITS.index(split))


def _check_n(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")


def _draw(tuples: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` rows of ``tuples`` ``(M, 4)`` drawn uniformly with replacement: ``(n, 4)``."""
    return tuples[torch.randint(len(tuples), (n,), generator=generator)]


def _draw_pairs(n: int, split: str, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Two objects per image, ``(n, 4)`` each: the first anywhere but the centre, the second opposite it.

    Both are drawn from ``split``'s tuples, so a "heldout" pair is two held-out
    objects and a "train" pair holds none.
    """
    tuples = attribute_tuples(split)
    first = _draw(tuples[tuples[:, POSITION] != POSITIONS.index("centre")], n, generator)
    second = torch.empty_like(first)
    for position, opposite in enumerate(OPPOSITE):
        if opposite is None:
            continue
        rows = torch.nonzero(first[:, POSITION] == position).squeeze(1)
        pool = tuples[tuples[:, POSITION] == opposite]
        second[rows] = _draw(pool, len(rows), generator)
    return first, second


def make_shapes(
    n: int, *, resolution: int = 16, split: str = "train", seed: int = 0, two_objects: bool = False,
    jitter: bool = True,
) -> CaptionedBatch:
    """``n`` captioned shape images of ``split``: images ``(n, 3, R, R)``, attributes ``(n, 4)``, captions.

    ``split`` is "train" or "test" (the tuples that are not held out; two
    different random streams) or "heldout" (only the held-out tuples, see
    :data:`autograder.data.shapes.HELD_OUT`). Tuples are drawn uniformly.
    ``resolution`` R >= 8 scales every size and position. ``jitter`` moves
    and shrinks each object a little (:func:`autograder.data.shapes.layout`);
    without it an image is a function of its attributes. ``two_objects`` puts
    a second object (``second``) at the position opposite the first
    (left/right, top/bottom), never overlapping it, and names both in the caption.
    """
    _check_n(n)
    check_resolution(resolution)
    check_split(split)
    generator = _generator(seed, split)
    if two_objects:
        first, second = _draw_pairs(n, split, generator)
    else:
        first, second = _draw(attribute_tuples(split), n, generator), None
    images = torch.full((n, 3, resolution, resolution), BACKGROUND)  # (n, 3, R, R)
    for objects in (first,) if second is None else (first, second):
        paint(images, objects, *layout(objects, generator, jitter))
    return CaptionedBatch(images, first, sample_captions(first, generator, second=second), second)


def make_captioned_digits(n: int, *, resolution: int = 16, split: str = "train", seed: int = 0) -> CaptionedBatch:
    """``n`` captioned digits of ``split``: images ``(n, 3, R, R)``, attributes ``(n, 1)`` (the digit), captions.

    ``split`` is the digits' own fixed "train" (1500 images) or "test" (297);
    the digits have no held-out combinations. The images are taken in a
    seeded random order, cycling when ``n`` exceeds the split; each is
    upsampled bilinearly from 8x8 to R x R (values stay in ``[-1, 1]``) and
    replicated to 3 channels.
    """
    _check_n(n)
    check_resolution(resolution)
    if split not in DIGIT_SPLITS:
        raise ValueError(f"unknown split {split!r} of the captioned digits; expected one of {', '.join(DIGIT_SPLITS)}"
                         " (the digits have no held-out combinations)")
    generator = _generator(seed, split)
    pixels, labels = load_digits(split)  # (N, 1, 8, 8), (N,)
    order = torch.randperm(len(labels), generator=generator)
    index = order[torch.arange(n) % len(order)]  # (n,)
    grey = F.interpolate(pixels[index], size=(resolution, resolution), mode="bilinear", align_corners=False)
    images = grey.expand(-1, 3, -1, -1).contiguous()  # (n, 3, R, R)
    digits = labels[index]
    return CaptionedBatch(images, digits.unsqueeze(1), sample_digit_captions(digits, generator))
