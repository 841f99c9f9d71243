"""Hidden tests of ``p1_forward/forward.py``: q_sample, q_posterior, predict_x0_from_eps, snr, v_target.

Inputs are made on the CPU from fixed seeds, then moved to ``device``. Every
function is compared with the reference and with the closed form written here
sample by sample with Python floats (``math``), so a per-sample timestep, the
broadcast over ``(C, H, W)`` and the index convention are all checked:
0-indexed ``t``, ``alpha_bar[t] = prod_{s<=t} (1 - betas[s])``, ``alpha_bar_prev[0] = 1``.
"""

import math

import torch

from autograder.testing import cases, requires

SCHEDULES = ("linear", "quadratic", "cosine")
T = 1000
# One timestep per sample, unsorted, with both ends of [0, T).
TIMESTEPS = [T - 1, 0, 500, 1, T - 2, 17]


def _randn(shape, seed: int, device, dtype=torch.float64) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=torch.float64).to(device, dtype)


def _setup(ref, device, schedule: str, dtype=torch.float64, timesteps=TIMESTEPS, shape=None, steps=T):
    """``(betas, alpha_bar, t, x0, noise)`` on ``device``; schedules stay float64.

    ``shape`` defaults to ``(len(timesteps), 3, 8, 8)``.
    """
    shape = shape or (len(timesteps), 3, 8, 8)
    betas = ref.get_schedule(schedule, steps).to(device)
    alpha_bar = ref.alpha_bar(betas)
    t = torch.tensor(timesteps, dtype=torch.long).to(device)
    x0 = _randn(shape, 1, device, dtype).clamp(-1, 1)
    noise = _randn(shape, 2, device, dtype)
    return betas, alpha_bar, t, x0, noise


def _per_sample(coefs: list[tuple[float, ...]], *tensors: torch.Tensor) -> torch.Tensor:
    """``sum_k coefs[i][k] * tensors[k][i]`` for each sample ``i``, in float64 on the CPU."""
    rows = []
    for i, row in enumerate(coefs):
        rows.append(sum(c * x[i].detach().cpu().double() for c, x in zip(row, tensors)))
    return torch.stack(rows)


