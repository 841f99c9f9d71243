"""FID on 8x8 digits with the shipped classifier."""

import numpy as np
import pytest
import torch

from autograder.data import load_digits
from autograder.metrics import (
    FEATURE_DIM,
    WEIGHTS,
    DigitsClassifier,
    feature_statistics,
    fid,
    load_classifier,
    reference_scales,
)


@pytest.fixture(scope="module")
def classifier() -> DigitsClassifier:
    return load_classifier()


@pytest.fixture(scope="module")
def train() -> torch.Tensor:
    return load_digits("train")[0]  # (1500, 1, 8, 8)


def halves(x: torch.Tensor, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    return x[perm[: len(x) // 2]], x[perm[len(x) // 2:]]


def test_weights_are_small_safetensors():
    """Are the shipped weights a safetensors file (no pickle) under 200 KB?"""
    raw = WEIGHTS.read_bytes()
    header_len = int.from_bytes(raw[:8], "little")
    assert len(raw) < 200_000 and raw[8:9] == b"{" and 8 + header_len < len(raw)
    assert b"provenance" in raw[8:8 + header_len]


def test_classifier_loads_in_eval_mode_and_classifies(classifier):
    """Does the loaded classifier reach >= 95% accuracy on the test split?"""
    assert isinstance(classifier, DigitsClassifier) and not classifier.training
    x, y = load_digits("test")
    with torch.no_grad():
        logits = classifier(x)
        feats = classifier.features(x)
    assert logits.shape == (297, 10) and feats.shape == (297, FEATURE_DIM)
    accuracy = (logits.argmax(1) == y).double().mean().item()
    assert accuracy >= 0.95


def test_classifier_rejects_wrong_shapes(classifier):
    """Does a batch that is not (B, 1, 8, 8) raise a ValueError?"""
    with pytest.raises(ValueError, match=r"\(B, 1, 8, 8\)"):
        classifier.features(torch.zeros(2, 8, 8))


def test_feature_statistics(classifier, train):
    """Are mu (D,) and sigma (D, D) float64, the mean and unbiased covariance of the features?"""
    x = train[:100]
    mu, sigma = feature_statistics(x, classifier, batch_size=32)
    with torch.no_grad():
        f = classifier.features(x).double().numpy()  # (100, D)
    assert mu.shape == (FEATURE_DIM,) and sigma.shape == (FEATURE_DIM, FEATURE_DIM)
    assert mu.dtype == np.float64 and sigma.dtype == np.float64
    np.testing.assert_allclose(mu, f.mean(0), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(sigma, (f - f.mean(0)).T @ (f - f.mean(0)) / 99, rtol=1e-5, atol=1e-6)


def test_feature_statistics_restores_training_mode(train):
    """Does a classifier in training mode come back in training mode (features taken in eval)?"""
    model = load_classifier()
    model.train()
    mu, _ = feature_statistics(train[:10], model)
    assert model.training
    model.eval()
    assert np.array_equal(mu, feature_statistics(train[:10], model)[0])


def test_real_halves_close_noise_far(classifier, train):
    """Is FID small between two halves of the real data and much larger for noise vs real?"""
    a, b = halves(train)
    noise = torch.randn(train.shape, generator=torch.Generator().manual_seed(0)).clamp(-1, 1)
    real_real = fid(a, b, classifier=classifier)
    noise_real = fid(noise, train, classifier=classifier)
    assert 0 < real_real < 10
    assert noise_real > 100 and noise_real > 20 * real_real


def test_fid_of_a_set_with_itself_is_zero(classifier, train):
    """Is FID(x, x) zero up to rounding?"""
    assert abs(fid(train, train, classifier=classifier)) < 1e-6


def test_deterministic_and_batch_size_free(classifier, train):
    """Do repeated calls agree exactly, and other batch sizes or the default classifier agree closely?"""
    a, b = halves(train, seed=1)
    first = fid(a, b, classifier=classifier)
    assert fid(a, b, classifier=classifier) == first
    assert fid(a, b, classifier=classifier, batch_size=100) == pytest.approx(first, rel=1e-6)
    assert fid(a, b) == pytest.approx(first, rel=1e-9)


def test_reference_scales(classifier):
    """Are real-vs-real scales far below noise-vs-real?"""
    scales = reference_scales(classifier=classifier)
    assert set(scales) == {"train_halves", "train_vs_test", "noise_vs_train"}
    assert 0 < scales["train_halves"] < scales["train_vs_test"] < 10 < 100 < scales["noise_vs_train"]


@pytest.mark.parametrize(
    "a, match",
    [
        (torch.zeros(4, 1, 28, 28), r"images_a must have shape \(B, 1, 8, 8\)"),
        (torch.zeros(1, 1, 8, 8), "at least 2 images"),
        (torch.full((4, 1, 8, 8), float("nan")), "NaN"),
        (np.zeros((4, 1, 8, 8)), "torch.Tensor"),
    ],
)
def test_bad_inputs(classifier, a, match):
    """Do wrong shapes, too few images, NaNs and non-tensors raise ValueErrors?"""
    with pytest.raises(ValueError, match=match):
        fid(a, torch.zeros(4, 1, 8, 8), classifier=classifier)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu(classifier, train):
    """On CUDA tensors, does FID run and agree with the CPU value?"""
    a, b = halves(train)
    on_gpu = fid(a.cuda(), b.cuda())
    assert on_gpu == pytest.approx(fid(a, b, classifier=classifier), rel=1e-3)
