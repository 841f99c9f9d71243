"""The shapes renderer: geometry, colours, layout and the held-out combinations.

The expected values are written out here from the documented geometry (areas
of a disc, a triangle, a cross...), not read from the module's tables.
"""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from autograder.data.shapes import (ATTRIBUTES, COLOURS, HELD_OUT, POSITIONS, SHAPES, SIZES, all_tuples,
                                    attribute_tuples, colour_rgb, is_held_out, layout, render, shape_coverage)

RGB = {"red": (1, 0, 0), "green": (0, 1, 0), "blue": (0, 0, 1), "yellow": (1, 1, 0), "magenta": (1, 0, 1),
       "cyan": (0, 1, 1), "white": (1, 1, 1)}  # in [0, 1]
ANCHORS = {"left": (0.25, 0.5), "right": (0.75, 0.5), "top": (0.5, 0.25), "bottom": (0.5, 0.75), "centre": (0.5, 0.5)}
HALF_EXTENT = {"small": 0.11, "large": 0.22}  # a / R
ARM, INNER, STAR_INNER = 1 / 3, 1 / 2, 1 / 2
# Area of each shape over the area (2a)^2 of its box, from elementary geometry.
BOX_FILL = {
    "circle": math.pi / 4,
    "square": 1.0,
    "triangle": 1 / 2,  # base 2a, height 2a
    "cross": 2 * ARM - ARM**2,  # two 2a x 2wa bars overlapping in a 2wa square, over 4a^2
    "diamond": 1 / 2,
    "ring": math.pi * (1 - INNER**2) / 4,
    "star": 10 * (0.5 * 1 * STAR_INNER * math.sin(math.pi / 5)) / 4,  # ten triangles centre-point-corner
}
# Centroid below the box's centre, in units of a: a triangle's lies a third of the way up from its base.
CENTROID_DOWN = {name: (1 / 3 if name == "triangle" else 0.0) for name in BOX_FILL}
HOLLOW = {name: name == "ring" for name in BOX_FILL}
# The documented held-out list, as (shape, colour, position, size) with None for "any".
HELD = [("triangle", "blue", None, None), ("cross", "green", "top", "large"), ("circle", "yellow", "right", None),
        ("ring", "red", None, "small"), ("star", "cyan", "left", None), ("square", "magenta", "centre", "large"),
        ("diamond", "white", "bottom", None)]


def rows(*names: tuple[str, str, str, str]) -> torch.Tensor:
    """Attribute rows ``(n, 4)`` from names."""
    tables = (SHAPES, COLOURS, POSITIONS, SIZES)
    return torch.tensor([[t.index(v) for t, v in zip(tables, row)] for row in names], dtype=torch.int64)


def coverage_of(images: torch.Tensor) -> torch.Tensor:
    """Coverage ``(n, R, R)`` read from images of one object on black: the largest channel, mapped to [0, 1]."""
    return (images.amax(dim=1) + 1) / 2


def test_tables():
    """Are there at least 6 well-separated colours, at least 7 shapes, the 5 positions and 2 sizes, in [-1, 1]?"""
    assert ATTRIBUTES == ("shape", "colour", "position", "size")
    assert set(SHAPES) == set(BOX_FILL) and set(COLOURS) == set(RGB)
    assert POSITIONS == tuple(ANCHORS) and SIZES == ("small", "large")
    rgb = colour_rgb()
    assert rgb.dtype == torch.float32 and rgb.shape == (len(COLOURS), 3)
    assert torch.equal(rgb, torch.tensor([RGB[c] for c in COLOURS], dtype=torch.float32) * 2 - 1)
    distances = torch.cdist(rgb, rgb) + torch.eye(len(COLOURS)) * 9
    assert distances.min() >= 2.0  # 1 in [0, 1] units


@pytest.mark.parametrize("colour", list(RGB))
def test_object_pixels_have_its_colour(colour):
    """Is every object pixel on the segment from black to the colour, and the covered interior exactly the colour?"""
    names = [(shape, colour, "centre", "large") for shape in SHAPES]
    images = render(rows(*names), 32)  # (7, 3, 32, 32)
    target = torch.tensor(RGB[colour], dtype=torch.float32).view(1, 3, 1, 1)
    t = coverage_of(images).unsqueeze(1)  # (7, 1, R, R) fraction of the way from black
    assert torch.allclose(images, -1 + 2 * t * target, atol=1e-6)
    square = images[SHAPES.index("square")]
    assert torch.equal(square[:, 16, 16], target.view(3) * 2 - 1)
    assert t.amin() == 0.0 and (t > 0).any(dim=(1, 2, 3)).all()


