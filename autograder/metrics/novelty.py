"""Are samples new? Their distance to the nearest training image, and the share of copies.

A model that memorised its data, or a sampler that returns training images, gets
a low FID; the quality tests of P2 and P3 also require that the samples keep
the distance from the training set that genuine samples have.
"""

from dataclasses import dataclass

import torch

COPY_DISTANCE = 1e-3  # an L2 distance below this to a training image counts as a copy
MAX_COPY_FRACTION = 0.01  # the share of copies the quality tests allow
_CHUNK = 4096  # samples per distance block: (chunk, N_train) float64 stays small


def nearest_train_distances(samples: torch.Tensor, train: torch.Tensor) -> torch.Tensor:
    """L2 distance ``(N,)`` from each sample to its nearest training image, in float64 on the CPU.

    ``samples``: ``(N, ...)``; ``train``: ``(M, ...)`` with the same image shape."""
    if tuple(samples.shape[1:]) != tuple(train.shape[1:]):
        raise ValueError(f"samples of shape {tuple(samples.shape[1:])} cannot be compared with training "
                         f"images of shape {tuple(train.shape[1:])}")
    x = samples.detach().to("cpu", torch.float64).flatten(1)
    y = train.detach().to("cpu", torch.float64).flatten(1)
    return torch.cat([torch.cdist(x[i:i + _CHUNK], y).min(dim=1).values for i in range(0, len(x), _CHUNK)])


@dataclass(frozen=True)
class Novelty:
    """``mean_distance``: mean L2 distance to the nearest training image; ``copy_fraction``:
    the share of samples closer than ``COPY_DISTANCE`` to one."""

    mean_distance: float
    copy_fraction: float

    def is_new(self, min_mean_distance: float, max_copy_fraction: float = MAX_COPY_FRACTION) -> bool:
        """Far enough from the training set on average, with few copies."""
        return self.copy_fraction <= max_copy_fraction and self.mean_distance >= min_mean_distance

    def describe(self, min_mean_distance: float) -> str:
        """What the feedback says when the samples are not new."""
        return (f"the samples are (nearly) training images: {self.copy_fraction:.0%} are copies, mean distance to "
                f"the nearest training image {self.mean_distance:.3f} (new samples: at least {min_mean_distance:.3f})")


def novelty(samples: torch.Tensor, train: torch.Tensor, copy_distance: float = COPY_DISTANCE) -> Novelty:
    """How far ``samples`` ``(N, ...)`` are from the training images ``train`` ``(M, ...)``."""
    d = nearest_train_distances(samples, train)
    return Novelty(mean_distance=float(d.mean()), copy_fraction=float((d < copy_distance).double().mean()))
