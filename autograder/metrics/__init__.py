"""Trusted metrics: the Frechet distance, FID on 8x8 digits and on shapes with shipped feature networks,
attribute accuracy and precision/recall on shapes."""

from .attributes import attribute_accuracy
from .classifier import FEATURE_DIM, WEIGHTS, DigitsClassifier, load_classifier
from .fid import feature_statistics, fid, image_features, reference_scales
from .frechet import frechet_distance
from .precision_recall import precision_recall, shapes_precision_recall
from .shapes_classifier import ShapesClassifier, load_shapes_classifier
from .shapes_fid import shapes_fid, shapes_reference_scales

__all__ = [
    "FEATURE_DIM",
    "WEIGHTS",
    "DigitsClassifier",
    "ShapesClassifier",
    "attribute_accuracy",
    "feature_statistics",
    "fid",
    "frechet_distance",
    "image_features",
    "load_classifier",
    "load_shapes_classifier",
    "precision_recall",
    "reference_scales",
    "shapes_fid",
    "shapes_precision_recall",
    "shapes_reference_scales",
]
