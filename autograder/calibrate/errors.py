"""The error of a calibration that cannot be done: no quality tests, too few seeds, a broken reference."""


class CalibrationError(ValueError):
    """The project cannot be calibrated as it is; the message says why."""
