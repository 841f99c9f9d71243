"""The captioned datasets: make_shapes (one or two objects, splits) and make_captioned_digits."""

import pytest
import torch
import torch.nn.functional as F

from autograder.data import load_digits
from autograder.data.captioned import CaptionedBatch, make_captioned_digits, make_shapes
from autograder.data.captions import attributes_of_caption, digit_of_caption
from autograder.data.shapes import colour_rgb, is_held_out, render

LEFT, RIGHT, TOP, BOTTOM, CENTRE = range(5)


def same(a: CaptionedBatch, b: CaptionedBatch) -> bool:
    """Equal bytes, attributes and captions."""
    second = (a.second is None and b.second is None) or torch.equal(a.second, b.second)
    return (a.images.numpy().tobytes() == b.images.numpy().tobytes() and torch.equal(a.attributes, b.attributes)
            and a.captions == b.captions and second)


@pytest.mark.parametrize("two_objects", [False, True])
def test_deterministic_from_the_seed(two_objects):
    """Does the same seed give the same bytes, and another seed or split a different batch?"""
    batch = make_shapes(64, seed=3, two_objects=two_objects)
    assert same(batch, make_shapes(64, seed=3, two_objects=two_objects))
    for other in (make_shapes(64, seed=4, two_objects=two_objects),
                  make_shapes(64, seed=3, split="test", two_objects=two_objects)):
        assert not torch.equal(other.images, batch.images) and other.captions != batch.captions


@pytest.mark.parametrize("resolution", [8, 16, 32])
def test_shapes_dtypes_and_range(resolution):
    """Are images float32 (n, 3, R, R) in [-1, 1] on black, attributes int64 (n, 4) in range, n captions?"""
    batch = make_shapes(100, resolution=resolution, seed=0)
    assert isinstance(batch, CaptionedBatch) and len(batch) == 100 and batch.second is None
    assert batch.images.shape == (100, 3, resolution, resolution) and batch.images.dtype == torch.float32
    assert batch.images.min() == -1.0 and batch.images.max() <= 1.0
    assert (batch.images[:, :, 0, 0] == -1).all()  # the corners are background
    assert batch.attributes.shape == (100, 4) and batch.attributes.dtype == torch.int64
    assert (batch.attributes.min(dim=0).values >= 0).all()
    assert (batch.attributes.max(dim=0).values < torch.tensor([7, 7, 5, 2])).all()
    assert len(batch.captions) == 100 and all(isinstance(c, str) and c for c in batch.captions)
    empty = make_shapes(0, resolution=resolution)
    assert empty.images.shape == (0, 3, resolution, resolution) and empty.attributes.shape == (0, 4)


def test_images_match_attributes_and_captions():
    """Without jitter, is each image the rendering of its attributes, and each caption about them?"""
    batch = make_shapes(300, seed=1, jitter=False)
    assert torch.equal(batch.images, render(batch.attributes, 16))
    for row, caption in zip(batch.attributes.tolist(), batch.captions):
        assert attributes_of_caption(caption).tolist() == [row]


def test_jitter_keeps_colour_and_varies_the_picture():
    """With jitter, do pixels keep the object's colour while the picture moves away from the jitter-free one?"""
    batch = make_shapes(500, resolution=16, seed=2)
    rgb = colour_rgb()[batch.attributes[:, 1]].view(-1, 3, 1, 1)
    t = (batch.images.amax(dim=1, keepdim=True) + 1) / 2  # (n, 1, R, R) coverage
    assert torch.allclose(batch.images, -1 + t * (rgb + 1), atol=1e-6)
    moved = (batch.images != render(batch.attributes, 16)).flatten(1).any(dim=1)
    assert moved.float().mean() > 0.95


@pytest.mark.parametrize("two_objects", [False, True])
def test_splits_respect_the_held_out_rule(two_objects):
    """Does train (and test) never show a held-out combination, and heldout only them, in every object?"""
    for split, want in (("train", False), ("test", False), ("heldout", True)):
        batch = make_shapes(600, resolution=8, split=split, seed=0, two_objects=two_objects)
        objects = [batch.attributes] + ([batch.second] if two_objects else [])
        for attributes in objects:
            assert (is_held_out(attributes) == want).all(), split
    held = make_shapes(2000, resolution=8, split="heldout")
    assert len({tuple(r) for r in held.attributes.tolist()}) == 23  # all held-out tuples are drawn


