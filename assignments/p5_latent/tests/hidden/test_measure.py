"""Hidden tests of the pixel-versus-latent measurement: ``activation_bytes``, ``time_per_step``,
``measure_training_step`` and ``compare``.

What the student's code measures in the sandbox is compared with the grader's own measurement
of the same work, made here in the same run: the callables are built in the worker from
``torch``, the standard library and the provided ``p2_training`` (``functools.partial`` over a
function or a module), and the same ones here, with the same shapes (and, where training is
compared, the same weights). Saved-tensor bytes depend only on the operations and shapes, so
they must agree exactly; times are compared as ratios with a wide margin, each side on one
thread; a step that sleeps known durations pins down the median. After training, the U-Nets'
weights must be those of the documented steps and draws. Last, at the CPU budget (batch 32 at
32x32, U-Nets of equal width, the student's VAE), latent space must be at least ``min_speedup``
times faster and use at most ``max_memory_ratio`` of the activation memory.
"""

import copy
from contextlib import contextmanager
from pathlib import Path

import torch

from autograder.grading.runner import load_module
from autograder.sandbox.errors import StudentCodeError, StudentException
from autograder.testing import CheckFailure, cases, requires

shared = load_module(Path(__file__).with_name("_shared.py"), prefix="p5_hidden")

TIME_FACTOR = 3.0  # a time per step may differ from the grader's own by this factor either way
SPEEDUP_FACTOR = 2.0  # and a speedup by this one
# The student may write the MSE of a loss in another way (F.mse_loss saves both of its inputs,
# (eps - noise).square().mean() saves their difference): a few latent- or image-sized tensors,
# under 0.5% of a U-Net's saved bytes here.
BYTES_RTOL = 0.01
GPU_BYTES_RTOL = 0.25  # peak GPU memory: allocator rounding and where temporaries fall
BYTES_HINT = ("sum t.numel() * t.element_size() over every call of the pack hook of "
              "torch.autograd.graph.saved_tensors_hooks while fn(*args, **kwargs) runs")
STEP_HINT = ("one step is optimizer.zero_grad(set_to_none=True), loss_fn().backward(), optimizer.step() with "
             "torch.optim.AdamW(params, lr=lr); timed by time_per_step(step, steps, warmup); then the memory of "
             "one more call (activation_bytes(loss_fn) on a CPU, one more step on a GPU)")
DRAW_ORDER = ("the latent shape from latent.encode(images) first; then per call of a loss t = torch.randint(0, T, "
              "(B,), generator=generator) and then noise = torch.randn(shape, generator=generator); every call of "
              "the pixel loss (warm-up, timed steps, memory) before any of the latent loss")

# U-Nets of equal width (P2's UNetConfig), self-attention at the lowest resolution of each.
PIXEL_UNET = dict(in_channels=3, image_size=32, base_channels=16, channel_mults=(1, 2), attention_resolutions=(16,))
LATENT_UNET = dict(in_channels=4, image_size=8, base_channels=16, channel_mults=(1, 2), attention_resolutions=(4,))
BATCH = 32


# -- helpers ----------------------------------------------------------------------------------
def _saved_bytes(fn, *args) -> int:
    """The grader's own count: bytes of every tensor autograd saves while ``fn(*args)`` runs."""
    total = 0

    def pack(t: torch.Tensor) -> torch.Tensor:
        nonlocal total
        total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn(*args)
    return total


def _remote_function(provided, module: str, name: str):
    """The function ``module.name`` as a handle in the worker (called there)."""
    return provided("importlib", "import_module", module).attr(name)


def _remote_partial(provided, fn, *args):
    """``functools.partial(fn, *args)`` built in the worker: a closure the student's code can call."""
    return provided("functools", "partial", fn, *args)


