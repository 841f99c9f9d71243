"""diffgrade: the grading engine of an autograded course on diffusion models."""

__version__ = "0.1.0"