def test_area_matches_geometry():
    """At 128 px, does each shape cover the fraction of its box that geometry predicts (pi/4, 1, 1/2, ...)?"""
    resolution = 128
    images = render(rows(*[(s, "white", "centre", "large") for s in SHAPES]), resolution)
    box = (2 * HALF_EXTENT["large"] * resolution) ** 2
    fill = coverage_of(images).sum(dim=(1, 2)) / box
    for name, measured in zip(SHAPES, fill.tolist()):
        assert measured == pytest.approx(BOX_FILL[name], abs=0.01), name


def test_centroid_and_hole():
    """Does only the triangle's centroid sit a/3 below its centre, and only the ring have an empty centre?"""
    resolution = 128
    images = render(rows(*[(s, "white", "centre", "large") for s in SHAPES]), resolution)
    cover = coverage_of(images)  # (7, R, R)
    pixel = torch.arange(resolution, dtype=torch.float32) + 0.5
    a = HALF_EXTENT["large"] * resolution
    down = ((cover.sum(dim=2) * pixel).sum(dim=1) / cover.sum(dim=(1, 2)) - resolution / 2) / a
    right = ((cover.sum(dim=1) * pixel).sum(dim=1) / cover.sum(dim=(1, 2)) - resolution / 2) / a
    middle = cover[:, 62:66, 62:66].mean(dim=(1, 2))  # the 4 x 4 pixels around the centre
    for k, name in enumerate(SHAPES):
        assert down[k].item() == pytest.approx(CENTROID_DOWN[name], abs=0.01), name
        assert right[k].item() == pytest.approx(0.0, abs=0.01), name
        assert middle[k].item() == (0.0 if HOLLOW[name] else 1.0), name


def test_shapes_have_distinct_signatures():
    """Do the predicted (fill, centroid, hollow) signatures of any two shapes differ by more than the 0.01 tolerance?"""
    for s, t in itertools.combinations(SHAPES, 2):
        gap = max(abs(BOX_FILL[s] - BOX_FILL[t]), abs(CENTROID_DOWN[s] - CENTROID_DOWN[t]), HOLLOW[s] != HOLLOW[t])
        assert gap > 0.03, (s, t)


@pytest.mark.parametrize("resolution, size, least", [(16, "large", 4.0), (16, "small", 0.5), (32, "small", 4.0)])
def test_shapes_differ_at_small_resolutions(resolution, size, least):
    """At each position, do any two shapes differ by at least ``least`` pixels of coverage (summed |difference|)?"""
    names = [(s, "red", p, size) for s in SHAPES for p in POSITIONS]
    cover = coverage_of(render(rows(*names), resolution)).view(len(SHAPES), len(POSITIONS), -1)
    for i, j in itertools.combinations(range(len(SHAPES)), 2):
        assert (cover[i] - cover[j]).abs().sum(dim=-1).min() >= least, (SHAPES[i], SHAPES[j])


def test_position_by_centre_of_mass():
    """With jitter, is each object's centre of mass nearest its position's anchor, within 0.1 of the width?"""
    resolution = 32
    attributes = all_tuples()  # every shape, colour, position and size
    images = render(attributes, resolution, generator=torch.Generator().manual_seed(0), jitter=True)
    cover = coverage_of(images)
    pixel = (torch.arange(resolution, dtype=torch.float32) + 0.5) / resolution
    mass = cover.sum(dim=(1, 2))
    x = (cover.sum(dim=1) * pixel).sum(dim=1) / mass
    y = (cover.sum(dim=2) * pixel).sum(dim=1) / mass
    anchors = torch.tensor(list(ANCHORS.values()))  # (5, 2)
    distance = torch.cdist(torch.stack([x, y], dim=1), anchors)  # (490, 5)
    assert torch.equal(distance.argmin(dim=1), attributes[:, 2])
    assert distance.min(dim=1).values.max() < 0.1