@contextmanager
def _one_thread(provided, device):
    """One intra-op thread here and in the worker (CPU only): both sides then time the same kind of
    work, and these small models run fast even where other gradings share the machine (two
    threads that wait for each other can be ten times slower there)."""
    if device.type != "cpu":
        yield
        return
    ours, theirs = torch.get_num_threads(), provided("torch", "get_num_threads")
    torch.set_num_threads(1)
    provided("torch", "set_num_threads", 1)
    try:
        yield
    finally:
        torch.set_num_threads(ours)
        try:
            provided("torch", "set_num_threads", theirs)
        except StudentCodeError:
            pass  # the worker was restarted after a failure: it starts with its usual threads


def _unet_pair(provided, device, seed: int, **config):
    """``(remote, local)``: P2's reference U-Net with the same seeded weights in the worker and here."""
    from p2_training import UNet, UNetConfig  # the reference, importable once ``ref`` is loaded

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        local = UNet(UNetConfig(**config))
    remote = provided("p2_training", "UNet", provided("p2_training", "UNetConfig", **config))
    remote.load_state_dict(local.state_dict())
    remote.to(device)
    return remote, local.to(device)


def _field(handle, name: str, what: str, kinds):
    """``handle.name`` fetched from the worker, of one of the types ``kinds``, or a check failure."""
    try:
        value = handle.attr(name)
    except StudentException as e:
        raise CheckFailure(what, f"the result has no attribute {name!r}", got=e.message[:300],
                           hint="return the StepCost / Comparison dataclasses of measure.py") from None
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise CheckFailure(what, f"{name} is a {type(value).__name__}, expected {kinds[0].__name__}",
                           got=repr(value)[:200])
    return value


def _cost(handle, what: str) -> tuple[float, int]:
    """``(seconds, activation_bytes)`` of a ``StepCost`` in the worker."""
    return (float(_field(handle, "seconds", what, (float, int))), _field(handle, "activation_bytes", what, (int,)))


def _check_bytes(check, got: int, expected: int, device, what: str, rtol: float = 0.0) -> None:
    rtol = GPU_BYTES_RTOL if device.type == "cuda" else rtol
    ok = abs(got - expected) <= rtol * abs(expected)
    check.true(ok, what, f"activation bytes {got:,}, the grader measured {expected:,}"
               + (f" (tolerance {rtol:.0%})" if rtol else " (they must agree exactly)"),
               hint=BYTES_HINT if device.type == "cpu" else
               "on a GPU: torch.cuda.max_memory_allocated() over one step, after reset_peak_memory_stats(), "
               "less torch.cuda.memory_allocated() just before it")


def _within(got: float, measured: list[float], factor: float) -> bool:
    """``got`` within ``factor`` of the range of the grader's own measurements, either way."""
    return got > 0 and min(measured) / factor <= got <= max(measured) * factor


def _check_seconds(check, got: float, measured: list[float], what: str) -> None:
    """``measured``: the grader's own times, made just before and just after the student's (the
    machine's load may change in between)."""
    shown = " and ".join(f"{m * 1e3:.3g}" for m in measured)
    check.true(_within(got, measured, TIME_FACTOR), what, f"{got * 1e3:.3g} ms per step, the grader measured "
               f"{shown} ms (within a factor of {TIME_FACTOR:g} either way)",
               hint="time each step with time.perf_counter() and return the median, in seconds")


def _check_weights(check, remote, local, what: str, hint: str) -> None:
    got = remote.state_dict()
    for name, value in local.state_dict().items():
        check.close(got[name], value.detach(), f"{what}: parameter {name} after training", atol=1e-5, rtol=1e-4,
                    hint=hint)


# -- activation_bytes -------------------------------------------------------------------------
# Each case builds ``(remote_fn, local_fn, remote_args, local_args)``: the same computation in the
# worker and here, on inputs that require grad unless the name says otherwise.
def _tensor(shape, seed: int, device, dtype=torch.float32, grad: bool = True) -> torch.Tensor:
    return shared.randn(shape, seed, device, dtype).requires_grad_(grad)


def _torch_op(provided, name: str, *args):
    return _remote_function(provided, "torch", name), getattr(torch, name), args, args


def _mul_both(provided, device):
    return _torch_op(provided, "mul", _tensor((6, 7), 1, device), _tensor((6, 7), 2, device))


