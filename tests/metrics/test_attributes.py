"""Attribute (prompt) accuracy of shape images with the shipped classifiers."""

import pytest
import torch

from autograder.data import COLOURS, make_shapes
from autograder.metrics import attribute_accuracy, load_shapes_classifier

NAMES = {"shape", "colour", "position", "size", "all"}


@pytest.fixture(scope="module")
def batch16():
    return make_shapes(500, resolution=16, split="test", seed=11)


def test_real_images_read_right(batch16):
    """Are the attributes of real test images read right (>= 0.97 each), with "all" at most the lowest?"""
    accuracy = attribute_accuracy(batch16.images, batch16.attributes)
    assert set(accuracy) == NAMES
    assert min(accuracy.values()) >= 0.97
    assert accuracy["all"] <= min(accuracy[name] for name in NAMES - {"all"})


def test_wrong_labels_in_one_column_score_zero_there(batch16):
    """With every colour label moved to the next colour, is colour accuracy 0, "all" 0 and the rest unchanged?"""
    right = attribute_accuracy(batch16.images, batch16.attributes)
    wrong = batch16.attributes.clone()
    wrong[:, 1] = (wrong[:, 1] + 1) % len(COLOURS)
    accuracy = attribute_accuracy(batch16.images, wrong)
    assert accuracy["colour"] <= 0.03 and accuracy["all"] <= 0.03
    for name in ("shape", "position", "size"):
        assert accuracy[name] == right[name]


def test_swapped_channels_are_caught(batch16):
    """With red and blue swapped, is colour right only for the colours the swap keeps (green, magenta, white)?"""
    swapped = batch16.images[:, [2, 1, 0]]
    kept = torch.isin(batch16.attributes[:, 1], torch.tensor([COLOURS.index(c) for c in ("green", "magenta", "white")]))
    accuracy = attribute_accuracy(swapped, batch16.attributes)
    assert accuracy["colour"] == pytest.approx(kept.double().mean().item(), abs=0.03)
    assert accuracy["shape"] >= 0.95 and accuracy["position"] >= 0.97


def test_32px_and_explicit_classifier_and_batches_agree():
    """At 32 px, do the default classifier, an explicit one and small batches give the same figures?"""
    batch = make_shapes(200, resolution=32, split="test", seed=12)
    default = attribute_accuracy(batch.images, batch.attributes)
    explicit = attribute_accuracy(batch.images, batch.attributes, classifier=load_shapes_classifier(32), batch_size=17)
    assert default == explicit and default["all"] >= 0.95


def test_classifier_mode_is_restored(batch16):
    """Does a classifier in training mode come back in training mode?"""
    model = load_shapes_classifier(16)
    model.train()
    attribute_accuracy(batch16.images[:10], batch16.attributes[:10], classifier=model)
    assert model.training


def test_bad_inputs(batch16):
    """Do a classifier of another resolution, a row count mismatch, bad attributes and NaNs raise ValueErrors?"""
    x, a = batch16.images[:8], batch16.attributes[:8]
    with pytest.raises(ValueError, match="reads 32 px"):
        attribute_accuracy(x, a, classifier=load_shapes_classifier(32))
    with pytest.raises(ValueError, match="one row per image"):
        attribute_accuracy(x, a[:5])
    with pytest.raises(ValueError, match="int64"):
        attribute_accuracy(x, a.float())
    with pytest.raises(ValueError, match="NaN"):
        attribute_accuracy(torch.full_like(x, float("nan")), a)
