"""FID on procedural shapes with the shipped classifiers, at the quality tests' set sizes (1000 vs 2000)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.data import make_shapes
from autograder.metrics import (feature_statistics, image_features, load_shapes_classifier, shapes_fid,
                                shapes_reference_scales)
from autograder.metrics.shapes_classifier import FEATURE_DIM


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """``x`` ``(B, 3, R, R)`` blurred by a separable Gaussian of ``sigma`` pixels (edges replicated)."""
    r = int(3 * sigma) + 1
    t = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-t**2 / (2 * sigma**2))
    k = k / k.sum()  # (2r + 1,)
    x = F.pad(x, [r] * 4, mode="replicate")  # (B, 3, R + 2r, R + 2r)
    x = F.conv2d(x, k.view(1, 1, 1, -1).repeat(3, 1, 1, 1), groups=3)  # (B, 3, R + 2r, R)
    return F.conv2d(x, k.view(1, 1, -1, 1).repeat(3, 1, 1, 1), groups=3)  # (B, 3, R, R)


def recolour_red(x: torch.Tensor, fraction: float) -> torch.Tensor:
    """``x`` ``(B, 3, R, R)`` with the objects of its first ``fraction`` of images painted red (a colour collapse).

    Every palette colour has a channel at 1, so the coverage is the channels' max, rescaled to ``[0, 1]``.
    """
    coverage = (x.amax(dim=1, keepdim=True) + 1) / 2  # (B, 1, R, R)
    red = torch.tensor([1.0, -1.0, -1.0]).view(1, 3, 1, 1)
    out = x.clone()
    m = int(fraction * len(x))
    out[:m] = -1 + coverage[:m] * (red + 1)
    return out


@pytest.fixture(scope="module", params=[16, pytest.param(32, marks=pytest.mark.slow)])
def sets(request):
    """(resolution, classifier, 2000 train images, 1000 test images); each FID at 32 px takes seconds."""
    r = request.param
    train = make_shapes(2000, resolution=r, split="train", seed=0).images
    test = make_shapes(1000, resolution=r, split="test", seed=0).images
    return r, load_shapes_classifier(r), train, test


def test_real_close_noise_far(sets):
    """Is FID(test, train) positive and under 1/50 of FID(noise, train)?"""
    _, classifier, train, test = sets
    noise = torch.randn(test.shape, generator=torch.Generator().manual_seed(0)).clamp(-1, 1)
    real = shapes_fid(test, train, classifier=classifier)
    assert 0 < real < shapes_fid(noise, train, classifier=classifier) / 50


def test_fid_of_a_set_with_itself_is_zero(sets):
    """Is FID(x, x) zero up to rounding?"""
    _, classifier, train, _ = sets
    assert abs(shapes_fid(train, train, classifier=classifier)) < 1e-6


def test_fid_grows_with_blur(sets):
    """Does FID grow with the blur, past twice the real-vs-real value at sigma = 1 pixel?"""
    _, classifier, train, test = sets
    values = [shapes_fid(gaussian_blur(test, s) if s else test, train, classifier=classifier) for s in (0, 0.5, 1.0)]
    assert values == sorted(values) and values[2] > 2 * values[0]


@pytest.mark.slow
def test_fid_grows_with_a_colour_collapse(sets):
    """Does FID grow as more objects are painted one colour, past twice the real value at half of them?"""
    _, classifier, train, test = sets
    values = [shapes_fid(recolour_red(test, f), train, classifier=classifier) for f in (0, 0.1, 0.25, 0.5, 1.0)]
    assert values == sorted(values) and values[3] > 2 * values[0]


@pytest.mark.slow
def test_reference_scales(sets):
    """Are the real-vs-real scales far below noise-vs-real, and does test-vs-train match the fixture's?"""
    r, classifier, train, test = sets
    scales = shapes_reference_scales(r, classifier=classifier)
    assert set(scales) == {"train_halves", "train_vs_test", "noise_vs_train"}
    assert max(scales["train_halves"], scales["train_vs_test"]) < scales["noise_vs_train"] / 50
    assert scales["train_vs_test"] == pytest.approx(shapes_fid(test, train, classifier=classifier), rel=1e-9)


def test_default_classifier_and_batch_size(sets):
    """Does the default classifier, or another batch size, give the same FID?"""
    _, classifier, train, test = sets
    value = shapes_fid(test[:300], train[:600], classifier=classifier)
    assert shapes_fid(test[:300], train[:600]) == pytest.approx(value, rel=1e-9)
    assert shapes_fid(test[:300], train[:600], classifier=classifier, batch_size=64) == pytest.approx(value, rel=1e-6)


def test_generic_feature_statistics():
    """Do image_features and feature_statistics of fid.py take the shapes classifier too?"""
    classifier = load_shapes_classifier(16)
    x = make_shapes(50, resolution=16, seed=4).images
    f = image_features(x, classifier, batch_size=7)
    mu, sigma = feature_statistics(x, classifier)
    assert f.shape == (50, FEATURE_DIM) and f.dtype == np.float64
    np.testing.assert_allclose(mu, f.mean(0), rtol=1e-6, atol=1e-6)
    assert sigma.shape == (FEATURE_DIM, FEATURE_DIM)
    with pytest.raises(ValueError, match=r"\(B, 3, 16, 16\)"):
        feature_statistics(torch.zeros(4, 1, 8, 8), classifier)


@pytest.mark.parametrize(
    "a, b, match",
    [
        (torch.zeros(4, 3, 16, 16), torch.zeros(4, 3, 32, 32), "one resolution"),
        (torch.zeros(4, 3, 24, 24), torch.zeros(4, 3, 24, 24), r"resolutions \(16, 32\)"),
        (torch.zeros(1, 3, 16, 16), torch.zeros(4, 3, 16, 16), "at least 2"),
        (torch.zeros(4, 1, 16, 16), torch.zeros(4, 3, 16, 16), r"images_a must have shape \(B, 3, R, R\)"),
        (torch.full((4, 3, 16, 16), float("nan")), torch.zeros(4, 3, 16, 16), "NaN"),
        (np.zeros((4, 3, 16, 16)), torch.zeros(4, 3, 16, 16), "torch.Tensor"),
    ],
)
def test_bad_inputs(a, b, match):
    """Do mixed or unsupported resolutions, too few images, wrong channels, NaNs and arrays raise ValueErrors?"""
    with pytest.raises(ValueError, match=match):
        shapes_fid(a, b)


def test_classifier_of_another_resolution_is_refused():
    """Does a 32 px classifier on 16 px images raise a ValueError?"""
    x = torch.zeros(4, 3, 16, 16)
    with pytest.raises(ValueError, match="reads 32 px"):
        shapes_fid(x, x, classifier=load_shapes_classifier(32))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    """On CUDA tensors, does shapes FID run and agree with the CPU value?"""
    a = make_shapes(300, resolution=32, split="test", seed=1).images
    b = make_shapes(600, resolution=32, split="train", seed=1).images
    assert shapes_fid(a.cuda(), b.cuda()) == pytest.approx(shapes_fid(a, b), rel=1e-3)
