"""Hidden tests of ``p1_forward/schedules.py``: the betas and their cumulative products.

Each schedule is compared with the reference and with an independent derivation
from the papers, written here with Python floats (float64) and ``math``:

* linear (Ho et al. 2020, Sec. 4): ``beta_t`` evenly spaced from ``beta_start`` to ``beta_end``;
* quadratic: ``sqrt(beta_t)`` evenly spaced from ``sqrt(beta_start)`` to ``sqrt(beta_end)``;
* cosine (Nichol & Dhariwal 2021, Eq. 17): ``f(u) = cos(((u / T) + s) / (1 + s) * pi / 2) ** 2``,
  ``beta_t = min(1 - f(t + 1) / f(t), max_beta)``.

Schedules take no tensor inputs, so they are built on the CPU whatever ``device`` is.
"""

import math
from pathlib import Path

import torch

from autograder.testing import cases, requires

SCHEDULES = ("linear", "quadratic", "cosine")
SIZES = [10, 1000]


# -- independent derivations (Python floats) ----------------------------------------------
def linear_betas(T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> list[float]:
    return [beta_start + (beta_end - beta_start) * t / (T - 1) for t in range(T)]


def quadratic_betas(T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> list[float]:
    lo, hi = math.sqrt(beta_start), math.sqrt(beta_end)
    return [(lo + (hi - lo) * t / (T - 1)) ** 2 for t in range(T)]


def cosine_betas(T: int, s: float = 0.008, max_beta: float = 0.999) -> list[float]:
    def f(u):  # Nichol & Dhariwal Eq. 17, before dividing by f(0)
        return math.cos((u / T + s) / (1 + s) * math.pi / 2) ** 2

    return [min(1 - f(t + 1) / f(t), max_beta) for t in range(T)]


DERIVED = {"linear": linear_betas, "quadratic": quadratic_betas, "cosine": cosine_betas}


def as_tensor(values: list[float]) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def cumulative_product(betas: list[float]) -> list[float]:
    """``alpha_bar[t] = prod_{s<=t} (1 - betas[s])``, one multiplication at a time."""
    out, running = [], 1.0
    for b in betas:
        running *= 1.0 - b
        out.append(running)
    return out


def _check_schedule(check, got, name: str, T: int, expected_ref, expected_derived, hint: str) -> None:
    what = f"{name}_beta_schedule({T})"
    check.shape(got, (T,), what, hint=f"a schedule has one beta per timestep t = 0 .. T-1")
    check.close(got, expected_ref, what, hint=hint)
    check.close(got, expected_derived, what, hint=hint)


# -- the three schedules ----------------------------------------------------------------------
@cases(T=SIZES)
def test_linear_schedule(student, ref, check, T):
    """Are the linear betas evenly spaced from 1e-4 to 0.02, both ends included?"""
    _check_schedule(check, student.linear_beta_schedule(T), "linear", T, ref.linear_beta_schedule(T),
                    as_tensor(linear_betas(T)),
                    hint="betas[0] must be beta_start and betas[T-1] beta_end, evenly spaced in between "
                         "(torch.linspace with T points), as float64")


@cases(T=SIZES)
def test_quadratic_schedule(student, ref, check, T):
    """Are the quadratic betas the squares of evenly spaced square roots?"""
    _check_schedule(check, student.quadratic_beta_schedule(T), "quadratic", T, ref.quadratic_beta_schedule(T),
                    as_tensor(quadratic_betas(T)),
                    hint="space sqrt(beta_start) .. sqrt(beta_end) evenly over T points, then square them")


@cases(T=SIZES)
def test_cosine_schedule(student, ref, check, T):
    """Does the cosine schedule follow Nichol & Dhariwal Eq. 17 with s = 0.008 and clipping at 0.999?"""
    _check_schedule(check, student.cosine_beta_schedule(T), "cosine", T, ref.cosine_beta_schedule(T),
                    as_tensor(cosine_betas(T)),
                    hint="alpha_bar(u) = f(u) / f(0) with f(u) = cos(((u / T) + s) / (1 + s) * pi / 2) ** 2 "
                         "for u = 0 .. T; betas[t] = 1 - alpha_bar(t + 1) / alpha_bar(t), clipped to max_beta "
                         "(the last beta would otherwise be 1)")


@cases(schedule=SCHEDULES)
def test_schedule_arguments(student, ref, check, schedule):
    """Are the optional arguments (beta_start/beta_end, s/max_beta) used rather than the defaults?"""
    T = 50
    if schedule == "cosine":
        kwargs = {"s": 0.02, "max_beta": 0.5}
        hint = "use the s and max_beta you are given; do not hard-code 0.008 or 0.999"
    else:
        kwargs = {"beta_start": 1e-3, "beta_end": 0.05}
        hint = "use the beta_start and beta_end you are given; do not hard-code 1e-4 or 0.02"
    fn = f"{schedule}_beta_schedule"
    args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    what = f"{fn}({T}, {args})"
    got = getattr(student, fn)(T, **kwargs)
    check.close(got, getattr(ref, fn)(T, **kwargs), what, hint=hint)
    check.close(got, as_tensor(DERIVED[schedule](T, *kwargs.values())), what, hint=hint)


@cases(schedule=SCHEDULES)
@requires("test_{schedule}_schedule")  # a constant in (0, 1) passes the checks below
def test_schedules_are_float64(student, check, schedule):
    """Is every schedule a float64 tensor of shape (T,) with 0 < beta < 1?"""
    T = 100
    got = getattr(student, f"{schedule}_beta_schedule")(T)
    what = f"{schedule}_beta_schedule({T})"
    check.shape(got, (T,), what)
    check.equal(str(got.dtype), "torch.float64", f"dtype of {what}",
                hint="schedules are float64 (pass dtype=torch.float64); float32 betas lose precision in alpha_bar")
    check.true(bool(((got > 0) & (got < 1)).all()), what,
               f"every beta must satisfy 0 < beta < 1; got values from {float(got.min()):.6g} "
               f"to {float(got.max()):.6g}",
               hint="betas are variances of the noise added at each step; clip the cosine betas at max_beta")


# -- get_schedule -----------------------------------------------------------------------------
@cases(name=SCHEDULES)
def test_get_schedule(student, ref, check, name):
    """Does get_schedule(name, T) return the schedule of that name?"""
    for T in SIZES:
        check.close(student.get_schedule(name, T), ref.get_schedule(name, T), f"get_schedule({name!r}, {T})",
                    hint=f"get_schedule({name!r}, T) should return {name}_beta_schedule(T) with its defaults")


@requires("test_get_schedule")  # a get_schedule that always raises passes the checks below
def test_get_schedule_unknown_name(student, check):
    """Does an unknown schedule name raise a ValueError?"""
    for name in ("sigmoid", ""):
        check.raises("ValueError", lambda n=name: student.get_schedule(n, 10), f"get_schedule({name!r}, 10)",
                     hint="raise ValueError naming the known schedules (linear, quadratic, cosine)")


# -- alpha_bar --------------------------------------------------------------------------------
@cases(schedule=SCHEDULES)
def test_alpha_bar(student, ref, check, device, schedule):
    """Is alpha_bar[t] the product of (1 - betas[s]) for s <= t, in the dtype and on the device of betas?"""
    hint = "alpha_bar[t] = prod_{s<=t} (1 - betas[s]) (torch.cumprod), including s = t itself"
    for T in SIZES:
        betas = ref.get_schedule(schedule, T)
        derived = as_tensor(cumulative_product(betas.tolist())).to(device)
        x = betas.to(device)
        got = student.alpha_bar(x)
        what = f"alpha_bar({schedule} betas, T={T}, float64)"
        check.close(got, ref.alpha_bar(x), what, hint=hint)
        check.close(got, derived, what, hint=hint)
        # float32 betas: compared with the product of the same (rounded) betas in float64, within
        # what float32 rounding allows for a product of T factors (cumprod or exp(cumsum(log))).
        x = betas.to(device, torch.float32)
        check.close_to_truth(student.alpha_bar(x), ref.alpha_bar, (x,),
                             f"alpha_bar({schedule} betas, T={T}, float32)", hint=hint)


def _plot_alpha_bars(curves: dict, path: Path) -> None:
    """One panel: the student's alpha_bar (solid) over the reference (dashed), per schedule."""
    from matplotlib.figure import Figure  # no pyplot: no global backend state

    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for name, (got, expected) in curves.items():
        line, = ax.plot(expected.cpu().numpy(), linestyle="--", linewidth=1, label=f"{name} (reference)")
        if isinstance(got, torch.Tensor) and got.shape == expected.shape:
            ax.plot(got.detach().cpu().double().numpy(), color=line.get_color(), alpha=0.7, linewidth=2,
                    label=f"{name} (yours)")
    ax.set_xlabel("t")
    ax.set_ylabel("alpha_bar[t]")
    ax.set_title("alpha_bar of each schedule, T = 1000")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def test_alpha_bar_curves(student, ref, check, artifacts):
    """Do alpha_bar(get_schedule(name, 1000)) match the reference for every schedule? (plotted)"""
    T = 1000
    curves = {}
    for name in SCHEDULES:
        expected = ref.alpha_bar(ref.get_schedule(name, T))
        curves[name] = (student.alpha_bar(student.get_schedule(name, T)), expected)
    if artifacts is not None:
        _plot_alpha_bars(curves, Path(artifacts) / "p1_alpha_bar_curves.png")
    for name, (got, expected) in curves.items():
        check.close(got, expected, f"alpha_bar(get_schedule({name!r}, {T}))",
                    hint="see the plot p1_alpha_bar_curves.png: your curve should lie on the dashed one")
