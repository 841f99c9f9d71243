"""The result of a calibration: each metric's values over the seeds and the threshold set from them."""

from dataclasses import dataclass
from pathlib import Path

from autograder.calibrate.statistics import ThresholdFit


@dataclass(frozen=True)
class MetricCalibration:
    """One metric: its value per seed and the threshold fitted to them."""

    name: str
    values: tuple[float, ...]       # in seed order; seeds that did not record it are left out
    fit: ThresholdFit | None        # None when too few seeds recorded it
    current: float | None           # the threshold in assignment.toml before calibrating
    note: str = ""

    @property
    def threshold(self) -> float | None:
        return self.fit.threshold if self.fit else None

    def failures_at(self, threshold: float | None) -> int:
        """How many seed values are above ``threshold`` (0 when there is none)."""
        return 0 if threshold is None else sum(v > threshold for v in self.values)


@dataclass(frozen=True)
class SeedFailure:
    """A quality test that failed on the reference at one seed (at the current thresholds)."""

    seed: int
    test: str
    message: str


@dataclass(frozen=True)
class CalibrationReport:
    """Thresholds for every metric the quality tests record, and how they were set."""

    project: str
    seeds: int
    false_fail: float
    margin: float
    method: str
    tests: tuple[str, ...]              # the quality test cases that ran
    metrics: tuple[MetricCalibration, ...]
    failures: tuple[SeedFailure, ...]
    written: Path | None                # the assignment.toml updated, if any
    seconds: float

    @property
    def thresholds(self) -> dict[str, float]:
        """``{metric: new threshold}`` for the metrics that got one."""
        return {m.name: m.threshold for m in self.metrics if m.threshold is not None}


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.4g}"


def to_markdown(report: CalibrationReport) -> str:
    """The calibration as a Markdown report."""
    lines = [
        f"# Threshold calibration: {report.project}",
        "",
        f"The reference ran the {len(report.tests)} quality test case(s) with seeds 0 .. {report.seeds - 1} "
        f"({report.seconds:.0f} s); each threshold targets a false-fail rate of at most {report.false_fail:g} "
        f"for a correct submission. A quality test passes when the value it records is at most the "
        f"threshold of the same name in [thresholds].",
        "",
        f"Method: {report.method}",
        "",
        "| metric | model | min | mean | max | new threshold | fails at it | current | fails at current |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m in report.metrics:
        mean = sum(m.values) / len(m.values) if m.values else None
        model = m.fit.distribution if m.fit else "-"
        lines.append(
            f"| `{m.name}` | {model} | {_num(min(m.values, default=None))} | {_num(mean)} | "
            f"{_num(max(m.values, default=None))} | {_num(m.threshold)} | {m.failures_at(m.threshold)} / "
            f"{len(m.values)} | {_num(m.current)} | {m.failures_at(m.current)} / {len(m.values)} |")
    lines.append("")
    notes = [f"- `{m.name}`: {m.note}" for m in report.metrics if m.note]
    if notes:
        lines += ["## Notes", "", *notes, ""]
    if report.failures:
        lines += ["## Quality tests that failed on the reference (at the current thresholds)", ""]
        lines += [f"- seed {f.seed}, `{f.test}`: {f.message.splitlines()[0] if f.message else ''}"
                  for f in report.failures]
        lines.append("")
    if report.written:
        lines += [f"Wrote the new thresholds into {report.written}.", ""]
    return "\n".join(lines)
