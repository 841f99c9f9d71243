"""The novelty check of the quality tests: distances to the nearest training image and copies."""

import pytest
import torch

from autograder.metrics import novelty as nov


def _brute_force(samples: torch.Tensor, train: torch.Tensor) -> torch.Tensor:
    """The nearest distance by a Python loop over pairs, in float64."""
    out = []
    for s in samples.double():
        out.append(min(float(((s - t.double()) ** 2).sum().sqrt()) for t in train))
    return torch.tensor(out, dtype=torch.float64)


def test_nearest_distances_match_a_loop_over_pairs():
    """Are the distances those of a loop over every (sample, training image) pair?"""
    g = torch.Generator().manual_seed(0)
    train = torch.rand((30, 1, 4, 4), generator=g) * 2 - 1
    samples = torch.rand((12, 1, 4, 4), generator=g) * 2 - 1
    got = nov.nearest_train_distances(samples, train)
    assert got.dtype == torch.float64 and got.shape == (12,)
    torch.testing.assert_close(got, _brute_force(samples, train), rtol=1e-10, atol=1e-10)


def test_nearest_distances_in_blocks(monkeypatch):
    """Does a set larger than one block give the distances of one block?"""
    g = torch.Generator().manual_seed(1)
    train = torch.randn((20, 1, 3, 3), generator=g)
    samples = torch.randn((11, 1, 3, 3), generator=g)
    whole = nov.nearest_train_distances(samples, train)
    monkeypatch.setattr(nov, "_CHUNK", 4)
    torch.testing.assert_close(nov.nearest_train_distances(samples, train), whole, rtol=0, atol=0)


def test_copies_and_mean_distance():
    """Exact copies count as copies at distance 0; a sample 0.5 away from every pixel of its image does not."""
    train = torch.stack([torch.full((1, 2, 2), v) for v in (-1.0, 0.0, 1.0)])  # (3, 1, 2, 2)
    samples = torch.cat([train[:2], train[2:] - 0.5])  # two copies, one at distance sqrt(4 * 0.25) = 1
    result = nov.novelty(samples, train)
    assert result.copy_fraction == pytest.approx(2 / 3)
    assert result.mean_distance == pytest.approx(1 / 3)
    assert not result.is_new(min_mean_distance=0.1)
    assert "67% are copies" in result.describe(0.1) and "training images" in result.describe(0.1)


def test_is_new_needs_both_conditions():
    """Is a set new only when it has few copies and a mean distance at least the bound?"""
    assert nov.Novelty(mean_distance=2.0, copy_fraction=0.0).is_new(1.0)
    assert not nov.Novelty(mean_distance=0.9, copy_fraction=0.0).is_new(1.0)
    assert not nov.Novelty(mean_distance=2.0, copy_fraction=0.02).is_new(1.0)
    assert nov.Novelty(mean_distance=2.0, copy_fraction=0.01).is_new(1.0)  # at most MAX_COPY_FRACTION


def test_digits_test_split_is_new_and_train_split_is_not():
    """On the real digits: the test split keeps its distance (about 2.1), the train split is all copies."""
    from autograder.data import load_digits

    train, test = load_digits("train")[0], load_digits("test")[0]
    assert nov.novelty(test, train).is_new(1.0)
    copies = nov.novelty(train[:100], train)
    assert copies.copy_fraction == 1.0 and copies.mean_distance == 0.0


def test_other_image_shapes_are_refused():
    """Are samples of another image shape refused, naming both shapes?"""
    with pytest.raises(ValueError, match=r"\(1, 8, 8\).*\(1, 4, 4\)"):
        nov.nearest_train_distances(torch.zeros(2, 1, 8, 8), torch.zeros(3, 1, 4, 4))
