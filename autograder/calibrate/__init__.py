"""Threshold calibration of a project's quality tests (``diffgrade calibrate``).

``run`` runs the reference's quality tests over several seeds, ``statistics``
turns each metric's values into a threshold with a stated false-fail rate,
``toml_thresholds`` writes them into ``assignment.toml``, ``report`` shows the
result. The convention: a quality test records ``metrics.record(name, value)``
and passes when ``value <= config.thresholds[name]`` (the threshold key is the
metric name; lower is better).
"""

from autograder.calibrate.errors import CalibrationError
from autograder.calibrate.report import CalibrationReport, MetricCalibration, to_markdown
from autograder.calibrate.run import calibrate
from autograder.calibrate.statistics import ThresholdFit, fit_threshold

__all__ = ["CalibrationError", "CalibrationReport", "MetricCalibration", "ThresholdFit", "calibrate",
           "fit_threshold", "to_markdown"]
