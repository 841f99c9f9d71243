"""Procedural shapes: the attribute tables, the held-out combinations and the renderer.

An object has four attributes, each an index into a table (the columns of an
attributes tensor ``(..., 4)`` int64, in this order):

- ``shape`` (:data:`SHAPES`): circle, square, triangle, cross, diamond, ring, star;
- ``colour`` (:data:`COLOURS`): red, green, blue, yellow, magenta, cyan, white,
  the corners of the RGB cube other than black, so any two differ by at least
  1 in some channel (:func:`colour_rgb`);
- ``position`` (:data:`POSITIONS`): left, right, top, bottom, centre; the
  object's centre is at :data:`POSITION_XY` (fractions of the width and height);
- ``size`` (:data:`SIZES`): small, large; the half-extent ``a`` of the object's
  box is :data:`SIZE_FRACTION` times the width (large is twice small).

Geometry. In units of ``a``, with ``(x, y)`` measured from the object's centre
and ``y`` pointing down, every shape lies in the box ``[-1, 1]^2``:

- circle ``x^2 + y^2 <= 1`` (fills pi/4 of the box);
- square ``max(|x|, |y|) <= 1`` (all of it);
- triangle, apex up: ``-1 <= y <= 1`` and ``|x| <= (1 + y) / 2`` (1/2; its
  centroid lies 1/3 below the box's centre);
- cross: ``max(|x|, |y|) <= 1`` and ``min(|x|, |y|) <= CROSS_ARM`` (arms a third
  of the width: ``2 w - w^2`` = 5/9 of the box);
- diamond ``|x| + |y| <= 1`` (1/2);
- ring ``RING_INNER <= sqrt(x^2 + y^2) <= 1`` (3 pi / 16; empty centre);
- star: five points at radius 1, one straight up, and five inner corners at
  radius ``STAR_INNER`` (area ``5 * STAR_INNER * sin(36 deg)``, 0.367 of the box).

Rendering. A pixel's coverage is the fraction of its ``SUPERSAMPLE x SUPERSAMPLE``
sub-pixel centres that lie inside the shape (supersample, then average-pool),
so edges are anti-aliased and small resolutions stay legible. The image is
``BACKGROUND + coverage * (colour - BACKGROUND)``: black where empty, the
colour where covered. Everything is vectorised over the batch, in torch.

Held-out combinations. :data:`HELD_OUT` lists partial attribute assignments; a
tuple is held out when it matches one of them in every attribute the entry
names (e.g. every blue triangle, whatever its position and size). Each value
of each attribute still occurs in training, only these combinations do not.
The split "train" and "test" draw from the same tuples (all but the held-out
ones, with different random streams); "heldout" draws only held-out tuples.

Legibility. At 16 px a large object is about 7 pixels across and its shape is
clear; a small one is about 3.5 pixels across, and small crosses, diamonds
and stars differ by only a pixel or two of coverage (a metric of shape
accuracy at 16 px should expect that). From 32 px every shape reads at both sizes.

Symbols: ``n`` objects, ``R`` the resolution (images are ``R x R``), ``S``
the supersampling factor, ``a`` the half-extent in fractions of ``R``.
"""

import math
from types import MappingProxyType

import torch
import torch.nn.functional as F

SHAPES = ("circle", "square", "triangle", "cross", "diamond", "ring", "star")
COLOURS = ("red", "green", "blue", "yellow", "magenta", "cyan", "white")
POSITIONS = ("left", "right", "top", "bottom", "centre")
SIZES = ("small", "large")
ATTRIBUTES = ("shape", "colour", "position", "size")
TABLES = (SHAPES, COLOURS, POSITIONS, SIZES)  # TABLES[i] names the values of column i
SHAPE, COLOUR, POSITION, SIZE = range(4)  # the columns of an attributes tensor
SPLITS = ("train", "test", "heldout")

