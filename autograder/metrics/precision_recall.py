"""Improved precision and recall (Kynkaanniemi et al. 2019): fidelity and diversity as two numbers.

FID mixes the two; a generator that draws only half of the modes, perfectly,
can score a moderate FID. Here each set of features is a manifold estimate:
the union of balls around its points, the radius of point ``phi`` being the
distance to its ``k``-th nearest neighbour in its own set (itself excluded)::

    f(phi, Phi) = 1  if  ||phi - phi'|| <= NND_k(phi')  for some phi' in Phi   (Eq. 2)
    precision   = mean over fake phi_g of f(phi_g, Phi_real)                   (Eq. 1)
    recall      = mean over real phi_r of f(phi_r, Phi_fake)

Precision is the share of samples that look real (inside the real manifold),
recall the share of real images that the samples cover. ``k = 3`` is the
paper's default. Distances are Euclidean, in float64 on the CPU.

:func:`shapes_precision_recall` embeds two sets of shape images with the
shipped shapes classifier (its penultimate features, as FID does) first.
"""

import numpy as np
import torch

from .fid import image_features
from .shapes_classifier import ShapesClassifier, image_resolution, load_shapes_classifier

ArrayLike = np.ndarray | torch.Tensor
_CHUNK = 2048  # rows per distance block: (chunk, N) float64 stays small
# Differences, not the |a|^2 - 2 a.b + |b|^2 expansion: a point is at distance exactly 0 from itself,
# and a distance does not depend on the block it was computed in.
_EXACT = "donot_use_mm_for_euclid_dist"


def precision_recall(real_features: ArrayLike, fake_features: ArrayLike, k: int = 3) -> tuple[float, float]:
    """``(precision, recall)`` of fake features ``(M, D)`` against real features ``(N, D)`` with ``k``-NN radii.

    Both sets need more than ``k`` points (a radius is the ``k``-th neighbour
    other than the point itself). A point exactly on a ball's edge is inside.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    real = _float64(real_features, "real_features", k)  # (N, D)
    fake = _float64(fake_features, "fake_features", k)  # (M, D)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"real and fake features must have one dimension, got {real.shape[1]} and {fake.shape[1]}")
    real_radii, fake_radii = knn_radii(real, k), knn_radii(fake, k)  # (N,), (M,)
    precision = _inside_manifold(fake, real, real_radii).double().mean().item()
    recall = _inside_manifold(real, fake, fake_radii).double().mean().item()
    return precision, recall


def knn_radii(features: torch.Tensor, k: int = 3) -> torch.Tensor:
    """Distance ``(N,)`` from each row of ``features`` ``(N, D)`` to its ``k``-th nearest other row."""
    radii = []
    for i in range(0, len(features), _CHUNK):
        d = torch.cdist(features[i:i + _CHUNK], features, compute_mode=_EXACT)  # (c, N), itself at 0
        # k + 1 smallest, the first being the point itself (or a duplicate of it: same distance, 0).
        radii.append(d.topk(k + 1, dim=1, largest=False).values[:, k])
    return torch.cat(radii)


def _inside_manifold(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    """Whether each of ``points`` ``(M, D)`` lies in a ball ``(centres (N, D), radii (N,))``: bool ``(M,)``."""
    inside = []
    for i in range(0, len(points), _CHUNK):
        d = torch.cdist(points[i:i + _CHUNK], centres, compute_mode=_EXACT)  # (c, N)
        inside.append((d <= radii).any(dim=1))  # (c,)
    return torch.cat(inside)


def shapes_precision_recall(
    real_images: torch.Tensor,
    fake_images: torch.Tensor,
    *,
    k: int = 3,
    classifier: ShapesClassifier | None = None,
) -> tuple[float, float]:
    """``(precision, recall)`` of shape images ``fake_images`` ``(M, 3, R, R)`` vs ``real_images`` ``(N, 3, R, R)``.

    Features are those of ``classifier`` (default: the shipped one of the
    images' resolution, on the device of ``real_images``); k as in :func:`precision_recall`.
    """
    resolution = image_resolution(real_images, "real_images")
    if image_resolution(fake_images, "fake_images") != resolution:
        raise ValueError(f"real_images are {resolution} px and fake_images {fake_images.shape[-1]} px")
    if classifier is None:
        classifier = load_shapes_classifier(resolution, real_images.device)
    elif classifier.resolution != resolution:
        raise ValueError(f"the classifier reads {classifier.resolution} px images, the images are {resolution} px")
    return precision_recall(image_features(real_images, classifier), image_features(fake_images, classifier), k=k)


def _float64(a: ArrayLike, name: str, k: int) -> torch.Tensor:
    """``a`` ``(N, D)`` as a float64 CPU tensor, checked: 2-D, real, finite, more than ``k`` rows."""
    if isinstance(a, np.ndarray):
        a = torch.from_numpy(a)
    if not isinstance(a, torch.Tensor) or a.is_complex() or a.dtype == torch.bool:
        raise ValueError(f"{name} must be a real (N, D) array or tensor, got {getattr(a, 'dtype', type(a).__name__)}")
    if a.ndim != 2:
        raise ValueError(f"{name} must have shape (N, D), got {tuple(a.shape)}")
    if len(a) <= k:
        raise ValueError(f"{name} needs more than k = {k} points for a k-NN radius, got {len(a)}")
    a = a.detach().to("cpu", torch.float64)
    if not torch.isfinite(a).all():
        raise ValueError(f"{name} has NaN or infinite values")
    return a