def _mul_one(provided, device):  # only the factor that multiplies the one needing grad is saved
    return _torch_op(provided, "mul", _tensor((6, 7), 1, device), _tensor((6, 7), 2, device, grad=False))


def _square_float64(provided, device):  # x * x saves x twice, once per factor
    x = _tensor((6, 7), 3, device, torch.float64)
    return _torch_op(provided, "mul", x, x)


def _exp_float64(provided, device):  # exp saves its output
    return _torch_op(provided, "exp", _tensor((6, 7), 4, device, torch.float64))


def _layers(provided, device, layers, x):
    """A ``Sequential`` of ``torch.nn`` layers ``[(name, args), ...]`` in the worker and here, called on ``x``."""
    remote = provided("torch.nn", "Sequential", *[provided("torch.nn", n, *a) for n, a in layers])
    remote.to(device)
    local = torch.nn.Sequential(*[getattr(torch.nn, n)(*a) for n, a in layers]).to(device)
    return remote, local, (x,), (x,)


def _linear_silu(provided, device):  # with x needing grad, the Linear saves its weight too
    return _layers(provided, device, [("Linear", (5, 3)), ("SiLU", ())], _tensor((4, 5), 5, device))


def _conv_groupnorm_silu(provided, device):
    layers = [("Conv2d", (3, 8, 3, 1, 1)), ("GroupNorm", (4, 8)), ("SiLU", ())]
    return _layers(provided, device, layers, _tensor((2, 3, 8, 8), 6, device))


SMALL_UNET = dict(in_channels=3, image_size=8, base_channels=8, channel_mults=(1, 2), attention_resolutions=(4,))


def _unet(provided, device):
    remote, local = _unet_pair(provided, device, seed=7, **SMALL_UNET)
    args = (shared.randn((3, 3, 8, 8), 8, device), torch.tensor([0, 500, 999], device=device))
    return remote, local, args, args


def _diffusion_loss(provided, device):
    from p2_training import diffusion_loss

    remote, local = _unet_pair(provided, device, seed=9, **SMALL_UNET)
    _, alpha_bar = shared.linear_schedule()
    args = (shared.randn((3, 3, 8, 8), 10, device), torch.tensor([3, 400, 998], device=device),
            alpha_bar.to(device), shared.randn((3, 3, 8, 8), 11, device))
    return _remote_function(provided, "p2_training", "diffusion_loss"), diffusion_loss, (remote, *args), (local, *args)


CLOSURES = {
    "mul_both_need_grad": _mul_both,
    "mul_one_needs_grad": _mul_one,
    "square_float64": _square_float64,
    "exp_float64": _exp_float64,
    "linear_silu": _linear_silu,
    "conv_groupnorm_silu": _conv_groupnorm_silu,
    "unet": _unet,
    "diffusion_loss": _diffusion_loss,
}


@cases(closure=list(CLOSURES))
def test_activation_bytes_values(student, check, provided, device, closure):
    """Are the bytes those of every tensor autograd saves for backward, counted once per save?"""
    remote_fn, local_fn, remote_args, local_args = CLOSURES[closure](provided, device)
    what = f"activation_bytes(fn, *args) where fn computes {closure}"
    with _one_thread(provided, device):
        got = student.activation_bytes(remote_fn, *remote_args)
    check.true(isinstance(got, int) and not isinstance(got, bool), what,
               f"returned {type(got).__name__}, expected an int", hint="return the total as a Python int")
    expected = _saved_bytes(local_fn, *local_args)
    check.true(got == expected, what, f"got {got:,} bytes, the grader counted {expected:,}",
               hint=BYTES_HINT + "; a tensor saved twice counts twice, saved parameters count")


