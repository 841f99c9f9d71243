"""The isolation levels, strongest first; each is one module behind ``base.Level``."""

from autograder.sandbox.levels.base import Launch, Level
from autograder.sandbox.levels.bwrap import Bwrap
from autograder.sandbox.levels.landlock import Landlock
from autograder.sandbox.levels.process import Process

BY_NAME: dict[str, Level] = {lvl.name: lvl for lvl in (Bwrap(), Landlock(), Process())}
ORDER = tuple(BY_NAME)  # strongest first: what ``auto`` tries in turn

__all__ = ["BY_NAME", "ORDER", "Launch", "Level"]
