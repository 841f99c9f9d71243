"""``diffgrade calibrate``: thresholds for the quality tests from the reference's own spread.

The convention between quality tests, thresholds and this module: a quality test
(``@tags("quality")``) records what it measures with ``metrics.record(name, value)``
and passes when ``value <= config.thresholds[name]``. The threshold key is the
metric's name (metric ``fid_ddim50`` <-> ``[thresholds] fid_ddim50 = ...`` in
``assignment.toml``), lower is better, and the test adds the ``seed`` fixture to
its own seeds so that different seeds give independent runs.

1. collect the project's quality-tagged hidden tests (none: ``CalibrationError``);
2. run them on the reference with ``seed = 0 .. seeds - 1``, each run with the
   fixtures of ``run_in_process`` and a fresh ``Metrics``, in worker processes
   (``autograder.audit.pool``, ``jobs`` at a time) so that nothing of one run,
   nor of the calling process, leaks into another;
3. fit a threshold to each metric's values (``statistics``): the false-fail rate
   of a correct submission at the threshold is at most ``false_fail``;
4. with ``write``, update ``[thresholds]`` in ``assignment.toml`` in place
   (``toml_thresholds``), every other line and comment kept.
"""

import dataclasses
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from autograder import config as config_mod
from autograder import course
from autograder.audit.pool import Reply, Request, WorkerPool
from autograder.calibrate.errors import CalibrationError
from autograder.calibrate.report import CalibrationReport, MetricCalibration, SeedFailure
from autograder.calibrate.statistics import METHOD, fit_threshold
from autograder.calibrate.toml_thresholds import STAMP, write_thresholds
from autograder.grading import runner


def _quality_tests(assignment_dir: Path) -> list[str]:
    tests = runner.collect(assignment_dir / "tests" / "hidden")
    return [t.name for t in tests if "quality" in t.tags]


def _metric(name: str, per_seed: dict[int, dict[str, float]], seeds: int, current: float | None, *,
            false_fail: float, margin: float) -> MetricCalibration:
    values = tuple(per_seed[k][name] for k in range(seeds) if name in per_seed.get(k, {}))
    missing = [k for k in range(seeds) if name not in per_seed.get(k, {})]
    note = f"not recorded at seed(s) {missing}" if missing else ""
    try:
        fit = fit_threshold(values, false_fail=false_fail, margin=margin)
    except ValueError as e:
        return MetricCalibration(name, values, None, current, note="; ".join(filter(None, [note, str(e)])))
    return MetricCalibration(name, values, fit, current, note=note)


def calibrate(*, project: str, root: Path | None = None, seeds: int = 10, false_fail: float = 0.01,
              write: bool = False, margin: float = 0.02, jobs: int = 1, device: str = "cpu",
              budget: str | None = None, timeout: float | None = None,
              on_seed: Callable[[int, Reply], None] | None = None) -> CalibrationReport:
    """Run the quality tests of ``project``'s reference over ``seeds`` seeds and set a threshold per metric.

    ``false_fail``: the largest acceptable chance that a correct submission fails a
    quality test; ``margin``: no threshold is below the largest value seen times
    ``1 + margin``; ``write``: update ``assignment.toml``; ``budget``: the quality
    tests' budget (``"cuda"`` on a CPU measures the GPU budget's metrics; by default
    the device's kind); ``timeout``: seconds per seed (by default the project's
    ``total_timeout_s``); ``on_seed(seed, reply)`` sees each seed's run as it ends.
    """
    start = time.perf_counter()
    if seeds < 2:
        raise CalibrationError(f"calibration needs at least 2 seeds, got {seeds}")
    if not 0 < false_fail < 0.5:
        raise CalibrationError(f"the false-fail rate must be in (0, 0.5), got {false_fail}")
    if timeout is not None and timeout <= 0:
        raise CalibrationError(f"the timeout per seed must be positive, got {timeout}")
    root = Path(root) if root else course.course_root()
    name = course.project_name(project)
    adir = course.assignment_dir(name, root)
    cfg = config_mod.load(adir)
    tests = _quality_tests(adir)
    if not tests:
        raise CalibrationError(f"{name} has no quality-tagged hidden tests (@tags('quality')), "
                               "so it has no metrics to calibrate")

    def seen(reply: Reply) -> None:
        if on_seed:
            on_seed(int(reply.id.removeprefix("seed-")), reply)

    with WorkerPool(project=name, root=root, jobs=jobs, select="quality", device=device,
                    memory_mb=cfg.limits.memory_mb, startup_timeout=cfg.limits.startup_timeout_s) as pool:
        replies = pool.run([Request(f"seed-{k}", seed=k, budget=budget, messages=True) for k in range(seeds)],
                           timeout=timeout or cfg.limits.total_timeout_s, on_reply=seen)

    per_seed: dict[int, dict[str, float]] = {}
    failures: list[SeedFailure] = []
    for k in range(seeds):
        reply = replies[f"seed-{k}"]
        per_seed[k] = dict(reply.metrics)
        if reply.status != "ran":
            failures.append(SeedFailure(k, "(every quality test)", f"{reply.status}: {reply.message}"))
        failures += [SeedFailure(k, test, reply.messages.get(test, "")) for test in reply.failed]
    names = list(dict.fromkeys(metric for k in range(seeds) for metric in per_seed[k]))
    metrics = tuple(_metric(metric, per_seed, seeds, cfg.thresholds.get(metric), false_fail=false_fail,
                            margin=margin) for metric in names)
    if not metrics:
        raise CalibrationError(f"the quality tests of {name} recorded no metrics (metrics.record(name, value)); "
                               f"failures: {[f.message.splitlines()[0] for f in failures if f.message][:3]}")
    report = CalibrationReport(project=name, seeds=seeds, false_fail=false_fail, margin=margin, method=METHOD,
                               tests=tuple(tests), metrics=metrics, failures=tuple(failures), written=None,
                               seconds=time.perf_counter() - start)
    if write and report.thresholds:
        stamp = (f"{STAMP} on {date.today().isoformat()}: {seeds} seeds of the reference, "
                 f"false-fail rate <= {false_fail:g} per metric")
        path = write_thresholds(adir, report.thresholds, stamp=stamp)
        report = dataclasses.replace(report, written=path, seconds=time.perf_counter() - start)
    return report