@requires("test_activation_bytes_values")  # returning 0 passes this alone
def test_activation_bytes_is_zero_without_grad(student, check, provided, device):
    """Under torch.no_grad(), or when nothing requires grad, is the count 0?"""
    a, b = _tensor((6, 7), 1, device), _tensor((6, 7), 2, device)
    without_grad = provided("torch", "no_grad")(_remote_function(provided, "torch", "mul"))
    check.equal(student.activation_bytes(without_grad, a, b), 0, "activation_bytes(torch.no_grad()(torch.mul), a, b)",
                hint="count only what autograd saves: nothing, when no graph is recorded")
    remote, _ = _unet_pair(provided, device, seed=12, **SMALL_UNET)
    remote.requires_grad_(False)
    x, t = shared.randn((2, 3, 8, 8), 13, device), torch.tensor([1, 900], device=device)
    with _one_thread(provided, device):
        got = student.activation_bytes(remote, x, t)
    check.equal(got, 0, "activation_bytes(frozen_unet, x, t), x without grad",
                hint="count only what autograd saves: nothing, when no input or parameter requires grad")


# -- time_per_step ----------------------------------------------------------------------------
# Steps that sleep known durations (seconds), one per call: (steps, warmup, durations, median).
# The median differs from the mean, the minimum, the median with the warm-up calls and (with an
# even number of steps) from either middle value alone.
SLEEPS = {
    "5_steps_2_warmup": (5, 2, [0.1, 0.1, 0.03, 0.06, 0.02, 0.15, 0.03], 0.03),
    "4_steps_no_warmup": (4, 0, [0.02, 0.3, 0.04, 0.07], 0.055),
}
# time.sleep may overshoot on a busy machine (it never returns early); the nearest wrong answers
# are 0.015 s or more above the median.
SLEEP_SLACK = 0.012


@cases(setting=list(SLEEPS))
def test_time_per_step_median(student, check, provided, setting):
    """Is step called warmup + steps times, and the median of the timed calls returned, in seconds?"""
    steps, warmup, durations, median = SLEEPS[setting]
    sleeps = provided("builtins", "map", _remote_function(provided, "time", "sleep"), durations)
    step = _remote_partial(provided, _remote_function(provided, "builtins", "next"), sleeps)
    what = f"time_per_step(step, steps={steps}, warmup={warmup}) where the calls of step sleep {durations} s"
    calls = f"step must be called exactly warmup + steps = {warmup + steps} times"
    try:
        got = student.time_per_step(step, steps, warmup)
    except StudentException as e:
        if e.exc_type == "StopIteration":
            raise CheckFailure(what, f"step was called more than {warmup + steps} times", hint=calls) from None
        raise
    check.raises("StopIteration", step, f"{what}: one more call of step after it", hint=calls)
    check.true(isinstance(got, float) and median <= got <= median + SLEEP_SLACK, what,
               f"got {got!r}, expected the median {median} s (up to {SLEEP_SLACK} s later)",
               hint="time each of the last `steps` calls on its own (time.perf_counter) and return statistics.median "
                    "of them: not the mean, not the minimum, and without the warm-up calls")


def test_time_per_step_bad_arguments(student, check, provided):
    """Are steps < 1 and warmup < 0 refused with ValueError?"""
    step = _remote_function(provided, "time", "perf_counter")
    for steps, warmup in ((0, 2), (3, -1)):
        check.raises("ValueError", lambda: student.time_per_step(step, steps, warmup),
                     f"time_per_step(step, steps={steps}, warmup={warmup})",
                     hint="there is no median of no steps, and no negative number of warm-up calls")


# -- measure_training_step --------------------------------------------------------------------
@requires("test_activation_bytes_values", "test_time_per_step_median")
def test_measure_training_step(student, ref, check, provided, device):
    """Are the seconds and bytes those of AdamW steps on loss_fn, and the parameters trained by exactly those steps?"""
    from p2_training import diffusion_loss

    remote, local = _unet_pair(provided, device, seed=14, **SMALL_UNET)
    _, alpha_bar = shared.linear_schedule()
    args = (shared.randn((8, 3, 8, 8), 15, device), torch.arange(0, 1000, 125, device=device),
            alpha_bar.to(device), shared.randn((8, 3, 8, 8), 16, device))
    loss_fn = _remote_partial(provided, _remote_function(provided, "p2_training", "diffusion_loss"), remote, *args)
    steps, warmup, lr = 4, 1, 1e-3
    what = f"measure_training_step(loss_fn, unet.parameters(), steps={steps}, warmup={warmup}, lr={lr})"

    def own(model):  # the grader's own measurement, on a copy made before and on the twin after
        return ref.measure_training_step(lambda: diffusion_loss(model, *args), model.parameters(), steps, warmup, lr)

    with _one_thread(provided, device):
        before = own(copy.deepcopy(local))
        cost = student.measure_training_step(loss_fn, remote.parameters(), steps, warmup, lr)
        expected = own(local)
    seconds, nbytes = _cost(cost, what)
    _check_bytes(check, nbytes, expected.activation_bytes, device, what)
    _check_seconds(check, seconds, [before.seconds, expected.seconds], what)
    _check_weights(check, remote, local, what, STEP_HINT)


