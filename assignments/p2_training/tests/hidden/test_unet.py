"""Hidden tests of ``UNet``: output shapes for several configurations, values with the
reference weights (float64), that the timestep changes the output, and that the loss
sends a gradient to every parameter.

Models are built by the student's own ``UNetConfig`` and ``UNet`` inside the sandbox;
the layers ``__init__`` creates (and their names) are given in the handout, so the
reference weights can be loaded into them.
"""

import torch

from autograder.sandbox.errors import StudentException
from autograder.testing import CheckFailure, cases, requires

# UNetConfig keyword arguments by case name: 8x8 grey and 16x16 RGB, with and without attention.
CONFIGS = {
    "8x8_grey_attention": dict(base_channels=16, channel_mults=(1, 2), attention_resolutions=(4,)),
    "8x8_grey_no_attention": dict(base_channels=16, channel_mults=(1, 2), attention_resolutions=()),
    "16x16_rgb_attention": dict(in_channels=3, image_size=16, base_channels=16, channel_mults=(1, 2, 2),
                                num_res_blocks=2, attention_resolutions=(8,), attention_heads=2),
    "16x16_rgb_no_attention": dict(in_channels=3, image_size=16, base_channels=8, channel_mults=(1, 2),
                                   attention_resolutions=(), time_dim=24),
}
TIMESTEPS = [0, 500, 999]
UNET_HINT = ("emb = timestep_embedding(t, base_channels) cast to x_t's dtype, t_emb = time_embed(emb); h = conv_in(x_t), "
             "kept as the first skip; every down stage's output is kept too; then mid; each up stage first takes "
             "cat([h, skips.pop()], dim=1) (the most recent skip first); finally out(h)")
LAYER_HINT = ("keep the layers that __init__ creates, with their names: the grader loads known weights into them "
              "with load_state_dict and compares your forward pass with the reference")


def _describe(name: str) -> str:
    args = ", ".join(f"{k}={v}" for k, v in CONFIGS[name].items())
    return f"UNet(UNetConfig({args}))"


def _inputs(name: str, device, dtype=torch.float32, seed: int = 0):
    kw = CONFIGS[name]
    c, s = kw.get("in_channels", 1), kw.get("image_size", 8)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((len(TIMESTEPS), c, s, s), generator=g, dtype=torch.float64).to(device, dtype)
    return x, torch.tensor(TIMESTEPS, dtype=torch.long).to(device)


def _student_unet(student, name: str, device):
    return student.UNet(student.UNetConfig(**CONFIGS[name])).to(device)


def _check_finite(check, got: torch.Tensor, what: str) -> None:
    bad = int((~torch.isfinite(got)).sum())
    check.true(bad == 0, what, f"the output has {bad} NaN or infinite value(s) out of {got.numel()}",
               hint="look for a division by zero, a log of zero or an uninitialised tensor (torch.empty)")


@cases(config=list(CONFIGS))
@requires("test_unet_values[{config}]")  # returning zeros passes the checks below
def test_unet_output_shapes(student, check, device, config):
    """Does the U-Net return finite eps shaped and typed like x_t, for grey 8x8 and RGB 16x16, with and without attention?"""
    what = f"{_describe(config)}(x_t, t) with x_t float32 of shape {{}} and t={TIMESTEPS}"
    x, t = _inputs(config, device)
    what = what.format(tuple(x.shape))
    eps = _student_unet(student, config, device)(x, t)
    check.shape(eps, x.shape, what, hint="eps has the shape of x_t: every down stage must be matched by an up "
                                         "stage, and out maps base_channels back to in_channels")
    check.true(eps.dtype == x.dtype, what, f"the output is {eps.dtype}, expected {x.dtype}",
               hint="keep the dtype of x_t")
    _check_finite(check, eps, what)


@cases(config=list(CONFIGS))
def test_unet_values(student, ref, check, device, config):
    """Given the reference weights, does the U-Net compute the reference's eps (in float64)?"""
    what = f"{_describe(config)} in float64 with the reference weights, t={TIMESTEPS}"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        reference = ref.UNet(ref.UNetConfig(**CONFIGS[config])).double().to(device).eval()
    model = student.UNet(student.UNetConfig(**CONFIGS[config])).double()
    try:
        model.load_state_dict(reference.state_dict())
    except StudentException as e:
        raise CheckFailure(what, "the grader could not load the reference weights into your U-Net",
                           got=e.message[:600], hint=LAYER_HINT) from None
    model = model.to(device).eval()
    x, t = _inputs(config, device, torch.float64, seed=2)
    try:
        got = model(x, t)
    except StudentException as e:
        raise CheckFailure(what, f"your forward pass raised {e.exc_type}: {e.message[:300]}", hint=(
            "a float64 model gets float64 x_t: cast the time embedding to x_t.dtype before time_embed; "
            + UNET_HINT)) from None
    check.shape(got, x.shape, what)
    with torch.no_grad():
        expected = reference(x, t)
    # The time embedding is float32 by contract, so float32 rounding (in the order of 1e-7 in eps) is allowed.
    check.close(got, expected, what, atol=1e-5, rtol=1e-4, hint=UNET_HINT)


@requires("test_unet_values")  # returning random noise passes the checks below
def test_unet_time_conditioning(student, check, device):
    """Does the timestep change the prediction for the same x_t (already at initialisation)?"""
    name = "8x8_grey_attention"
    what = f"{_describe(name)}(x_t, t) with its own initial weights, the same two images at t=0 and t=999"
    model = _student_unet(student, name, device)
    g = torch.Generator().manual_seed(3)
    x = torch.randn((2, 1, 8, 8), generator=g).to(device).repeat(2, 1, 1, 1)  # the same two images twice
    eps = model(x, torch.tensor([0, 0, 999, 999]).to(device))
    check.shape(eps, x.shape, what)
    _check_finite(check, eps, what)
    change = float((eps[:2] - eps[2:]).detach().abs().max())
    check.true(change > 1e-4, what, f"the output hardly depends on t (largest change {change:.2g})",
               hint="embed t with timestep_embedding, pass it through time_embed and give the result to every "
                    "ResBlock, which adds time_proj(silu(t_emb)) to its features")


@requires("test_unet_values[16x16_rgb_attention]")  # zeros plus 0 * every parameter pass the checks below
def test_unet_gradients_reach_every_parameter(student, provided, check, device):
    """Does a loss on the output send a finite, non-zero gradient to every parameter of the U-Net?"""
    name = "16x16_rgb_attention"
    what = f"gradients of mean(UNet(x_t, t)^2) for {_describe(name)}"
    model = _student_unet(student, name, device)
    x, t = _inputs(name, device, seed=4)
    norms = provided("_diffgrade_testmodels", "grad_norms", model, x, t)
    check.true(isinstance(norms, dict) and len(norms) > 0, what, "the model has no parameters")
    missing = sorted(n for n, v in norms.items() if v is None)
    check.true(not missing, what, f"no gradient reaches {len(missing)} parameter(s): {', '.join(missing[:8])}",
               hint="every layer __init__ creates must be used in forward, on the path from x_t and t to eps")
    bad = sorted(n for n, v in norms.items() if not v == v or v in (float("inf"), float("-inf")))
    check.true(not bad, what, f"NaN or infinite gradients for {', '.join(bad[:8])}")
    zero = sorted(n for n, v in norms.items() if v == 0.0)
    check.true(not zero, what, f"the gradient is exactly zero for {', '.join(zero[:8])}",
               hint="a layer whose output is multiplied by zero or detached learns nothing")
