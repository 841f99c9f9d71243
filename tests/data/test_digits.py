"""The embedded digits dataset and the offline-only dataset loader."""

import os
import socket
import struct
import subprocess
import sys
import urllib.request

import numpy as np
import pytest
import torch

from autograder.data import DatasetNotFound, load_dataset, load_digits, split_indices
from autograder.data.digits import ARCHIVE

SIZES = {"train": 1500, "test": 297, "all": 1797}


@pytest.mark.parametrize("split", list(SIZES))
def test_shapes_range_and_labels(split):
    """Does each split have the documented size, (N, 1, 8, 8) images in [-1, 1] and int64 labels 0..9?"""
    x, y = load_digits(split)
    n = SIZES[split]
    assert x.shape == (n, 1, 8, 8) and x.dtype == torch.float32 and x.device.type == "cpu"
    assert y.shape == (n,) and y.dtype == torch.int64
    assert x.min().item() == -1.0 and x.max().item() == 1.0
    assert set(y.tolist()) == set(range(10))


def test_pixels_are_the_seventeen_levels():
    """Are image values exactly p / 8 - 1 for integer p in 0..16, in float64 too?"""
    x, _ = load_digits("all", dtype=torch.float64)
    assert x.dtype == torch.float64
    p = (x + 1) * 8
    assert torch.equal(p, p.round()) and p.min() == 0 and p.max() == 16


def test_split_is_deterministic_and_fresh():
    """Do two calls return equal tensors that do not share memory?"""
    x1, y1 = load_digits("train")
    x1[0] = 5.0
    x2, y2 = load_digits("train")
    x3, y3 = load_digits("train")
    assert torch.equal(x2, x3) and torch.equal(y1, y2) and torch.equal(y2, y3)
    assert x2[0].max() <= 1.0


def test_splits_are_disjoint_and_cover_all():
    """Are train and test disjoint, together all 1797 images, and slices of "all"?"""
    train_i, test_i = split_indices("train"), split_indices("test")
    assert len(np.intersect1d(train_i, test_i)) == 0
    assert np.array_equal(np.union1d(train_i, test_i), np.arange(1797))
    x_all, y_all = load_digits("all")
    for split, index in (("train", train_i), ("test", test_i)):
        x, y = load_digits(split)
        assert torch.equal(x, x_all[index]) and torch.equal(y, y_all[index])


def test_split_follows_the_documented_rule():
    """Is the test split the last 297 indices of RandomState(0).permutation(1797)?"""
    perm = np.random.RandomState(0).permutation(1797)
    assert np.array_equal(split_indices("test"), np.sort(perm[1500:]))


def test_shipped_array_matches_its_source():
    """Does the .npz hold scikit-learn's copy of the UCI digits, as uint8?"""
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    source = sklearn_datasets.load_digits()
    with np.load(ARCHIVE, allow_pickle=False) as archive:
        assert archive["images"].dtype == np.uint8 and archive["labels"].dtype == np.uint8
        assert np.array_equal(archive["images"], source.images)
        assert np.array_equal(archive["labels"], source.target)


def test_loader_does_not_import_sklearn():
    """Does loading the digits work without importing scikit-learn (not a runtime dependency)?"""
    code = ("import sys; from autograder.data import load_digits; load_digits('all'); "
            "sys.exit(int(any(m == 'sklearn' or m.startswith('sklearn.') for m in sys.modules)))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    assert subprocess.run([sys.executable, "-c", code], env=env, timeout=120).returncode == 0


@pytest.mark.parametrize("bad", ["validation", "Train", ""])
def test_unknown_split(bad):
    """Does an unknown split raise a ValueError that lists the valid ones?"""
    with pytest.raises(ValueError, match="train, test, all"):
        load_digits(bad)


def test_unknown_dataset_and_dtype():
    """Do an unknown dataset name and a non-float dtype raise ValueErrors?"""
    with pytest.raises(ValueError, match="digits, mnist, cifar10"):
        load_dataset("imagenet")
    with pytest.raises(ValueError, match="floating"):
        load_digits("train", dtype=torch.int64)


def test_load_dataset_digits_is_load_digits():
    """Does load_dataset("digits") return what load_digits returns?"""
    for a, b in zip(load_dataset("digits", split="test"), load_digits("test")):
        assert torch.equal(a, b)


@pytest.fixture
def no_network(monkeypatch):
    """Make every download path raise, so a test fails if one is tried."""
    import torchvision.datasets.utils as tv_utils

    def refuse(*args, **kwargs):
        raise AssertionError("a download was attempted")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    for name in ("download_url", "download_and_extract_archive", "download_file_from_google_drive"):
        monkeypatch.setattr(tv_utils, name, refuse)


@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_missing_torchvision_set_is_not_downloaded(name, tmp_path, no_network):
    """With an empty root, is DatasetNotFound raised naming the place, with nothing fetched or written?"""
    with pytest.raises(DatasetNotFound, match="Nothing is downloaded") as info:
        load_dataset(name, root=tmp_path, split="train")
    assert str(tmp_path) in str(info.value)
    assert ("MNIST/raw" if name == "mnist" else "cifar-10-batches-py") in str(info.value)
    assert list(tmp_path.iterdir()) == []
    assert isinstance(info.value, FileNotFoundError)


def test_missing_root_folder_and_default_root(tmp_path, monkeypatch, no_network):
    """Is a missing folder reported, and is $DIFFGRADE_DATA the default root?"""
    monkeypatch.setenv("DIFFGRADE_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(DatasetNotFound, match="does not exist") as info:
        load_dataset("mnist")
    assert str(tmp_path / "nowhere") in str(info.value)
    assert not (tmp_path / "nowhere").exists()


def _write_idx(path, array: np.ndarray) -> None:
    """Write ``array`` (uint8) in MNIST's IDX format."""
    magic = 0x0800 + array.ndim  # unsigned byte, ndim dimensions
    path.write_bytes(struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes())


def test_mnist_on_disk_is_read_and_scaled(tmp_path, no_network):
    """With MNIST's files under root, are images (N, 1, 28, 28) in [-1, 1] with int64 labels?"""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    counts = {"train": 5, "t10k": 3}
    for prefix, n in counts.items():
        pixels = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        pixels[0, 0, 0], pixels[0, 0, 1] = 0, 255
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", pixels)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n, dtype=np.uint8))
    x, y = load_dataset("mnist", root=tmp_path, split="test")
    assert x.shape == (3, 1, 28, 28) and x.dtype == torch.float32
    assert x.min().item() == -1.0 and x.max().item() == 1.0
    assert y.dtype == torch.int64 and y.tolist() == [0, 1, 2]
    x_all, y_all = load_dataset("mnist", root=tmp_path, split="all")
    assert x_all.shape == (8, 1, 28, 28) and torch.equal(x_all[5:], x) and y_all.tolist() == [0, 1, 2, 3, 4, 0, 1, 2]
