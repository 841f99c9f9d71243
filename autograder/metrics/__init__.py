"""Trusted metrics: the Frechet distance and FID on 8x8 digits with a shipped feature network."""

from .classifier import FEATURE_DIM, WEIGHTS, DigitsClassifier, load_classifier
from .fid import feature_statistics, fid, reference_scales
from .frechet import frechet_distance

__all__ = [
    "FEATURE_DIM",
    "WEIGHTS",
    "DigitsClassifier",
    "feature_statistics",
    "fid",
    "frechet_distance",
    "load_classifier",
    "reference_scales",
]