def test_size_by_area():
    """Is a large object's area 4 times a small one's for every shape, and larger than any small one under jitter?"""
    small = render(rows(*[(s, "green", "centre", "small") for s in SHAPES]), 128)
    large = render(rows(*[(s, "green", "centre", "large") for s in SHAPES]), 128)
    ratio = coverage_of(large).sum(dim=(1, 2)) / coverage_of(small).sum(dim=(1, 2))
    assert torch.allclose(ratio, torch.full_like(ratio, 4.0), rtol=0.03)
    attributes = all_tuples()
    cover = coverage_of(render(attributes, 32, generator=torch.Generator().manual_seed(1), jitter=True))
    for k, name in enumerate(SHAPES):
        area = cover[attributes[:, 0] == k].sum(dim=(1, 2))
        size = attributes[attributes[:, 0] == k, 3]
        assert area[size == 1].min() > area[size == 0].max(), name


def test_objects_stay_inside_the_image():
    """Under jitter, does a large square at each edge position keep its whole area (2a)^2 inside the image?"""
    resolution = 32
    attributes = rows(*[("square", "white", p, "large") for p in POSITIONS for _ in range(40)])
    generator = torch.Generator().manual_seed(2)
    centre, half = layout(attributes, generator, jitter=True)
    cover = shape_coverage(attributes[:, 0], centre, half, resolution)
    area = (2 * half * resolution) ** 2
    assert torch.allclose(cover.sum(dim=(1, 2)), area, rtol=0.03)
    assert (half < HALF_EXTENT["large"] + 1e-7).all() and (half >= 0.9 * HALF_EXTENT["large"] - 1e-7).all()


@pytest.mark.parametrize("resolution", [16, 32, 64])
def test_resolution_scaling(resolution):
    """Does an image at R look like the 128 px image average-pooled to R (sizes and positions scale with R)?"""
    attributes = all_tuples()[::7]
    fine = render(attributes, 128)
    coarse = render(attributes, resolution)
    assert coarse.shape == (len(attributes), 3, resolution, resolution)
    pooled = F.avg_pool2d(fine, 128 // resolution)
    assert (pooled - coarse).abs().mean() < 0.01 and (pooled - coarse).abs().max() < 0.4
    fraction = coverage_of(coarse).sum(dim=(1, 2)) / resolution**2
    # 4 x 4 samples per pixel: a small cross's arm at 16 px is ~1 pixel wide, so its area is off by up to ~13 %
    assert torch.allclose(fraction, coverage_of(fine).sum(dim=(1, 2)) / 128**2, rtol=3 / resolution)


def test_held_out_list_is_the_documented_one():
    """Is a tuple held out exactly when it matches an entry of the documented list?"""
    tuples = all_tuples()
    assert tuples.shape == (7 * 7 * 5 * 2, 4)
    assert len({tuple(r) for r in tuples.tolist()}) == len(tuples)
    expected = []
    for s, c, p, z in tuples.tolist():
        names = (SHAPES[s], COLOURS[c], POSITIONS[p], SIZES[z])
        expected.append(any(all(w is None or w == n for w, n in zip(entry, names)) for entry in HELD))
    assert is_held_out(tuples).tolist() == expected
    assert [dict(e) for e in HELD_OUT] == [
        {k: v for k, v in zip(ATTRIBUTES, entry) if v is not None} for entry in HELD]


def test_split_tuples():
    """Do train and test draw from the same non-held-out tuples, heldout from the others, covering all 490?"""
    train, test, held = (attribute_tuples(s) for s in ("train", "test", "heldout"))
    assert torch.equal(train, test)
    assert not is_held_out(train).any() and is_held_out(held).all()
    assert len(held) == 23 and len(train) + len(held) == 490
    as_set = lambda t: {tuple(r) for r in t.tolist()}  # noqa: E731
    assert as_set(train) | as_set(held) == as_set(all_tuples()) and not as_set(train) & as_set(held)
    for column, table in enumerate((SHAPES, COLOURS, POSITIONS, SIZES)):
        assert set(train[:, column].tolist()) == set(range(len(table)))  # every value is still seen in training


def test_errors_name_what_was_wrong():
    """Do a bad split, resolution or attributes raise ValueErrors that say what was expected?"""
    with pytest.raises(ValueError, match="train, test, heldout"):
        attribute_tuples("validation")
    with pytest.raises(ValueError, match="resolution must be an int >= 8"):
        render(rows(("circle", "red", "left", "small")), 4)
    with pytest.raises(ValueError, match="int64 tensor"):
        render(rows(("circle", "red", "left", "small")).float(), 16)
    with pytest.raises(ValueError, match="colour must be in 0..6"):
        render(torch.tensor([[0, 7, 0, 0]]), 16)