# -- compare ----------------------------------------------------------------------------------
def _models(student, ref, provided, device, pixel: dict, latent: dict, seed: int):
    """The pixel and latent U-Nets and a PoolVAE, in the worker and here, with the student's and the
    reference's LatentDiffusion around them: ``(remote, local, alpha_bar)``, the first two
    ``(pixel_unet, latent_unet, latent)``."""
    _, alpha_bar = shared.linear_schedule()
    alpha_bar = alpha_bar.to(device)
    pixel_remote, pixel_local = _unet_pair(provided, device, seed, **pixel)
    latent_remote, latent_local = _unet_pair(provided, device, seed + 1, **latent)
    vae_remote, vae_local = shared.pool_vae(provided, device, seed=seed + 2)
    scale = 1.3
    return ((pixel_remote, latent_remote, student.LatentDiffusion(vae_remote, latent_remote, scale, alpha_bar)),
            (pixel_local, latent_local, ref.LatentDiffusion(vae_local, latent_local, scale, alpha_bar)), alpha_bar)


@requires("test_measure_training_step")
def test_compare_agrees_with_the_grader(student, ref, check, provided, device):
    """Are both costs, the speedup and the memory ratio those the grader measures, within margins?"""
    (pixel, _, latent), (pixel_local, _, latent_local), alpha_bar = _models(
        student, ref, provided, device, PIXEL_UNET, LATENT_UNET, seed=20)
    images = shared.shapes(16, "train", seed=21).to(device)
    what = f"compare(pixel_unet, latent, images {tuple(images.shape)}, alpha_bar, steps=5, warmup=1, generator)"

    def own():
        return ref.compare(pixel_local, latent_local, images, alpha_bar, steps=5, warmup=1,
                           generator=shared.generator(22))

    with _one_thread(provided, device):  # the grader measures just before and just after the student's code
        before = own()
        result = student.compare(pixel, latent, images, alpha_bar, steps=5, warmup=1, generator=shared.generator(22))
        after = own()
    costs = {}
    for side in ("pixel", "latent"):
        seconds, nbytes = costs[side] = _cost(_field(result, side, what, (object,)), f"{what}.{side}")
        _check_bytes(check, nbytes, getattr(after, side).activation_bytes, device, f"{what}.{side}", rtol=BYTES_RTOL)
        _check_seconds(check, seconds, [getattr(before, side).seconds, getattr(after, side).seconds],
                       f"{what}.{side}")
    speedup = float(_field(result, "speedup", what, (float, int)))
    ratio = float(_field(result, "memory_ratio", what, (float, int)))
    check.true(abs(speedup - costs["pixel"][0] / costs["latent"][0]) <= 1e-9 * speedup, what,
               f"speedup {speedup:.4g} is not pixel.seconds / latent.seconds", hint="keep Comparison's properties")
    check.true(abs(ratio - costs["latent"][1] / costs["pixel"][1]) <= 1e-9, what,
               f"memory_ratio {ratio:.4g} is not latent.activation_bytes / pixel.activation_bytes",
               hint="keep Comparison's properties")
    check.true(_within(speedup, [before.speedup, after.speedup], SPEEDUP_FACTOR), what,
               f"speedup {speedup:.3g}, the grader measured {before.speedup:.3g} and {after.speedup:.3g} "
               f"(within a factor of {SPEEDUP_FACTOR:g} either way)", hint=STEP_HINT)


