"""The shipped attribute classifiers on procedural shapes (16 and 32 px) and their training script."""

import importlib.util
from pathlib import Path

import pytest
import torch

from autograder.data import make_shapes, render
from autograder.metrics import ShapesClassifier, attribute_accuracy, load_shapes_classifier
from autograder.metrics.shapes_classifier import FEATURE_DIM, RESOLUTIONS, read_metadata, weights_path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "train_shapes_classifier.py"


def training_script():
    """scripts/train_shapes_classifier.py as a module."""
    spec = importlib.util.spec_from_file_location("train_shapes_classifier", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("resolution", RESOLUTIONS)
def test_weights_are_small_safetensors_with_metadata(resolution):
    """Is each shipped file a safetensors file (no pickle) under 1 MB whose metadata names its provenance?"""
    path = weights_path(resolution)
    raw = path.read_bytes()
    header_len = int.from_bytes(raw[:8], "little")
    assert len(raw) < 1_000_000 and raw[8:9] == b"{" and 8 + header_len < len(raw)
    meta = read_metadata(path)
    assert meta["resolution"] == resolution and meta["feature_dim"] == FEATURE_DIM
    assert meta["script"] == "scripts/train_shapes_classifier.py" and meta["torch"]
    assert {"steps", "seed", "accuracy"} <= set(meta) and set(meta["accuracy"]) == {"test", "heldout"}


@pytest.mark.parametrize("resolution", RESOLUTIONS)
def test_loaded_classifier_shapes(resolution):
    """Is the loaded classifier frozen, in eval mode, with features (B, D), four logits and (B, 4) predictions?"""
    model = load_shapes_classifier(resolution)
    assert isinstance(model, ShapesClassifier) and not model.training
    assert not any(p.requires_grad for p in model.parameters())
    x = make_shapes(5, resolution=resolution, seed=3).images
    assert model.features(x).shape == (5, FEATURE_DIM)
    assert [tuple(logits.shape) for logits in model(x)] == [(5, 7), (5, 7), (5, 5), (5, 2)]
    predicted = model.predict(x)
    assert predicted.dtype == torch.int64 and predicted.shape == (5, 4)


@pytest.mark.parametrize("resolution", RESOLUTIONS)
@pytest.mark.parametrize("split", ["test", "heldout"])
def test_shipped_classifiers_reach_their_recorded_accuracy(resolution, split):
    """On a fresh batch (not the one recorded), is every attribute within 0.02 of the recorded accuracy?"""
    recorded = read_metadata(weights_path(resolution))["accuracy"][split]
    batch = make_shapes(1000, resolution=resolution, split=split, seed=77)
    fresh = attribute_accuracy(batch.images, batch.attributes)
    for name, value in recorded.items():
        assert fresh[name] >= value - 0.02, name
    if split == "test":  # the target of the classifier
        assert min(recorded.values()) >= 0.97


@pytest.mark.parametrize("resolution", RESOLUTIONS)
def test_wrong_image_shapes_are_refused(resolution):
    """Do images of another resolution, channel count or rank raise a ValueError naming the expected shape?"""
    model = load_shapes_classifier(resolution)
    expected = rf"\(B, 3, {resolution}, {resolution}\)"
    r = resolution
    for bad in (torch.zeros(2, 3, 24, 24), torch.zeros(2, 1, r, r), torch.zeros(3, r, r)):
        with pytest.raises(ValueError, match=expected):
            model.features(bad)


def test_missing_or_mismatched_weights_are_refused(tmp_path):
    """Does a missing file name the training script, and a file of the other resolution or an odd one raise?"""
    with pytest.raises(FileNotFoundError, match="scripts/train_shapes_classifier.py"):
        load_shapes_classifier(16, weights=tmp_path / "missing.safetensors")
    with pytest.raises(ValueError, match="resolution 32, not 16"):
        load_shapes_classifier(16, weights=weights_path(32))
    with pytest.raises(ValueError, match=r"\(16, 32\)"):
        load_shapes_classifier(24)


def test_colour_augmentation_renders_the_permuted_colour():
    """Is a channel-permuted training image the rendering of the permuted colour label?"""
    script = training_script()
    batch = make_shapes(300, resolution=16, seed=5, jitter=False)
    images, attributes = script.permute_colours(batch.images, batch.attributes, torch.Generator().manual_seed(0))
    assert torch.equal(images, render(attributes, 16))
    assert torch.equal(attributes[:, [0, 2, 3]], batch.attributes[:, [0, 2, 3]])
    assert (attributes[:, 1] != batch.attributes[:, 1]).any()


def test_training_is_reproducible():
    """Do two short training runs from one seed give identical weights?"""
    script = training_script()
    torch.set_num_threads(1)
    runs = [script.train(16, steps=3, batch_size=16, seed=1, log_every=10**9).state_dict() for _ in range(2)]
    assert runs[0].keys() == runs[1].keys()
    assert all(torch.equal(runs[0][key], runs[1][key]) for key in runs[0])
