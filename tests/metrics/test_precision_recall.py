"""Improved precision and recall (Kynkaanniemi et al. 2019) on features and on shape images."""

import importlib

import numpy as np
import pytest
import torch

from autograder.data import make_shapes
from autograder.metrics import load_shapes_classifier, precision_recall, shapes_precision_recall

pr_module = importlib.import_module("autograder.metrics.precision_recall")  # the name alone is the function


def brute_force(real: np.ndarray, fake: np.ndarray, k: int) -> tuple[float, float]:
    """Precision and recall by loops over points, with numpy norms of differences."""
    def radii(x):
        return [sorted(np.linalg.norm(x[i] - x[j]) for j in range(len(x)) if j != i)[k - 1] for i in range(len(x))]

    def share_inside(points, centres, r):
        return float(np.mean([any(np.linalg.norm(p - c) <= rc for c, rc in zip(centres, r)) for p in points]))

    return share_inside(fake, real, radii(real)), share_inside(real, fake, radii(fake))


def clusters(centres: np.ndarray, per_cluster: int, seed: int, spread: float = 0.3) -> np.ndarray:
    """``per_cluster`` Gaussian points around each of ``centres`` ``(C, D)``: ``(C * per_cluster, D)``."""
    rng = np.random.default_rng(seed)
    return np.concatenate([c + spread * rng.standard_normal((per_cluster, centres.shape[1])) for c in centres])


@pytest.mark.parametrize("k", [1, 3, 5])
def test_matches_a_brute_force_loop(k):
    """Do precision and recall equal those of a loop over every pair, for overlapping sets with duplicates?"""
    rng = np.random.default_rng(k)
    real = rng.standard_normal((60, 4))
    fake = np.concatenate([1.0 + 1.5 * rng.standard_normal((40, 4)), real[:5]])  # shifted, wider, 5 copies
    real[10] = real[11]  # a duplicate inside the real set: its neighbour at distance 0 counts
    got = precision_recall(real, fake, k=k)
    expected = brute_force(real, fake, k)
    assert got == pytest.approx(expected, abs=1e-12)
    assert 0 < got[0] < 1 and 0 < got[1] < 1  # the case is not degenerate


def test_blocks_give_the_same_answer(monkeypatch):
    """Does a set larger than one distance block give the figures of one block?"""
    rng = np.random.default_rng(0)
    real, fake = rng.standard_normal((50, 3)), 0.5 + rng.standard_normal((30, 3))
    whole = precision_recall(real, fake)
    monkeypatch.setattr(pr_module, "_CHUNK", 7)
    assert precision_recall(real, fake) == whole


def test_identical_sets_score_one_one():
    """Is a set against itself at precision 1 and recall 1?"""
    x = np.random.default_rng(1).standard_normal((100, 8))
    assert precision_recall(x, x.copy()) == (1.0, 1.0)


def test_far_disjoint_clusters_score_zero_zero():
    """Are two clusters far apart at precision 0 and recall 0?"""
    real = clusters(np.zeros((1, 8)), 200, seed=2)
    fake = clusters(np.full((1, 8), 50.0), 200, seed=3)
    assert precision_recall(real, fake) == (0.0, 0.0)


def test_half_of_the_modes():
    """Does a fake set that covers half of the real modes score precision ~1 and recall ~0.5?"""
    centres = np.zeros((10, 2))
    centres[:, 0] = 20.0 * np.arange(10)  # 10 modes in the plane, 20 apart (spread 0.3)
    real = clusters(centres, 100, seed=4)  # (1000, 2)
    fake = clusters(centres[:5], 200, seed=5)  # (1000, 2), modes 0..4 only
    precision, recall = precision_recall(real, fake)
    assert precision > 0.95  # the k-NN balls miss a few points at a mode's rim
    assert 0.45 < recall <= 0.5


def test_a_point_on_the_edge_of_a_ball_is_inside():
    """With k = 1 on the integers 0..3 (every radius 1), is 4 inside the real manifold and 4.5 outside?"""
    real = np.arange(4.0).reshape(-1, 1)
    assert precision_recall(real, np.array([[4.0], [5.0], [6.0]]), k=1)[0] == pytest.approx(1 / 3)
    assert precision_recall(real, np.array([[4.5], [5.5], [6.5]]), k=1)[0] == 0.0


def test_numpy_and_torch_agree():
    """Do numpy arrays, float32 tensors and float64 tensors give the same figures?"""
    rng = np.random.default_rng(6)
    real, fake = rng.standard_normal((40, 5)), rng.standard_normal((30, 5)) + 0.3
    from_numpy = precision_recall(real, fake)
    assert precision_recall(torch.from_numpy(real), torch.from_numpy(fake)) == from_numpy
    assert precision_recall(torch.from_numpy(real).float(), torch.from_numpy(fake).float()) == pytest.approx(
        from_numpy, abs=0.05)


@pytest.mark.parametrize(
    "real, fake, k, match",
    [
        (np.zeros((3, 2)), np.zeros((10, 2)), 3, "more than k = 3"),
        (np.zeros((10, 2)), np.zeros((10, 3)), 3, "one dimension"),
        (np.zeros((10,)), np.zeros((10, 2)), 3, r"shape \(N, D\)"),
        (np.full((10, 2), np.nan), np.zeros((10, 2)), 3, "NaN"),
        (np.zeros((10, 2)), np.zeros((10, 2)), 0, "positive int"),
        ([[0.0, 1.0]] * 10, np.zeros((10, 2)), 3, "array or tensor"),
    ],
)
def test_bad_inputs(real, fake, k, match):
    """Do too few points, mismatched dimensions, NaNs, a bad k and lists raise ValueErrors?"""
    with pytest.raises(ValueError, match=match):
        precision_recall(real, fake, k=k)


@pytest.fixture(scope="module")
def train16() -> torch.Tensor:
    return make_shapes(2000, resolution=16, split="train", seed=0).images  # (2000, 3, 16, 16)


def test_real_shapes_high_noise_zero(train16):
    """At 1000 vs 2000 images, do real test images score >= 0.9 on both and noise 0 on both?"""
    classifier = load_shapes_classifier(16)
    test = make_shapes(1000, resolution=16, split="test", seed=0).images
    noise = torch.randn(test.shape, generator=torch.Generator().manual_seed(0)).clamp(-1, 1)
    precision, recall = shapes_precision_recall(train16, test, classifier=classifier)
    assert precision >= 0.9 and recall >= 0.9
    assert shapes_precision_recall(train16, noise, classifier=classifier) == (0.0, 0.0)


def test_dropping_shapes_lowers_recall_not_precision(train16):
    """Do real images of only 3 of the 7 shapes keep a high precision and lose recall?"""
    test = make_shapes(3000, resolution=16, split="test", seed=1)
    few = test.images[test.attributes[:, 0] < 3][:1000]  # circles, squares and triangles
    precision, recall = shapes_precision_recall(train16, few)
    assert precision >= 0.9
    assert recall < 0.6


def test_shape_images_are_checked(train16):
    """Do images of two resolutions, or of an unsupported one, raise ValueErrors?"""
    with pytest.raises(ValueError, match="16 px"):
        shapes_precision_recall(train16, torch.zeros(10, 3, 32, 32))
    with pytest.raises(ValueError, match="resolutions"):
        shapes_precision_recall(torch.zeros(10, 3, 24, 24), torch.zeros(10, 3, 24, 24))