TINY_PIXEL = dict(in_channels=3, image_size=16, base_channels=8, channel_mults=(1, 2), attention_resolutions=())
TINY_LATENT = dict(in_channels=4, image_size=4, base_channels=8, channel_mults=(1, 2), attention_resolutions=())


@requires("test_measure_training_step", "test_latent_loss_values")
def test_compare_follows_the_documented_draws(student, ref, check, provided, device):
    """After compare, are both U-Nets trained exactly by the documented steps, losses and draws?"""
    (pixel, latent_unet, latent), (pixel_local, latent_unet_local, latent_local), alpha_bar = _models(
        student, ref, provided, device, TINY_PIXEL, TINY_LATENT, seed=30)
    images = torch.nn.functional.avg_pool2d(shared.shapes(4, "train", seed=31), 2).to(device)  # (4, 3, 16, 16)
    what = f"compare(pixel_unet, latent, images {tuple(images.shape)}, alpha_bar, steps=3, warmup=1, generator)"
    with _one_thread(provided, device):  # small models: two threads that wait for each other are far slower
        student.compare(pixel, latent, images, alpha_bar, steps=3, warmup=1, generator=shared.generator(32))
        ref.compare(pixel_local, latent_local, images, alpha_bar, steps=3, warmup=1, generator=shared.generator(32))
    loss = ("measure_training_step of diffusion_loss(pixel_unet, images, t, alpha_bar, noise), then of "
            "latent.loss(images, t, noise)")
    _check_weights(check, pixel, pixel_local, f"{what}, the pixel U-Net", f"{loss}; {DRAW_ORDER}")
    _check_weights(check, latent_unet, latent_unet_local, f"{what}, the latent U-Net", f"{loss}; {DRAW_ORDER}")


@requires("test_compare_agrees_with_the_grader")
def test_latent_space_is_cheaper(student, check, config, metrics, provided):
    """With your VAE, at batch 32 on 32x32 images and U-Nets of equal width, on a CPU, is a latent step
    at least min_speedup times faster, with at most max_memory_ratio of the activation memory?

    On a CPU whatever the grading device: that is where the thresholds were measured (on a GPU, models
    this small are bound by kernel launches, not by the positions they compute)."""
    cpu = torch.device("cpu")
    _, alpha_bar = shared.linear_schedule()
    pixel = provided("p2_training", "UNet", provided("p2_training", "UNetConfig", **PIXEL_UNET))
    latent_unet = provided("p2_training", "UNet", provided("p2_training", "UNetConfig", **LATENT_UNET))
    latent = student.LatentDiffusion(student.VAE(student.VAEConfig()), latent_unet, 1.0, alpha_bar)
    images = shared.shapes(BATCH, "train", seed=40)
    what = f"compare(...) with your VAE(VAEConfig()), U-Nets of width 16 x (1, 2), batch {BATCH} at 32x32, on a CPU"
    with _one_thread(provided, cpu):
        result = student.compare(pixel, latent, images, alpha_bar, steps=5, warmup=1, generator=shared.generator(41))
    speedup = metrics.record("speedup", float(_field(result, "speedup", what, (float, int))))
    ratio = metrics.record("memory_ratio", float(_field(result, "memory_ratio", what, (float, int))))
    min_speedup, max_ratio = config.thresholds["min_speedup"], config.thresholds["max_memory_ratio"]
    check.true(speedup >= min_speedup, what, f"latent space is {speedup:.3g} times faster, at least {min_speedup:g} "
               "expected", hint="the latent step encodes the batch (frozen VAE, no graph) and trains the U-Net on "
                                "(B, 4, 8, 8) latents: 16 times fewer positions than (B, 3, 32, 32)")
    check.true(ratio <= max_ratio, what, f"latent space uses {ratio:.3g} of the activation memory, at most "
               f"{max_ratio:g} expected", hint="encode under torch.no_grad() with the VAE frozen: no graph of the "
                                              "encoder is kept, only the U-Net's")
