"""Hidden tests of the training loop: ``draw_batch``, ``train_step`` and a short run of ``train``.

Everything runs on the grader's ``TinyEpsModel`` (a convolution and two scalars),
so the loop itself is tested, not the student's U-Net. The reference runs the
same steps in the grader on an identical model; draws come from the seeded
generator of the contract, so a correct loop follows the reference closely.
"""

import math

import torch

from autograder.data import load_digits
from autograder.grading.grade import load_reference
from autograder.sandbox.runtime.testmodels import TinyEpsModel
from autograder.testing import cases

MODELS = "_diffgrade_testmodels"
T = 1000
DRAW_HINT = ("three draws from the generator, in this order: index = torch.randint(0, N, (batch_size,)); "
             "t = torch.randint(0, T, (batch_size,)); noise = torch.randn(x0.shape, dtype=data.dtype), "
             "each with generator=generator")
STEP_HINT = ("loss = diffusion_loss(...); optimizer.zero_grad(); loss.backward(); clip_grad_norm_(model.parameters(), "
             "config.grad_clip) unless it is None; optimizer.step(); ema_update(ema_model, model, config.ema_decay); "
             "return loss.item()")


def _data(n: int = 256) -> torch.Tensor:
    return load_digits("train")[0][:n]  # (n, 1, 8, 8) in [-1, 1]


def _randn(shape, seed: int) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def test_draw_batch(student, ref, check):
    """Does draw_batch draw the image indices, then t in [0, T), then the noise, all from the generator?"""
    data32 = _randn((40, 2, 4, 4), 0).clamp(-1, 1)
    # float64 data: the noise must follow the data's dtype (the loss is computed in it).
    for data, batch_size, steps, seed in ((data32, 12, 1000, 7), (data32, 5, 50, 8), (data32.double(), 6, 1000, 9)):
        what = f"draw_batch(data of shape {tuple(data.shape)}, batch_size={batch_size}, T={steps}, generator seeded {seed})"
        got = student.draw_batch(data, batch_size, steps, torch.Generator().manual_seed(seed))
        check.true(isinstance(got, (tuple, list)) and len(got) == 3, what,
                   f"must return the tuple (x0, t, noise), got {type(got).__name__}")
        expected = ref.draw_batch(data, batch_size, steps, torch.Generator().manual_seed(seed))
        for name, g, e in zip(("x0", "t", "noise"), got, expected):
            check.close(g, e, f"{name} of {what}", hint=DRAW_HINT)


@cases(grad_clip=[None, 0.05])
def test_train_step(student, ref, provided, check, config, device, grad_clip):
    """Do two train_steps give the reference's losses, gradients (clipped when asked), weights and EMA weights?"""
    forward = load_reference("p1_forward", config.root.parents[1])
    alpha_bar = forward.alpha_bar(forward.get_schedule("linear", T)).to(device)
    settings = dict(steps=2, lr=1e-2, ema_decay=0.8, grad_clip=grad_clip)
    model = provided(MODELS, "TinyEpsModel", channels=1, T=T, seed=4).to(device)
    ema = provided(MODELS, "TinyEpsModel", channels=1, T=T, seed=4).to(device)
    optimizer = provided(MODELS, "adamw", model, lr=settings["lr"], weight_decay=0.0)
    train_config = student.TrainConfig(**settings)
    local, local_ema = TinyEpsModel(1, T, seed=4).to(device), TinyEpsModel(1, T, seed=4).to(device)
    local_optimizer = torch.optim.AdamW(local.parameters(), lr=settings["lr"], weight_decay=0.0)
    local_config = ref.TrainConfig(**settings)
    for step in (1, 2):
        x0 = _data(64)[step * 8:(step + 1) * 8].to(device)
        t = torch.randint(0, T, (8,), generator=torch.Generator().manual_seed(step)).to(device)
        noise = _randn((8, 1, 8, 8), 10 + step).to(device)
        what = f"train_step number {step} with grad_clip={grad_clip} (AdamW, lr=1e-2, ema_decay=0.8)"
        loss = student.train_step(model, ema, optimizer, x0, t, noise, alpha_bar, train_config)
        expected = ref.train_step(local, local_ema, local_optimizer, x0, t, noise, alpha_bar, local_config)
        check.true(isinstance(loss, float), what, f"must return the loss as a Python float, got {type(loss).__name__}",
                   hint="return loss.item()")
        check.true(math.isclose(loss, expected, rel_tol=1e-4, abs_tol=1e-6), what,
                   f"wrong loss: expected {expected:.6g}, got {loss:.6g}", hint=STEP_HINT)
        grads = provided(MODELS, "param_grads", model)
        for name, p in local.named_parameters():
            check.true(grads.get(name) is not None, f"gradient of {name} after {what}", "no gradient was kept",
                       hint=STEP_HINT)
            check.close(grads[name], p.grad, f"gradient of {name} after {what}",
                        hint="clear the gradients before backward (else they add up over steps); clip after "
                             "backward and before optimizer.step(); " + STEP_HINT)
        got_model, got_ema = model.state_dict(), ema.state_dict()
        for key, value in local.state_dict().items():
            check.close(got_model[key], value, f"weight {key} after {what}", hint=STEP_HINT)
        for key, value in local_ema.state_dict().items():
            check.close(got_ema[key], value, f"EMA weight {key} after {what}",
                        hint="update the EMA after optimizer.step(), with config.ema_decay")


