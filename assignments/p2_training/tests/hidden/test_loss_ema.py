"""Hidden tests of ``diffusion_loss`` (DDPM L_simple) and ``ema_update``.

Both run on the grader's small test models (``TinyEpsModel``, ``GaussianEpsModel``),
built inside the sandbox for the student's code and, from the same class and seed,
in the grader for the reference and for the formulas written here.
"""

import torch

from autograder.grading.grade import load_reference
from autograder.sandbox.runtime.testmodels import TinyEpsModel
from autograder.testing import cases, requires

MODELS = "_diffgrade_testmodels"
T = 1000
TIMESTEPS = [999, 0, 500, 1, 250, 998]  # one per sample, with both ends of [0, T)
LOSS_HINT = ("x_t = q_sample(x0, t, alpha_bar, noise) (from p1_forward); return the mean over every element of "
             "(noise - model(x_t, t)) ** 2, as a scalar tensor that keeps the graph (no .item(), no .detach())")


def p1(config):
    """The reference P1 package (schedules), as the student's P2 code gets it."""
    return load_reference("p1_forward", config.root.parents[1])


def _randn(shape, seed: int, device) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed)).to(device)


@cases(schedule=["linear", "cosine"])
def test_diffusion_loss_values(student, ref, provided, check, config, device, schedule):
    """Is the loss mean((noise - model(sqrt(ab_t) x0 + sqrt(1 - ab_t) noise, t))^2), with t per sample, and differentiable?"""
    forward = p1(config)
    alpha_bar = forward.alpha_bar(forward.get_schedule(schedule, T)).to(device)
    shape = (len(TIMESTEPS), 2, 8, 8)
    x0 = _randn(shape, 1, device).clamp(-1, 1)
    noise = _randn(shape, 2, device)
    t = torch.tensor(TIMESTEPS).to(device)
    model = provided(MODELS, "TinyEpsModel", channels=2, T=T, seed=3).to(device)
    local = TinyEpsModel(channels=2, T=T, seed=3).to(device)
    what = f"diffusion_loss(model, x0, t, alpha_bar, noise), {schedule} schedule, t={TIMESTEPS}"

    got = student.diffusion_loss(model, x0, t, alpha_bar, noise)
    check.tensor(got, what, hint=LOSS_HINT)
    check.true(got.dim() == 0, what, f"expected a scalar (shape ()), got shape {tuple(got.shape)}",
               hint="average over the batch and every pixel: one number")
    check.true(got.requires_grad, what, "the loss does not require grad: training could not back-propagate it",
               hint=LOSS_HINT)
    with torch.no_grad():
        expected = ref.diffusion_loss(local, x0, t, alpha_bar, noise)
        # The same, written out here: q_sample per sample in float64, then the mean squared error.
        a = alpha_bar[t].reshape(-1, 1, 1, 1)  # (B, 1, 1, 1), float64
        x_t = (a.sqrt() * x0.double() + (1 - a).sqrt() * noise.double()).float()
        by_hand = (noise - local(x_t, t)).square().mean()
    check.close(got, expected, what, hint=LOSS_HINT)
    check.close(got, by_hand, what, hint=LOSS_HINT)


EMA_HINT = ("for each pair of parameters in parameters() order: ema_p = decay * ema_p + (1 - decay) * p, in place "
            "and under torch.no_grad(); the model itself is not changed")


@cases(decay=[0.9, 0.999, 0.0])
def test_ema_update_math(student, provided, check, device, decay):
    """Does ema_update set ema = decay * ema + (1 - decay) * model, in place, twice in a row, leaving the model alone?"""
    ema = provided(MODELS, "TinyEpsModel", channels=2, T=T, seed=1).to(device)
    model = provided(MODELS, "TinyEpsModel", channels=2, T=T, seed=2).to(device)
    e0, m0 = ema.state_dict(), model.state_dict()
    expected = dict(e0)
    for call in (1, 2):
        student.ema_update(ema, model, decay)
        got, model_after = ema.state_dict(), model.state_dict()
        expected = {k: (decay * expected[k].double() + (1 - decay) * m0[k].double()).float() for k in e0}
        what = f"EMA weights after {call} call(s) of ema_update(ema_model, model, decay={decay})"
        check.true(isinstance(got, dict) and set(got) == set(e0), what, "the EMA model lost or gained weights")
        for key in e0:
            check.close(got[key], expected[key], f"{what}: {key}", hint=EMA_HINT)
        for key in m0:
            check.close(model_after[key], m0[key], f"model weights after ema_update: {key}", atol=0.0, rtol=0.0,
                        hint="ema_update must not change the model it averages")


@requires("test_ema_update_math")  # copying the whole state dict passes the checks below
def test_ema_copies_buffers(student, provided, check, config, device):
    """Are buffers (here a schedule held by the model) copied from the model, not averaged?"""
    forward = p1(config)
    linear = forward.alpha_bar(forward.get_schedule("linear", T))
    cosine = forward.alpha_bar(forward.get_schedule("cosine", T))
    ema = provided(MODELS, "GaussianEpsModel", linear).to(device)
    model = provided(MODELS, "GaussianEpsModel", cosine).to(device)
    student.ema_update(ema, model, 0.9)
    got = ema.state_dict()
    what = "the buffer alpha_bar of the EMA model after ema_update(ema_model, model, decay=0.9)"
    check.true(isinstance(got, dict) and "alpha_bar" in got, what, "the EMA model lost its buffer")
    check.close(got["alpha_bar"], cosine.to(device), what, atol=0.0, rtol=0.0,
                hint="buffers (in buffers() order) are copied from the model unchanged, not averaged")