def _like(expected: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return expected.to(like.device, like.dtype)


def _t_text(t: torch.Tensor) -> str:
    return f"t={t.tolist()}"


# -- q_sample (DDPM Eq. 4) --------------------------------------------------------------------
Q_SAMPLE_HINT = ("x_t = sqrt(alpha_bar[t]) * x0 + sqrt(1 - alpha_bar[t]) * noise, with alpha_bar[t] taken "
                 "per sample (t has shape (B,)) and reshaped to (B, 1, 1, 1) to broadcast over (C, H, W)")


def _q_sample_closed_form(x0, t, alpha_bar, noise) -> torch.Tensor:
    ab = [float(alpha_bar[int(s)]) for s in t]
    return _like(_per_sample([(math.sqrt(a), math.sqrt(1 - a)) for a in ab], x0, noise), x0)


@cases(schedule=SCHEDULES)
def test_q_sample_values(student, ref, check, device, schedule):
    """Is x_t = sqrt(alpha_bar[t]) x0 + sqrt(1 - alpha_bar[t]) noise with a different t per sample?"""
    _, alpha_bar, t, x0, noise = _setup(ref, device, schedule)
    got = student.q_sample(x0, t, alpha_bar, noise)
    what = f"q_sample(x0, t, alpha_bar, noise), {schedule} schedule, T={T}, {_t_text(t)}"
    check.close(got, ref.q_sample(x0, t, alpha_bar, noise), what, hint=Q_SAMPLE_HINT)
    check.close(got, _q_sample_closed_form(x0, t, alpha_bar, noise), what, hint=Q_SAMPLE_HINT)


@cases(shape=[(1, 1, 4, 4), (5, 3, 8, 8), (3, 4, 5, 7)])
def test_q_sample_shapes(student, ref, check, device, shape):
    """Does q_sample return x0's shape for any batch size, channel count and image size?"""
    steps = 50
    timesteps = [(7 * i + 3) % steps for i in range(shape[0])]
    _, alpha_bar, t, x0, noise = _setup(ref, device, "linear", timesteps=timesteps, shape=shape, steps=steps)
    got = student.q_sample(x0, t, alpha_bar, noise)
    what = f"q_sample with x0 of shape {shape}, {_t_text(t)}"
    check.shape(got, shape, what, hint="the result has the shape of x0; reshape alpha_bar[t] to (B, 1, 1, 1)")
    check.close(got, _q_sample_closed_form(x0, t, alpha_bar, noise), what, hint=Q_SAMPLE_HINT)


# -- dtype and device -------------------------------------------------------------------------
def _args(function: str, betas, alpha_bar, t, x0, noise) -> tuple:
    """The arguments of ``function`` from one ``_setup``; alpha_bar and snr get a whole schedule in x0's dtype."""
    return {
        "q_sample": (x0, t, alpha_bar, noise),
        "q_posterior": (x0, noise, t, betas),
        "predict_x0_from_eps": (x0, t, alpha_bar, noise),
        "v_target": (x0, t, alpha_bar, noise),
        "alpha_bar": (betas.to(x0.dtype),),
        "snr": (alpha_bar.to(x0.dtype),),
    }[function]


@cases(function=["q_sample", "q_posterior", "predict_x0_from_eps", "v_target", "alpha_bar", "snr"])
def test_keeps_dtype_and_device(student, ref, check, device, function):
    """Do float32 and float64 inputs give results of the same dtype, on the same device, correct to that precision?"""
    hint = ("keep the dtype and device of the inputs: index alpha_bar (a float64 schedule) on the device of "
            "x0 and cast the coefficients to x0.dtype before multiplying")
    # float32 results are held to the float64 truth within what float32 rounding allows (close_to_truth), so
    # any correct float32 formula passes; alpha_bar and snr get whole schedules, t = 0 (where 1 - alpha_bar
    # cancels) included. The per-sample functions skip the first steps: there, rounding alpha_bar and beta_t
    # apart breaks 1 - alpha_bar_0 = beta_0, and float32 formulas differ by more than their inputs' rounding.
    for schedule in ("linear", "cosine"):
        for dtype in (torch.float32, torch.float64):
            betas, alpha_bar, t, x0, noise = _setup(ref, device, schedule, dtype=dtype, timesteps=[250, 999, 600])
            args = _args(function, betas, alpha_bar, t, x0, noise)
            got = getattr(student, function)(*args)
            what = f"{function} with {str(dtype).removeprefix('torch.')} inputs on {device.type}, {schedule} schedule"
            parts = [(None, what)]
            if function == "q_posterior":
                check.true(isinstance(got, (tuple, list)) and len(got) == 2, what, "must return (mean, variance)")
                parts = [(0, f"mean of {what}"), (1, f"variance of {what}")]
            for index, label in parts:
                mine = got if index is None else got[index]
                pick = (lambda r: r) if index is None else (lambda r, i=index: r[i])
                if dtype == torch.float64:
                    check.close(mine, pick(getattr(ref, function)(*args)), label, hint=hint)
                else:
                    check.close_to_truth(mine, getattr(ref, function), args, label, output=pick, hint=hint)


# -- q_posterior (DDPM Eqs. 6-7) ----------------------------------------------------------------
POSTERIOR_HINT = ("mean = sqrt(alpha_bar_prev) * beta_t / (1 - alpha_bar_t) * x0 "
                  "+ sqrt(alpha_t) * (1 - alpha_bar_prev) / (1 - alpha_bar_t) * x_t and "
                  "variance = (1 - alpha_bar_prev) / (1 - alpha_bar_t) * beta_t, with alpha_t = 1 - beta_t, "
                  "alpha_bar_prev = alpha_bar[t - 1] and alpha_bar_prev = 1 at t = 0")


def _posterior_closed_form(x0, x_t, t, betas):
    """DDPM Eqs. 6-7 sample by sample: ``(mean, variance)`` like the reference returns them."""
    b = betas.tolist()
    means, variances = [], []
    for s in (int(v) for v in t):
        alpha_bar_t = math.prod(1 - b[k] for k in range(s + 1))
        alpha_bar_prev = math.prod(1 - b[k] for k in range(s))  # empty product = 1 at t = 0
        beta_t = b[s]
        means.append((math.sqrt(alpha_bar_prev) * beta_t / (1 - alpha_bar_t),
                      math.sqrt(1 - beta_t) * (1 - alpha_bar_prev) / (1 - alpha_bar_t)))
        variances.append((1 - alpha_bar_prev) / (1 - alpha_bar_t) * beta_t)
    mean = _like(_per_sample(means, x0, x_t), x_t)
    variance = torch.tensor(variances, dtype=torch.float64).reshape(-1, 1, 1, 1).to(x_t.device, x_t.dtype)
    return mean, variance


def _check_posterior(check, got, expected_pairs, what: str, hint: str = POSTERIOR_HINT) -> None:
    check.true(isinstance(got, (tuple, list)) and len(got) == 2, what, "must return a pair (mean, variance)",
               hint="return mean, variance")
    mean, variance = got
    for expected_mean, expected_variance in expected_pairs:
        check.close(mean, expected_mean, f"mean of {what}", hint=hint)
        check.close(variance, expected_variance, f"variance of {what}",
                    hint=hint + "; the variance has shape (B, 1, 1, 1)")


@cases(schedule=SCHEDULES)
def test_q_posterior_values(student, ref, check, device, schedule):
    """Are the posterior mean and variance those of DDPM Eqs. 6-7, per sample, including t = 0 and T-1?"""
    betas, alpha_bar, t, x0, noise = _setup(ref, device, schedule)
    x_t = ref.q_sample(x0, t, alpha_bar, noise)
    got = student.q_posterior(x0, x_t, t, betas)
    what = f"q_posterior(x0, x_t, t, betas), {schedule} schedule, T={T}, {_t_text(t)}"
    _check_posterior(check, got, [ref.q_posterior(x0, x_t, t, betas), _posterior_closed_form(x0, x_t, t, betas)],
                     what)


@requires("test_q_posterior_values")  # returning (x0, zeros) passes the checks below
def test_q_posterior_first_step(student, check, device):
    """At t = 0 (alpha_bar_prev = 1), is the posterior a point mass at x0: mean x0, variance 0?"""
    betas = torch.tensor([0.3, 0.1, 0.2, 0.05], dtype=torch.float64).to(device)
    x0 = _randn((4, 2, 3, 3), 3, device)
    x_t = _randn((4, 2, 3, 3), 4, device)
    t = torch.zeros(4, dtype=torch.long).to(device)
    got = student.q_posterior(x0, x_t, t, betas)
    hint = ("alpha_bar_prev[0] = 1 (the empty product): at t = 0 the variance is (1 - 1) / (1 - alpha_bar_0) * beta_0 "
            "= 0 and the mean is x0")
    _check_posterior(check, got, [(x0, torch.zeros(4, 1, 1, 1, dtype=torch.float64, device=device))],
                     "q_posterior(x0, x_t, t=0, betas)", hint=hint)


def test_q_posterior_all_steps(student, ref, check, device):
    """With T = 10 cosine betas (the last one clipped), is the posterior right at every t?"""
    steps = 10
    betas, alpha_bar, t, x0, noise = _setup(ref, device, "cosine", timesteps=list(range(steps))[::-1],
                                            shape=(steps, 2, 4, 4), steps=steps)
    x_t = ref.q_sample(x0, t, alpha_bar, noise)
    got = student.q_posterior(x0, x_t, t, betas)
    what = f"q_posterior(x0, x_t, t, betas), cosine schedule, T={steps}, {_t_text(t)}"
    _check_posterior(check, got, [ref.q_posterior(x0, x_t, t, betas), _posterior_closed_form(x0, x_t, t, betas)],
                     what)


# -- predict_x0_from_eps (DDPM Eq. 15) --------------------------------------------------------
PREDICT_HINT = "x0 = (x_t - sqrt(1 - alpha_bar[t]) * eps) / sqrt(alpha_bar[t]), per sample"


@cases(schedule=SCHEDULES)
def test_predict_x0_from_eps_values(student, ref, check, device, schedule):
    """Is predict_x0_from_eps (x_t - sqrt(1 - alpha_bar[t]) eps) / sqrt(alpha_bar[t])?"""
    _, alpha_bar, t, x_t, eps = _setup(ref, device, schedule)
    got = student.predict_x0_from_eps(x_t, t, alpha_bar, eps)
    ab = [float(alpha_bar[int(s)]) for s in t]
    derived = _like(_per_sample([(1 / math.sqrt(a), -math.sqrt(1 - a) / math.sqrt(a)) for a in ab], x_t, eps), x_t)
    what = f"predict_x0_from_eps(x_t, t, alpha_bar, eps), {schedule} schedule, {_t_text(t)}"
    check.close(got, ref.predict_x0_from_eps(x_t, t, alpha_bar, eps), what, hint=PREDICT_HINT)
    check.close(got, derived, what, hint=PREDICT_HINT)


@cases(schedule=SCHEDULES)
def test_predict_x0_inverts_q_sample(student, ref, check, device, schedule):
    """Does predict_x0_from_eps(q_sample(x0, t, alpha_bar, eps), t, alpha_bar, eps) give back x0?"""
    _, alpha_bar, t, x0, noise = _setup(ref, device, schedule)
    x_t = ref.q_sample(x0, t, alpha_bar, noise)
    got = student.predict_x0_from_eps(x_t, t, alpha_bar, noise)
    check.close(got, x0, f"predict_x0_from_eps(q_sample(x0, t, alpha_bar, eps), t, alpha_bar, eps), "
                         f"{schedule} schedule, {_t_text(t)}",
                hint="solve x_t = sqrt(alpha_bar[t]) * x0 + sqrt(1 - alpha_bar[t]) * eps for x0")


# -- snr and v_target -------------------------------------------------------------------------
@cases(schedule=SCHEDULES)
def test_snr_values(student, ref, check, device, schedule):
    """Is snr(alpha_bar) = alpha_bar / (1 - alpha_bar) elementwise?"""
    alpha_bar = ref.alpha_bar(ref.get_schedule(schedule, T)).to(device)
    got = student.snr(alpha_bar)
    derived = torch.tensor([a / (1 - a) for a in alpha_bar.tolist()], dtype=torch.float64).to(device)
    hint = "signal-to-noise ratio: the signal variance alpha_bar over the noise variance 1 - alpha_bar"
    what = f"snr(alpha_bar), {schedule} schedule, T={T}"
    check.close(got, ref.snr(alpha_bar), what, hint=hint)
    check.close(got, derived, what, hint=hint)


@cases(schedule=SCHEDULES)
@requires("test_snr_values[{schedule}]")  # returning alpha_bar itself passes the checks below
def test_snr_decreasing(student, ref, check, device, schedule):
    """Is the SNR positive and strictly decreasing in t (each step adds noise)?"""
    alpha_bar = ref.alpha_bar(ref.get_schedule(schedule, T)).to(device)
    got = check.tensor(student.snr(alpha_bar), "snr(alpha_bar)")
    what = f"snr(alpha_bar), {schedule} schedule, T={T}"
    check.shape(got, (T,), what)
    check.true(bool((got > 0).all()), what, "some values are not positive")
    check.true(bool((got[1:] < got[:-1]).all()), what, "not strictly decreasing in t",
               hint="alpha_bar decreases with t, so alpha_bar / (1 - alpha_bar) must too")


@cases(schedule=SCHEDULES)
def test_v_target_values(student, ref, check, device, schedule):
    """Is v = sqrt(alpha_bar[t]) noise - sqrt(1 - alpha_bar[t]) x0, so that x0 = sqrt(ab) x_t - sqrt(1 - ab) v?"""
    _, alpha_bar, t, x0, noise = _setup(ref, device, schedule)
    got = student.v_target(x0, t, alpha_bar, noise)
    ab = [float(alpha_bar[int(s)]) for s in t]
    derived = _like(_per_sample([(math.sqrt(a), -math.sqrt(1 - a)) for a in ab], noise, x0), x0)
    hint = "v = sqrt(alpha_bar[t]) * noise - sqrt(1 - alpha_bar[t]) * x0 (Salimans & Ho 2022)"
    what = f"v_target(x0, t, alpha_bar, noise), {schedule} schedule, {_t_text(t)}"
    check.close(got, ref.v_target(x0, t, alpha_bar, noise), what, hint=hint)
    check.close(got, derived, what, hint=hint)
    # The identity that makes v useful: x0 = sqrt(ab) * x_t - sqrt(1 - ab) * v.
    x_t = ref.q_sample(x0, t, alpha_bar, noise)
    recovered = _like(_per_sample([(math.sqrt(a), -math.sqrt(1 - a)) for a in ab], x_t, got), x0)
    check.close(recovered, x0, "sqrt(alpha_bar[t]) * x_t - sqrt(1 - alpha_bar[t]) * v_target(...)", hint=hint)
