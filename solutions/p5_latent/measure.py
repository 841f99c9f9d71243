"""What latent diffusion saves: time per training step and activation memory, pixel against latent space.

Rombach et al. (2022) train in the latents of a frozen autoencoder because a U-Net on
``(B, 4, 8, 8)`` latents costs far less than the same U-Net on ``(B, 3, 32, 32)`` images.
This module measures it, at the same batch size, for one training step (forward, backward,
optimizer step):

- the time: the median over several steps after a warm-up, in seconds;
- the activation memory, in bytes: on a CPU the tensors autograd saves for backward
  (``activation_bytes``); on a GPU the peak of ``torch.cuda.max_memory_allocated`` over one
  step, less what was allocated before it.

The latent step includes encoding the batch with the frozen VAE (its cost is part of training
in latent space); the VAE's own training is not counted.
"""

import statistics
import time
from dataclasses import dataclass

import torch

from p2_training import diffusion_loss


@dataclass(frozen=True)
class StepCost:
    """The cost of one training step: ``seconds`` (median per step) and ``activation_bytes``."""

    seconds: float
    activation_bytes: int


@dataclass(frozen=True)
class Comparison:
    """Pixel against latent space at the same batch size. ``speedup`` above 1 and
    ``memory_ratio`` below 1 mean that latent space is cheaper."""

    pixel: StepCost
    latent: StepCost

    @property
    def speedup(self) -> float:
        """``pixel.seconds / latent.seconds``: how many times faster a latent step is."""
        return self.pixel.seconds / self.latent.seconds

    @property
    def memory_ratio(self) -> float:
        """``latent.activation_bytes / pixel.activation_bytes``: the fraction of the memory left."""
        return self.latent.activation_bytes / self.pixel.activation_bytes


def activation_bytes(fn, *args, **kwargs) -> int:
    """The bytes autograd saves for backward while ``fn(*args, **kwargs)`` runs (its result is dropped).

    Every time autograd saves a tensor for backward, the pack hook of
    ``torch.autograd.graph.saved_tensors_hooks`` is called with it once; the result is the sum
    of ``numel() * element_size()`` over those calls. So a tensor saved twice counts twice
    (``x * x`` saves ``x`` as both factors), a saved view counts its own elements, and saved
    parameters count (a ``Linear`` whose input requires grad saves its weight), while an
    operation that saves nothing (a sum, a ``Linear`` bias) adds 0. Under ``torch.no_grad()``,
    or when nothing requires grad, the result is 0. Any device; an ``int``.
    """
    # BEGIN SOLUTION
    total = 0

    def pack(t: torch.Tensor) -> torch.Tensor:
        nonlocal total
        total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn(*args, **kwargs)
    return total
    # END SOLUTION


def time_per_step(step, steps: int = 10, warmup: int = 2) -> float:
    """The median wall-clock time of ``step()``, in seconds (``time.perf_counter``).

    ``step`` is called exactly ``warmup + steps`` times: the first ``warmup`` calls are not
    timed (caches, lazy allocations), then each of the ``steps`` calls is timed on its own and
    the median of those ``steps`` times is returned (``statistics.median``: for an even number,
    the mean of the two middle times), a ``float``. When CUDA is available,
    ``torch.cuda.synchronize()`` runs before each timed call starts and before it stops, so
    queued GPU work is counted in its own step. ``steps`` below 1 or ``warmup`` below 0 raise
    ``ValueError``.
    """
    # BEGIN SOLUTION
    if steps < 1 or warmup < 0:
        raise ValueError(f"need steps >= 1 and warmup >= 0, got steps={steps}, warmup={warmup}")
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        sync()
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
    # END SOLUTION


def measure_training_step(loss_fn, params, steps: int = 10, warmup: int = 2, lr: float = 1e-4) -> StepCost:
    """The cost of training ``params`` on ``loss_fn()`` (a closure returning a scalar loss).

    A step is ``optimizer.zero_grad(set_to_none=True)``, ``loss_fn().backward()``,
    ``optimizer.step()`` with one ``torch.optim.AdamW(params, lr=lr)`` made here, and is timed
    by ``time_per_step(step, steps, warmup)``. Afterwards, the activation memory of one more
    call: if ``params`` live on a GPU, a whole step is run between
    ``torch.cuda.reset_peak_memory_stats()`` and ``torch.cuda.max_memory_allocated()`` (both
    after ``torch.cuda.synchronize()``), and the bytes allocated just before it are subtracted;
    otherwise ``activation_bytes(loss_fn)``. So ``loss_fn`` is called ``warmup + steps + 1``
    times. ``params``: an iterable of tensors (``model.parameters()``), all on one device.
    """
    # BEGIN SOLUTION
    params = list(params)
    optimizer = torch.optim.AdamW(params, lr=lr)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss_fn().backward()
        optimizer.step()

    seconds = time_per_step(step, steps, warmup)
    if params[0].device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        step()
        torch.cuda.synchronize()
        memory = torch.cuda.max_memory_allocated() - before
    else:
        memory = activation_bytes(loss_fn)
    return StepCost(seconds=float(seconds), activation_bytes=int(memory))
    # END SOLUTION


def compare(pixel_unet, latent, images: torch.Tensor, alpha_bar: torch.Tensor, *, steps: int = 10,
            warmup: int = 2, generator: torch.Generator | None = None, lr: float = 1e-4) -> Comparison:
    """Train ``pixel_unet`` on ``images`` and ``latent.unet`` on their latents for a few steps; their costs.

    ``images``: one batch ``(B, 3, H, W)``, used at every step; ``alpha_bar``: ``(T,)`` on the
    images' device; ``latent``: a ``LatentDiffusion`` (frozen VAE) whose U-Net ``latent.unet`` is
    trained. The pixel loss is P2's ``diffusion_loss(pixel_unet, images, t, alpha_bar, noise)``,
    the latent loss ``latent.loss(images, t, noise)``, which encodes the batch inside the step.
    Each is measured by ``measure_training_step(loss, unet.parameters(), steps, warmup, lr)``,
    pixel first.

    Draws: the latent shape comes from one ``latent.encode(images)`` before anything is timed
    (it draws nothing). Each call of a loss draws ``t = torch.randint(0, T, (B,),
    generator=generator)`` and then ``noise = torch.randn(shape, generator=generator)`` (on the
    CPU, then moved to the images' device and dtype), shaped like the images for the pixel loss
    and like the latents for the latent one. Both U-Nets are trained (their weights change).
    """
    # BEGIN SOLUTION
    B, T, device = images.shape[0], alpha_bar.shape[0], images.device
    latent_shape = tuple(latent.encode(images).shape)  # (B, latent_channels, H / f, W / f)

    def draws(shape):
        t = torch.randint(0, T, (B,), generator=generator).to(device)
        return t, torch.randn(shape, generator=generator).to(device, images.dtype)

    def pixel_loss():
        t, noise = draws(tuple(images.shape))
        return diffusion_loss(pixel_unet, images, t, alpha_bar, noise)

    def latent_loss():
        t, noise = draws(latent_shape)
        return latent.loss(images, t, noise)

    pixel = measure_training_step(pixel_loss, pixel_unet.parameters(), steps, warmup, lr)
    latent_cost = measure_training_step(latent_loss, latent.unet.parameters(), steps, warmup, lr)
    return Comparison(pixel=pixel, latent=latent_cost)
    # END SOLUTION
