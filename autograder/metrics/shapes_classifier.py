"""The grader's attribute classifier on procedural shapes: one head per attribute, its features for FID.

P4 (text-to-image, 16 px) and P5 (latent diffusion, 32 px) generate the shapes
of :func:`autograder.data.make_shapes`. Their samples are judged by a small
CNN that the course trains on that renderer (``scripts/train_shapes_classifier.py``,
reproducible, minutes on one CPU core) and ships per resolution as
``shapes_classifier_16.safetensors`` and ``shapes_classifier_32.safetensors``
(never a pickle; one JSON metadata entry with the resolution, steps, seed,
measured accuracies and torch version).

Network. Images of ``R = 16 * 2^k`` pixels first pass ``k`` stride-2 stages
(a 3x3 convolution and a max-pool each) down to 16 x 16; then two 3x3
convolutions at 16 x 16 (a small object is about 3.5 pixels across there, so
its shape is read before any pooling), a pool, a convolution at 8 x 8, a pool
and a convolution at 4 x 4. The ``4 x 4`` map is flattened (no global pooling:
position is an attribute) into a linear feature layer, followed by a SiLU
(unlike a ReLU it leaves no unit dead, so the features' covariance has full
rank), and read by four linear heads: shape (7), colour (7), position (5), size (2).

Shapes: input ``x`` is ``(B, 3, R, R)`` in ``[-1, 1]``; ``features(x)`` is
``(B, FEATURE_DIM)``; ``forward(x)`` is a tuple of four logits tensors
``(B, 7), (B, 7), (B, 5), (B, 2)`` in the column order of an attributes tensor;
``predict(x)`` is ``(B, 4)`` int64, the argmax of each head.
"""

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file
from torch import nn

from autograder.data.shapes import TABLES

RESOLUTIONS = (16, 32)  # the resolutions with shipped weights
BASE_RESOLUTION = 16
FEATURE_DIM = 128
NUM_CLASSES = tuple(len(table) for table in TABLES)  # (7, 7, 5, 2): shape, colour, position, size
METADATA_KEY = "shapes_classifier"  # one metadata entry (JSON): safetensors writes several in no fixed order
SCRIPT = "scripts/train_shapes_classifier.py"


def weights_path(resolution: int) -> Path:
    """Where the shipped weights of ``resolution`` live: ``autograder/metrics/shapes_classifier_{R}.safetensors``."""
    check_resolution(resolution)
    return Path(__file__).with_name(f"shapes_classifier_{resolution}.safetensors")


def check_resolution(resolution: int) -> None:
    """Raise a ValueError unless ``resolution`` is one of RESOLUTIONS."""
    if isinstance(resolution, bool) or resolution not in RESOLUTIONS:
        raise ValueError(f"the shapes classifier exists for resolutions {RESOLUTIONS}, got {resolution!r}")


class ShapesClassifier(nn.Module):
    """A small CNN with a shared feature layer and one linear head per attribute (~200k parameters)."""

    def __init__(self, resolution: int = 16, feature_dim: int = FEATURE_DIM):
        super().__init__()
        check_resolution(resolution)
        self.resolution = resolution
        self.image_shape = (3, resolution, resolution)
        layers: list[nn.Module] = []
        channels, size = 3, resolution
        while size > BASE_RESOLUTION:  # (B, 32, R / 2, R / 2) per stage, down to 16 x 16
            layers += [nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            channels, size = 32, size // 2
        layers += [
            nn.Conv2d(channels, 32, 3, padding=1),  # (B, 32, 16, 16)
            nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1),  # (B, 32, 16, 16)
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 32, 8, 8)
            nn.Conv2d(32, 64, 3, padding=1),  # (B, 64, 8, 8)
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 64, 4, 4)
            nn.Conv2d(64, 64, 3, padding=1),  # (B, 64, 4, 4)
            nn.ReLU(),
        ]
        self.conv = nn.Sequential(*layers)
        self.fc = nn.Linear(64 * 4 * 4, feature_dim)
        self.heads = nn.ModuleList(nn.Linear(feature_dim, n) for n in NUM_CLASSES)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations ``(B, feature_dim)`` of images ``x`` ``(B, 3, R, R)`` in ``[-1, 1]``."""
        if not isinstance(x, torch.Tensor) or x.ndim != 4 or tuple(x.shape[1:]) != self.image_shape:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"expected images of shape (B, 3, {self.resolution}, {self.resolution}), got {got}")
        h = self.conv(x)  # (B, 64, 4, 4)
        return F.silu(self.fc(h.flatten(1)))  # (B, 1024) -> (B, feature_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Logits of each attribute: ``(B, 7), (B, 7), (B, 5), (B, 2)`` for shape, colour, position, size."""
        f = self.features(x)  # (B, D)
        return tuple(head(f) for head in self.heads)

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """The most likely value of each attribute, int64 ``(B, 4)`` [shape, colour, position, size]."""
        return torch.stack([logits.argmax(dim=1) for logits in self(x)], dim=1)


def image_resolution(images: torch.Tensor, name: str = "images") -> int:
    """The resolution R of ``images`` ``(B, 3, R, R)``, B >= 1, finite; a ValueError naming ``name`` otherwise."""
    if not isinstance(images, torch.Tensor) or not images.is_floating_point():
        got = images.dtype if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"{name} must be a float torch.Tensor (B, 3, R, R), got {got}")
    if images.ndim != 4 or images.shape[1] != 3 or images.shape[2] != images.shape[3] or len(images) == 0:
        raise ValueError(f"{name} must have shape (B, 3, R, R) with B >= 1, got {tuple(images.shape)}")
    check_resolution(images.shape[-1])
    if not torch.isfinite(images).all():
        raise ValueError(f"{name} has NaN or infinite values")
    return images.shape[-1]


def read_metadata(weights: Path) -> dict:
    """The JSON metadata of a shipped classifier file: resolution, steps, seed, accuracies, torch version."""
    weights = Path(weights)
    if not weights.is_file():
        raise FileNotFoundError(f"shapes classifier weights not found at {weights}; they are made by {SCRIPT}")
    with safe_open(str(weights), framework="pt") as f:
        meta = f.metadata() or {}
    if METADATA_KEY not in meta:
        raise ValueError(f"{weights} has no {METADATA_KEY!r} metadata; it was not written by {SCRIPT}")
    return json.loads(meta[METADATA_KEY])


def load_shapes_classifier(
    resolution: int = 16, device: str | torch.device = "cpu", *, weights: Path | None = None
) -> ShapesClassifier:
    """The shipped classifier of ``resolution`` (16 or 32), read strictly, on ``device``, in eval mode, frozen."""
    check_resolution(resolution)
    weights = weights_path(resolution) if weights is None else Path(weights)
    meta = read_metadata(weights)
    if meta["resolution"] != resolution:
        raise ValueError(f"{weights} holds the classifier of resolution {meta['resolution']}, not {resolution}")
    model = ShapesClassifier(resolution, feature_dim=meta["feature_dim"])
    model.load_state_dict(load_file(str(weights)), strict=True)
    model.requires_grad_(False)
    return model.to(device).eval()
