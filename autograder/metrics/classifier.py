"""The feature network of FID on 8x8 digits: a small CNN classifier, shipped trained.

FID compares Inception features in the original paper; 8x8 digits need a
network that has seen 8x8 digits, so the course trains its own
(``scripts/train_fid_classifier.py``, reproducible, seconds on a CPU) and ships
the weights as ``digits_classifier.safetensors`` (never a pickle).

Shapes: input ``x`` is ``(B, 1, 8, 8)`` in ``[-1, 1]``; ``features(x)`` is
``(B, FEATURE_DIM)``, the penultimate activations that the last layer reads
(after a SiLU: unlike a ReLU it leaves no unit dead, so the features'
covariance has full rank); ``forward(x)`` is ``(B, NUM_CLASSES)`` logits.
"""

from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

WEIGHTS = Path(__file__).with_name("digits_classifier.safetensors")
FEATURE_DIM = 64
NUM_CLASSES = 10
IMAGE_SHAPE = (1, 8, 8)


class DigitsClassifier(nn.Module):
    """Three 3x3 conv layers, two max-pools, a 64-feature layer and a linear head (~40k parameters)."""

    def __init__(self, feature_dim: int = FEATURE_DIM, num_classes: int = NUM_CLASSES, dropout: float = 0.2):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),  # (B, 16, 8, 8)
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1),  # (B, 32, 8, 8)
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 32, 4, 4)
            nn.Conv2d(32, 64, 3, padding=1),  # (B, 64, 4, 4)
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 64, 2, 2)
        )
        self.fc = nn.Linear(64 * 2 * 2, feature_dim)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations ``(B, feature_dim)`` of images ``x`` ``(B, 1, 8, 8)`` in ``[-1, 1]``."""
        if x.ndim != 4 or tuple(x.shape[1:]) != IMAGE_SHAPE:
            raise ValueError(f"expected images of shape (B, 1, 8, 8), got {tuple(x.shape)}")
        h = self.conv(x)  # (B, 64, 2, 2)
        return F.silu(self.fc(h.flatten(1)))  # (B, 256) -> (B, feature_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``(B, num_classes)`` of images ``x`` ``(B, 1, 8, 8)``."""
        return self.head(self.dropout(self.features(x)))


def load_classifier(device: str | torch.device = "cpu", *, weights: Path = WEIGHTS) -> DigitsClassifier:
    """The shipped classifier, read from safetensors, on ``device``, in eval mode."""
    weights = Path(weights)
    if not weights.is_file():
        raise FileNotFoundError(
            f"classifier weights not found at {weights}; they are made by scripts/train_fid_classifier.py"
        )
    model = DigitsClassifier()
    model.load_state_dict(load_file(str(weights)), strict=True)
    return model.to(device).eval()
