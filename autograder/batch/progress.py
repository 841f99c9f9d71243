"""The progress log of a batch: one plain line per finished submission.

Each line carries done/total, failures, elapsed time and the ETA, so it reads
the same in a terminal and in a Slurm or CI log file (no carriage returns)::

    [ 3/40] alice          4.5 / 5    3.1 s | failures 0 | elapsed 0:09 | ETA 1:48
"""

import sys
import time


def clock(seconds: float) -> str:
    """``0:09``, ``12:05``, ``1:02:03``."""
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """Counts finished submissions and prints a line for each (``enabled=False``: silent)."""

    def __init__(self, *, total: int, already: int = 0, enabled: bool = True, stream=None):
        self.total = total
        self.done = already
        self.todo = total - already
        self.new = 0
        self.failures = 0
        self.enabled = enabled
        self.stream = stream or sys.stdout
        self.start = time.monotonic()

    def say(self, text: str) -> None:
        if self.enabled:
            print(text, file=self.stream, flush=True)

    def eta(self) -> float | None:
        """Seconds left at the rate so far (None before the first result)."""
        if self.new == 0:
            return None
        elapsed = time.monotonic() - self.start
        return elapsed / self.new * (self.todo - self.new)

    def finished(self, student_id: str, *, ok: bool, score: float | None = None, max_score: float | None = None,
                 seconds: float = 0.0, reason: str = "") -> None:
        self.done += 1
        self.new += 1
        self.failures += not ok
        width = len(str(self.total))
        if ok and score is not None:
            what = f"{score:g} / {max_score:g}"
        else:
            what = f"ERROR {reason[:80]}" if not ok else "done"
        eta = self.eta()
        self.say(f"[{self.done:{width}d}/{self.total}] {student_id:<16} {what:<10} {seconds:5.1f} s"
                 f" | failures {self.failures} | elapsed {clock(time.monotonic() - self.start)}"
                 f" | ETA {clock(eta) if eta is not None else '?'}")
