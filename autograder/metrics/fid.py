"""FID on 8x8 digits: the Frechet distance between feature statistics of two image sets.

``fid(images_a, images_b)`` embeds both sets with the shipped
:class:`~autograder.metrics.classifier.DigitsClassifier` (its 64 penultimate
features), fits a Gaussian to each (mean ``mu`` ``(D,)`` and unbiased
covariance ``sigma`` ``(D, D)``, float64 on the CPU) and returns
:func:`~autograder.metrics.frechet.frechet_distance` between the two.

FID is biased upward for small sets, so compare numbers only at equal set
sizes; :func:`reference_scales` gives the scale of real-vs-real and
noise-vs-real values at the sizes of the digits splits.

:func:`image_features` and :func:`feature_statistics` take any feature
network with a ``features`` method; FID on shapes
(:mod:`autograder.metrics.shapes_fid`) uses them with the shapes classifier.
"""

import numpy as np
import torch
from torch import nn

from autograder.data import load_digits

from .classifier import IMAGE_SHAPE, DigitsClassifier, load_classifier
from .frechet import frechet_distance


@torch.no_grad()
def image_features(images: torch.Tensor, classifier: nn.Module, *, batch_size: int = 512) -> np.ndarray:
    """``classifier.features`` of ``images``, float64 ``(B, D)`` on the CPU, computed in eval mode.

    Generic over the feature network (the digits classifier, the shapes
    classifier): ``images`` ``(B, C, H, W)`` are whatever its ``features``
    reads (it raises a ValueError naming the shape it expects), B >= 1, on any
    device; they are moved to the classifier's device in batches of
    ``batch_size``. A classifier in training mode is put back in it.
    """
    if not isinstance(images, torch.Tensor):
        raise ValueError(f"images must be a torch.Tensor, got {type(images).__name__}")
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"images must be a batch (B, C, H, W) with B >= 1, got shape {tuple(images.shape)}")
    if not torch.isfinite(images).all():
        raise ValueError("images has NaN or infinite values")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    device = next(classifier.parameters()).device
    was_training = classifier.training
    classifier.eval()
    try:
        feats = [
            classifier.features(batch.to(device, torch.float32)).to("cpu", torch.float64)  # (b, D)
            for batch in images.detach().split(batch_size)
        ]
    finally:
        classifier.train(was_training)
    return torch.cat(feats).numpy()  # (B, D)


def feature_statistics(
    images: torch.Tensor, classifier: nn.Module, *, batch_size: int = 512
) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(D,)`` and unbiased covariance ``(D, D)``, float64, of ``classifier.features`` of ``images``.

    ``images``: ``(B, C, H, W)`` in ``[-1, 1]`` of the shape the classifier
    reads (``(B, 1, 8, 8)`` for the digits), B >= 2, on any device; see
    :func:`image_features`.
    """
    f = image_features(images, classifier, batch_size=batch_size)  # (B, D)
    if len(f) < 2:
        raise ValueError(f"images needs at least 2 images for a covariance, got {len(f)}")
    return f.mean(axis=0), np.cov(f, rowvar=False)


def fid(
    images_a: torch.Tensor,
    images_b: torch.Tensor,
    *,
    classifier: DigitsClassifier | None = None,
    batch_size: int = 512,
) -> float:
    """FID between image sets ``images_a`` ``(A, 1, 8, 8)`` and ``images_b`` ``(B, 1, 8, 8)`` in ``[-1, 1]``.

    ``classifier`` defaults to the shipped one (:func:`load_classifier`), put
    on the device of ``images_a``. Deterministic given its inputs.
    """
    _check_images(images_a, "images_a")
    _check_images(images_b, "images_b")
    if classifier is None:
        classifier = load_classifier(images_a.device)
    mu1, sigma1 = feature_statistics(images_a, classifier, batch_size=batch_size)
    mu2, sigma2 = feature_statistics(images_b, classifier, batch_size=batch_size)
    return frechet_distance(mu1, sigma1, mu2, sigma2)


def reference_scales(*, classifier: DigitsClassifier | None = None, seed: int = 0) -> dict[str, float]:
    """FID values that give thresholds a scale, on the digits dataset.

    - ``"train_halves"``: two random halves of the train split (750 vs 750);
    - ``"train_vs_test"``: the train split (1500) vs the test split (297);
    - ``"noise_vs_train"``: 1500 draws of ``N(0, 1)`` clipped to ``[-1, 1]`` vs the train split.

    ``seed`` fixes the halves and the noise.
    """
    classifier = classifier if classifier is not None else load_classifier()
    train, _ = load_digits("train")  # (1500, 1, 8, 8)
    test, _ = load_digits("test")  # (297, 1, 8, 8)
    generator = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(train), generator=generator)
    half = len(train) // 2
    noise = torch.randn(train.shape, generator=generator).clamp(-1, 1)  # (1500, 1, 8, 8)
    return {
        "train_halves": fid(train[perm[:half]], train[perm[half:]], classifier=classifier),
        "train_vs_test": fid(train, test, classifier=classifier),
        "noise_vs_train": fid(noise, train, classifier=classifier),
    }


def _check_images(images: torch.Tensor, name: str) -> None:
    if not isinstance(images, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(images).__name__}")
    if images.ndim != 4 or tuple(images.shape[1:]) != IMAGE_SHAPE:
        raise ValueError(f"{name} must have shape (B, 1, 8, 8), got {tuple(images.shape)}")
    if images.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 images for a covariance, got {images.shape[0]}")
    if not torch.isfinite(images).all():
        raise ValueError(f"{name} has NaN or infinite values")