def test_two_objects_are_opposite_and_apart():
    """Is the second object opposite the first, never overlapping it, and is each half of the image one colour?"""
    batch = make_shapes(200, resolution=32, seed=5, two_objects=True, jitter=False)
    first, second = batch.attributes, batch.second
    opposite = {LEFT: RIGHT, RIGHT: LEFT, TOP: BOTTOM, BOTTOM: TOP}
    assert all(opposite[p] == q for p, q in zip(first[:, 2].tolist(), second[:, 2].tolist()))
    one, two = render(first, 32), render(second, 32)
    assert not ((one > -1).any(dim=1) & (two > -1).any(dim=1)).any()  # no pixel holds both
    assert torch.equal(batch.images, one + two + 1)
    jittered = make_shapes(200, resolution=32, seed=5, two_objects=True)
    horizontal = jittered.attributes[:, 2] <= RIGHT  # (n,) left/right pairs split the width, top/bottom the height
    near_first = (jittered.attributes[:, 2] == LEFT) | (jittered.attributes[:, 2] == TOP)
    pixel = torch.arange(32)
    along = torch.where(horizontal.view(-1, 1, 1), pixel.view(1, 1, 32), pixel.view(1, 32, 1))  # (n, R, R)
    in_first_half = (along < 16) == near_first.view(-1, 1, 1)  # (n, R, R): where the first object must be
    rgb = colour_rgb()
    colour = torch.where(in_first_half.unsqueeze(1), rgb[jittered.attributes[:, 1]].view(-1, 3, 1, 1),
                         rgb[jittered.second[:, 1]].view(-1, 3, 1, 1))  # (n, 3, R, R)
    t = (jittered.images.amax(dim=1, keepdim=True) + 1) / 2
    assert torch.allclose(jittered.images, -1 + t * (colour + 1), atol=1e-6)
    for caption, a, b in zip(jittered.captions, jittered.attributes.tolist(), jittered.second.tolist()):
        assert attributes_of_caption(caption).tolist() == [a, b]


def test_resolution_scales_the_same_draw():
    """Do two resolutions of one seed draw the same tuples and captions, the larger pooling to the smaller?"""
    small, large = make_shapes(200, resolution=16, seed=7), make_shapes(200, resolution=64, seed=7)
    assert torch.equal(small.attributes, large.attributes) and small.captions == large.captions
    assert (F.avg_pool2d(large.images, 4) - small.images).abs().mean() < 0.01


def test_bad_arguments():
    """Are a bad n, resolution, split or seed refused with messages that name them?"""
    with pytest.raises(ValueError, match="n must be"):
        make_shapes(-1)
    with pytest.raises(ValueError, match="resolution must be"):
        make_shapes(4, resolution=7)
    with pytest.raises(ValueError, match="train, test, heldout"):
        make_shapes(4, split="all")
    with pytest.raises(ValueError, match="seed must be"):
        make_shapes(4, seed=-1)
    with pytest.raises(ValueError, match="no held-out"):
        make_captioned_digits(4, split="heldout")


def test_captioned_digits_are_the_digits():
    """At 8 px, are the captioned digits a seeded reordering of load_digits, 3 equal channels, captioned by label?"""
    batch = make_captioned_digits(1500, resolution=8, split="train", seed=0)
    pixels, labels = load_digits("train")
    assert batch.images.shape == (1500, 3, 8, 8) and batch.attributes.shape == (1500, 1)
    assert torch.equal(batch.images[:, 0], batch.images[:, 1]) and torch.equal(batch.images[:, 0], batch.images[:, 2])
    order = torch.randperm(1500, generator=torch.Generator().manual_seed(0))  # the documented stream of seed 0, train
    assert torch.equal(batch.images[:, :1], pixels[order]) and torch.equal(batch.attributes[:, 0], labels[order])
    assert [digit_of_caption(c) for c in batch.captions] == batch.attributes[:, 0].tolist()
    assert len(set(batch.captions)) > 50


def test_captioned_digits_upsample_and_cycle():
    """At 16 px, are the digits in [-1, 1], pooling back to the 8x8 image's mean, and does n > N cycle?"""
    batch = make_captioned_digits(400, resolution=16, split="test", seed=1)
    assert batch.images.shape == (400, 3, 16, 16) and batch.images.min() >= -1 and batch.images.max() <= 1
    assert torch.equal(batch.images[297:], batch.images[:103])
    assert torch.equal(batch.attributes[297:], batch.attributes[:103])
    small = make_captioned_digits(400, resolution=8, split="test", seed=1)
    assert torch.allclose(batch.images.mean(dim=(2, 3)), small.images.mean(dim=(2, 3)), atol=0.05)
    again = make_captioned_digits(400, resolution=16, split="test", seed=1)
    assert torch.equal(again.images, batch.images) and again.captions == batch.captions