_COLOUR_01 = ((1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (1, 0, 1), (0, 1, 1), (1, 1, 1))  # RGB in [0, 1]
POSITION_XY = ((0.25, 0.5), (0.75, 0.5), (0.5, 0.25), (0.5, 0.75), (0.5, 0.5))  # (x, y) / R, y down
OPPOSITE = (1, 0, 3, 2, None)  # left <-> right, top <-> bottom; the centre has none
SIZE_FRACTION = (0.11, 0.22)  # a / R for small, large
BACKGROUND = -1.0
SUPERSAMPLE = 4
MIN_RESOLUTION = 8
CROSS_ARM = 1 / 3  # half-width of an arm, in units of a
RING_INNER = 0.5  # inner radius, in units of a
STAR_INNER = 0.5  # radius of the inner corners, in units of a (a pentagram has 0.382)

# Jitter (when asked for): the centre moves by up to POSITION_JITTER * R along each axis
# and a shrinks by a factor in [1 - SIZE_JITTER, 1]. Both are bounded so that a large
# object stays inside the image and two objects at opposite positions never overlap:
# 0.25 + 0.02 + 0.22 < 0.5.
POSITION_JITTER = 0.02
SIZE_JITTER = 0.1

HELD_OUT = tuple(MappingProxyType(entry) for entry in (
    {"shape": "triangle", "colour": "blue"},
    {"shape": "cross", "colour": "green", "position": "top", "size": "large"},
    {"shape": "circle", "colour": "yellow", "position": "right"},
    {"shape": "ring", "colour": "red", "size": "small"},
    {"shape": "star", "colour": "cyan", "position": "left"},
    {"shape": "square", "colour": "magenta", "position": "centre", "size": "large"},
    {"shape": "diamond", "colour": "white", "position": "bottom"},
))


def colour_rgb() -> torch.Tensor:
    """The colours' RGB values in ``[-1, 1]``, float32 ``(len(COLOURS), 3)``, rows in the order of COLOURS."""
    return torch.tensor(_COLOUR_01, dtype=torch.float32) * 2 - 1


def all_tuples() -> torch.Tensor:
    """Every attribute tuple, int64 ``(7 * 7 * 5 * 2, 4)``, in lexicographic order (shape slowest)."""
    grids = torch.meshgrid(*(torch.arange(len(t)) for t in TABLES), indexing="ij")
    return torch.stack([g.reshape(-1) for g in grids], dim=1)  # (490, 4)


def is_held_out(attributes: torch.Tensor) -> torch.Tensor:
    """Whether each tuple of ``attributes`` ``(..., 4)`` int64 matches an entry of HELD_OUT: bool ``(...)``."""
    held = torch.zeros(attributes.shape[:-1], dtype=torch.bool)
    for entry in HELD_OUT:
        match = torch.ones_like(held)
        for name, value in entry.items():
            column = ATTRIBUTES.index(name)
            match &= attributes[..., column] == TABLES[column].index(value)
        held |= match
    return held


def attribute_tuples(split: str = "train") -> torch.Tensor:
    """The tuples that ``split`` draws from, int64 ``(M, 4)``, lexicographic order.

    "train" and "test": every tuple that is not held out (M = 467); "heldout":
    only the held-out ones (M = 23).
    """
    check_split(split)
    tuples = all_tuples()
    held = is_held_out(tuples)
    return tuples[held] if split == "heldout" else tuples[~held]


def check_split(split: str) -> None:
    """Raise a ValueError naming the valid splits if ``split`` is not one of them."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r} of the shapes dataset; expected one of {', '.join(SPLITS)}")


def check_resolution(resolution: int) -> None:
    """Raise a ValueError unless ``resolution`` is an int of at least MIN_RESOLUTION."""
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < MIN_RESOLUTION:
        raise ValueError(f"resolution must be an int >= {MIN_RESOLUTION}, got {resolution!r}")


def layout(
    attributes: torch.Tensor, generator: torch.Generator | None = None, jitter: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Centres ``(n, 2)`` (x, y) and half-extents ``(n,)`` of the objects ``attributes`` ``(n, 4)``, as fractions of R.

    Without jitter, the centre is POSITION_XY and the half-extent SIZE_FRACTION
    of the attributes. With jitter, one ``torch.rand((n, 3), generator=generator)``
    moves the centre by up to POSITION_JITTER per axis and shrinks the
    half-extent by up to SIZE_JITTER (see the constants for why these bounds).
    """
    centre = torch.tensor(POSITION_XY, dtype=torch.float32)[attributes[:, POSITION]]  # (n, 2)
    half = torch.tensor(SIZE_FRACTION, dtype=torch.float32)[attributes[:, SIZE]]  # (n,)
    if jitter:
        u = torch.rand((len(attributes), 3), generator=generator)  # (n, 3) in [0, 1)
        centre = centre + (2 * u[:, :2] - 1) * POSITION_JITTER
        half = half * (1 - SIZE_JITTER * u[:, 2])
    return centre, half


def _inside(shape: int, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Whether points are inside ``shape``: ``x`` ``(m, 1, W')``, ``y`` ``(m, H', 1)`` in units of a; bool ``(m, H', W')``."""
    ax, ay = x.abs(), y.abs()
    name = SHAPES[shape]
    if name == "circle":
        return x * x + y * y <= 1
    if name == "square":
        return (ax <= 1) & (ay <= 1)
    if name == "triangle":
        return (y >= -1) & (y <= 1) & (2 * ax <= 1 + y)
    if name == "cross":
        return (ax <= 1) & (ay <= 1) & ((ax <= CROSS_ARM) | (ay <= CROSS_ARM))
    if name == "diamond":
        return ax + ay <= 1
    if name == "ring":
        r2 = x * x + y * y
        return (r2 <= 1) & (r2 >= RING_INNER**2)
    if name == "star":
        return _inside_star(x, y)
    raise ValueError(f"unknown shape index {shape}; expected 0..{len(SHAPES) - 1}")


def _inside_star(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The five-pointed star (outer radius 1, inner STAR_INNER, a point up), broadcast like :func:`_inside`."""
    sector = 2 * math.pi / 5
    theta = torch.atan2(x, -y)  # angle from straight up
    t = torch.remainder(theta + sector / 2, sector) - sector / 2  # (m, H', W') angle to the nearest point, |t| <= 36
    rho = torch.sqrt(x * x + y * y)
    # Inside the sector's edge from the point P = (1, 0) to the inner corner Q = r (cos 36, sin 36):
    # n . p <= n . P with the outward normal n = (r sin 36, 1 - r cos 36).
    r, half = STAR_INNER, sector / 2
    return rho * (torch.cos(t) * r * math.sin(half) + t.abs().sin() * (1 - r * math.cos(half))) <= r * math.sin(half)


def shape_coverage(
    shape: torch.Tensor, centre: torch.Tensor, half: torch.Tensor, resolution: int, supersample: int = SUPERSAMPLE
) -> torch.Tensor:
    """Anti-aliased coverage of each object, float32 ``(n, R, R)`` in ``[0, 1]``.

    ``shape`` ``(n,)`` int64 indexes SHAPES; ``centre`` ``(n, 2)`` (x, y) and
    ``half`` ``(n,)`` are fractions of R (see :func:`layout`). A pixel's value
    is the fraction of its ``supersample^2`` sub-pixel centres inside the shape.
    Only a window of ``P x P`` pixels around each object is sampled, with P
    just above the object's box; all of its coverage lies there.
    """
    check_resolution(resolution)
    if isinstance(supersample, bool) or not isinstance(supersample, int) or supersample < 1:
        raise ValueError(f"supersample must be a positive int, got {supersample!r}")
    s = supersample
    out = torch.zeros((len(shape), resolution, resolution), dtype=torch.float32)
    side = ((2 * half * resolution).ceil().long() + 2).clamp(max=resolution)  # (n,) window side P, pixels
    corner = ((centre - half.unsqueeze(1)) * resolution).floor().long()  # (n, 2) window's (x, y), pixels
    corner = torch.minimum(corner.clamp(min=0), (resolution - side).unsqueeze(1))
    for k, p in torch.unique(torch.stack([shape, side], dim=1), dim=0).tolist():  # one group per shape and P
        offsets = (torch.arange(p * s, dtype=torch.float32) + 0.5) / s  # (P S,) sub-pixel centres from the corner
        chunk = max(1, 2**22 // (p * s) ** 2)  # bounds the (m, P S, P S) masks to ~4M entries
        for rows in torch.nonzero((shape == k) & (side == p)).squeeze(1).split(chunk):
            a = half[rows].view(-1, 1, 1) * resolution  # (m, 1, 1) in pixels
            origin = corner[rows].to(torch.float32) - centre[rows] * resolution  # (m, 2) corner minus centre, pixels
            x = (offsets.view(1, 1, -1) + origin[:, 0].view(-1, 1, 1)) / a  # (m, 1, P S) in units of a
            y = (offsets.view(1, -1, 1) + origin[:, 1].view(-1, 1, 1)) / a  # (m, P S, 1)
            mask = _inside(k, x, y).to(torch.float32).unsqueeze(1)  # (m, 1, P S, P S)
            window = F.avg_pool2d(mask, s).squeeze(1)  # (m, P, P)
            ys = corner[rows, 1].view(-1, 1, 1) + torch.arange(p).view(1, -1, 1)  # (m, P, 1)
            xs = corner[rows, 0].view(-1, 1, 1) + torch.arange(p).view(1, 1, -1)  # (m, 1, P)
            out[rows.view(-1, 1, 1), ys, xs] = window
    return out


def paint(
    images: torch.Tensor, attributes: torch.Tensor, centre: torch.Tensor, half: torch.Tensor
) -> torch.Tensor:
    """Add the objects ``attributes`` ``(n, 4)`` at ``centre``/``half`` onto ``images`` ``(n, 3, R, R)``, in place.

    ``images`` must be BACKGROUND where the objects go (objects never overlap),
    so the result is ``BACKGROUND + coverage * (colour - BACKGROUND)``. Returns ``images``.
    """
    coverage = shape_coverage(attributes[:, SHAPE], centre, half, images.shape[-1])  # (n, R, R)
    rgb = colour_rgb()[attributes[:, COLOUR]].view(-1, 3, 1, 1)  # (n, 3, 1, 1)
    images += coverage.unsqueeze(1) * (rgb - BACKGROUND)  # (n, 3, R, R)
    return images


def render(
    attributes: torch.Tensor, resolution: int = 16, *, generator: torch.Generator | None = None, jitter: bool = False
) -> torch.Tensor:
    """Images ``(n, 3, R, R)`` float32 in ``[-1, 1]`` of one object each, ``attributes`` ``(n, 4)`` int64.

    Without jitter (the default) the image is a function of the attributes and
    the resolution alone; with it, the layout takes one draw from ``generator``
    (see :func:`layout`).
    """
    check_resolution(resolution)
    check_attributes(attributes)
    images = torch.full((len(attributes), 3, resolution, resolution), BACKGROUND)
    return paint(images, attributes, *layout(attributes, generator, jitter))


def check_attributes(attributes: torch.Tensor) -> None:
    """Raise a ValueError unless ``attributes`` is int64 ``(n, 4)`` with every value inside its table."""
    if not isinstance(attributes, torch.Tensor):
        raise ValueError(f"attributes must be an int64 tensor (n, 4), got {type(attributes).__name__}")
    if attributes.dtype != torch.int64 or attributes.ndim != 2 or attributes.shape[1] != len(ATTRIBUTES):
        got = f"{attributes.dtype} {tuple(attributes.shape)}"
        raise ValueError(f"attributes must be an int64 tensor (n, 4) [shape, colour, position, size], got {got}")
    for column, table in enumerate(TABLES):
        values = attributes[:, column]
        if len(values) and (values.min() < 0 or values.max() >= len(table)):
            raise ValueError(f"attribute {ATTRIBUTES[column]} must be in 0..{len(table) - 1}, got {values.tolist()}")
