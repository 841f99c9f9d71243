"""Printing progress while tests run."""

import sys

from autograder.grading.runner import TestOutcome


def print_test(outcome: TestOutcome, stream=None) -> None:
    """One line per finished test: ``  pass  test_name  (0.12 s)``."""
    stream = stream or sys.stdout
    mark = "pass" if outcome.passed else "FAIL"
    first = outcome.message.splitlines()[0] if outcome.message else ""
    tail = f"  {first[:90]}" if first and not outcome.passed else ""
    print(f"  {mark}  {outcome.name:<48} {outcome.seconds:6.2f} s{tail}", file=stream, flush=True)