def _train_both(student, ref, provided, device):
    """The student's and the reference's ``train`` on the same TinyEpsModel and digits."""
    settings = dict(steps=80, batch_size=32, lr=1e-2, ema_decay=0.9, seed=5, log_every=20)
    data = _data()
    model = provided(MODELS, "TinyEpsModel", channels=1, T=T, seed=6)
    result = student.train(model, data, student.TrainConfig(**settings), device=device)
    local = TinyEpsModel(1, T, seed=6)
    expected = ref.train(local, data, ref.TrainConfig(**settings), device=device)
    return settings, model, result, local, expected


def _windows(history: list[float], width: int) -> list[float]:
    return [sum(history[i:i + width]) / width for i in range(0, len(history) - width + 1, width)]


def test_train_lowers_the_loss_like_the_reference(student, ref, provided, check, device):
    """Does a short train() run keep one finite loss per step and lower it as the reference's run does?"""
    settings, _, result, _, expected = _train_both(student, ref, provided, device)
    what = (f"train(TinyEpsModel, 256 digits, TrainConfig({', '.join(f'{k}={v}' for k, v in settings.items())}))"
            ".loss_history")
    history = result.attr("loss_history")
    length = len(history) if isinstance(history, (list, tuple)) else "?"
    check.true(isinstance(history, list) and length == settings["steps"], what,
               f"expected a list of {settings['steps']} losses, one per step; got a {type(history).__name__} "
               f"of length {length}")
    check.true(all(isinstance(v, float) for v in history), what, "the losses must be Python floats",
               hint="train_step returns loss.item()")
    bad = [i for i, v in enumerate(history) if not math.isfinite(v)]
    check.true(not bad, what, f"the loss is NaN or infinite from step {bad[0] + 1 if bad else 0} on")
    got_w, exp_w = _windows(history, 20), _windows(expected.loss_history, 20)
    text = f"means of 20 steps: expected about {[round(v, 3) for v in exp_w]}, got {[round(v, 3) for v in got_w]}"
    check.true(got_w[-1] < 0.75 * got_w[0], what, f"the loss did not go down ({text})", hint=STEP_HINT)
    check.true(all(abs(g - e) <= 0.1 * e + 0.01 for g, e in zip(got_w, exp_w)), what,
               f"the loss curve differs from the reference's ({text})",
               hint="draw each batch with draw_batch and the seeded generator, and take one train_step per batch")


def test_train_returns_ema_model(student, ref, provided, check, device):
    """Is TrainResult.ema_model a separate EMA of the weights, close to the reference's, and the model trained in place?"""
    settings, model, result, local, expected = _train_both(student, ref, provided, device)
    what = f"train(...) with ema_decay={settings['ema_decay']} after {settings['steps']} steps"
    check.equal(result.attr("steps_done"), settings["steps"], f"TrainResult.steps_done of {what}")
    ema = result.attr("ema_model").state_dict()
    trained = model.state_dict()
    for key, value in expected.ema_model.state_dict().items():
        check.close(ema[key], value, f"TrainResult.ema_model weight {key} of {what}", atol=2e-3, rtol=2e-2,
                    hint="the EMA model starts as a copy of the model and gets ema_update after every step")
    for key, value in local.state_dict().items():
        check.close(trained[key], value, f"weight {key} of the model trained in place by {what}", atol=2e-3,
                    rtol=2e-2, hint="train() updates the model it is given")
    gap = max(float((ema[k] - trained[k]).abs().max()) for k in trained)
    check.true(gap > 1e-6, what, "ema_model holds the same weights as the trained model",
               hint="the EMA lags behind the model: ema = decay * ema + (1 - decay) * model")
