"""FID on procedural shapes: the Frechet distance between shapes-classifier features of two image sets.

As :mod:`autograder.metrics.fid` does for the digits, with the shipped
:class:`~autograder.metrics.shapes_classifier.ShapesClassifier` of the images'
resolution (16 or 32 px) as the feature network: its ``FEATURE_DIM``
penultimate features, a Gaussian per set (mean ``(D,)``, unbiased covariance
``(D, D)``, float64) and :func:`~autograder.metrics.frechet.frechet_distance`.

FID is biased upward for small sets, so compare numbers only at equal set
sizes; :func:`shapes_reference_scales` gives the real-vs-real and
noise-vs-real values at the sizes the quality tests use (1000 samples
against 2000 training images by default).
"""

import torch

from autograder.data import make_shapes

from .fid import feature_statistics
from .frechet import frechet_distance
from .shapes_classifier import ShapesClassifier, image_resolution, load_shapes_classifier


def shapes_fid(
    images_a: torch.Tensor,
    images_b: torch.Tensor,
    *,
    classifier: ShapesClassifier | None = None,
    batch_size: int = 512,
) -> float:
    """FID between shape images ``images_a`` ``(A, 3, R, R)`` and ``images_b`` ``(B, 3, R, R)`` in ``[-1, 1]``.

    R (16 or 32) is read from the images and must be the same for both;
    ``classifier`` defaults to the shipped one of that resolution, put on the
    device of ``images_a``. A >= 2 and B >= 2. Deterministic given its inputs.
    """
    resolution = image_resolution(images_a, "images_a")
    if image_resolution(images_b, "images_b") != resolution:
        raise ValueError(f"images_a are {resolution} px and images_b {images_b.shape[-1]} px; "
                         "FID compares sets of one resolution")
    for name, images in (("images_a", images_a), ("images_b", images_b)):
        if len(images) < 2:
            raise ValueError(f"{name} needs at least 2 images for a covariance, got {len(images)}")
    if classifier is None:
        classifier = load_shapes_classifier(resolution, images_a.device)
    elif classifier.resolution != resolution:
        raise ValueError(f"the classifier reads {classifier.resolution} px images, the images are {resolution} px")
    mu1, sigma1 = feature_statistics(images_a, classifier, batch_size=batch_size)
    mu2, sigma2 = feature_statistics(images_b, classifier, batch_size=batch_size)
    return frechet_distance(mu1, sigma1, mu2, sigma2)


def shapes_reference_scales(
    resolution: int = 16,
    n: int = 1000,
    *,
    n_reference: int = 2000,
    classifier: ShapesClassifier | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """FID values that give thresholds a scale, on ``make_shapes`` images of ``resolution`` px (jittered).

    The reference set is ``n_reference`` images of the "train" split (``seed``);
    "samples" are ``n`` images:

    - ``"train_halves"``: two halves of the reference set (``n_reference / 2`` each);
    - ``"train_vs_test"``: ``n`` images of the "test" split vs the reference set
      (what a perfect generator scores);
    - ``"noise_vs_train"``: ``n`` draws of ``N(0, 1)`` clipped to ``[-1, 1]`` vs the reference set.
    """
    classifier = classifier if classifier is not None else load_shapes_classifier(resolution)
    train = make_shapes(n_reference, resolution=resolution, split="train", seed=seed).images  # (N, 3, R, R)
    test = make_shapes(n, resolution=resolution, split="test", seed=seed).images  # (n, 3, R, R)
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(test.shape, generator=generator).clamp(-1, 1)  # (n, 3, R, R)
    half = n_reference // 2
    return {
        "train_halves": shapes_fid(train[:half], train[half:], classifier=classifier),
        "train_vs_test": shapes_fid(test, train, classifier=classifier),
        "noise_vs_train": shapes_fid(noise, train, classifier=classifier),
    }
