"""Evidence of the student's work: what ties a quality score to the student's code and model.

Quality tests (FID, prompt accuracy, reconstruction error) score samples or weights. A
submission could hand back real images, or weights trained elsewhere, and score well
without the work. The hidden tests close those doors with three tools, shared here:

- :func:`fetch_weights`: the state dict of a model the student's code trained, fetched
  from the sandbox (plain tensors through the codec) and accepted only if it has exactly
  the keys, shapes and dtypes of the reference architecture, with finite values; the
  grader then loads it with ``strict=True`` into the reference class and samples itself.
- :func:`init_correlation`: weights trained from the initial weights the grader handed
  out stay correlated with them (median cosine about 0.5 after P2's CPU budget); weights
  grown from another start score about 0.
- :class:`RowSubset` and :func:`replay_rows`: the grader recomputes a random subset of the
  student's samples with the reference sampler, from a copy of the generator's state
  before the student's call, with the rows picked after the call returned.
"""

import secrets

import torch

from autograder.sandbox.runtime.codec import Handle
from autograder.testing import CheckFailure, describe

REPLAY = 32  # rows recomputed on the CPU; on a GPU every row is


def listing(keys, limit: int = 6) -> str:
    """``"a, b, c, ... (n in all)"``: a short list of names for feedback."""
    keys = sorted(keys)
    return ", ".join(keys[:limit]) + (f", ... ({len(keys)} in all)" if len(keys) > limit else "")


def fetch_weights(model, expected: dict[str, torch.Tensor], what: str, *, class_name: str, name: str,
                  hint: str, files: str = "the handout's files") -> dict[str, torch.Tensor]:
    """``model``'s state dict, fetched from the sandbox, if the reference ``class_name`` loads it.

    ``model``: a handle to the student's module, called ``name`` in the feedback (say
    ``TrainResult.ema_model``); ``expected``: the reference module's state dict (key -> tensor);
    ``files``: where the handout gives the layers, for the hint on a wrong set of keys. Returns CPU tensors with exactly ``expected``'s keys. Raises
    ``CheckFailure`` naming what differs: not a ``class_name``, not a dict of tensors,
    missing, extra or renamed keys, a wrong shape or dtype, NaN or infinite values."""
    shapes = {k: tuple(v.shape) for k, v in expected.items()}
    if not isinstance(model, Handle) or model.type_name != class_name:
        raise CheckFailure(what, f"{name} is not a {class_name}",
                           expected=f"a {class_name} module (your class {class_name})",
                           got=model.type_name if isinstance(model, Handle) else describe(model), hint=hint)
    state = model.state_dict()
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckFailure(what, f"{name}.state_dict() is not a dict of tensors", expected=f"{len(shapes)} tensors",
                           got=describe(state), hint=hint)
    missing, extra = set(shapes) - set(state), set(state) - set(shapes)
    if missing or extra:
        raise CheckFailure(
            what, f"{name}.state_dict() does not have the keys of the reference {class_name}",
            expected=f"exactly the {len(shapes)} keys of {class_name}(config).state_dict(), e.g. {listing(shapes, 4)}",
            got=f"missing: {listing(missing) or 'none'}; extra: {listing(extra) or 'none'}",
            hint=f"keep the layer names given in {files} and add no parameters or buffers; " + hint)
    for key, want in expected.items():
        got = state[key]
        if tuple(got.shape) != shapes[key] or got.dtype != want.dtype:
            raise CheckFailure(what, f"{name}.state_dict()[{key!r}] has the wrong shape or dtype",
                               expected=f"shape {shapes[key]}, {want.dtype}",
                               got=f"shape {tuple(got.shape)}, {got.dtype}", hint=hint)
        if not bool(torch.isfinite(got).all()):
            raise CheckFailure(what, f"{name}.state_dict()[{key!r}] has NaN or infinite values", got=describe(got),
                               hint=hint)
    return {k: state[k].detach().to("cpu") for k in expected}


def init_correlation(trained: dict[str, torch.Tensor], initial: dict[str, torch.Tensor],
                     min_numel: int = 256) -> float:
    """Median, over the weight tensors of at least ``min_numel`` entries, of the cosine similarity
    between the trained and the initial values.

    Training moves the weights but leaves them correlated with where they started. Weights
    grown from another start are independent of these, about ``N(0, 1 / numel)`` per tensor,
    so their median is about 0. Small tensors (biases, GroupNorm's ones and zeros, the same
    for every start) would only add noise."""
    cosines = []
    for key, start in initial.items():
        if start.numel() >= min_numel:
            a, b = trained[key].flatten().double(), start.flatten().double()
            cosines.append(float(a @ b / (a.norm() * b.norm()).clamp(min=1e-30)))
    if not cosines:
        raise ValueError(f"no weight tensor has {min_numel} entries or more")
    return float(torch.tensor(cosines).median())


class RowSubset(torch.nn.Module):
    """``model`` evaluated on the rows ``index`` of the batch only, zeros for the others.

    Given to a reference sampler with the full ``shape``, it makes the same draws as the
    student's call (they are whole-batch tensors) while the network runs on ``len(index)``
    rows; a U-Net treats each sample on its own, so those rows are the full call's. Extra
    positional arguments (a context, a mask) are sliced the same way."""

    def __init__(self, model: torch.nn.Module, index: torch.Tensor):
        super().__init__()
        self.model = model  # a submodule: the sampler finds the device through its parameters
        self.index = index  # (k,) LongTensor on the CPU

    def forward(self, x: torch.Tensor, t: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
        rows = self.index.to(x.device)
        eps = torch.zeros_like(x)
        eps[rows] = self.model(x[rows], t[rows], *(r[rows] for r in rest))
        return eps


def replay_rows(n: int, device: torch.device, k: int = REPLAY) -> torch.Tensor:
    """The rows of ``n`` to replay, ascending: on the CPU ``min(k, n)`` distinct ones drawn from
    fresh entropy (called after the student's sampler returned, so unknown to it); on a GPU
    every row, cheap there, and the network then sees the shapes of the student's call (the
    same kernels: a GPU may round a batch of 32 unlike one of 1000)."""
    if device.type == "cuda":
        return torch.arange(n)
    g = torch.Generator().manual_seed(secrets.randbits(63))
    return torch.randperm(n, generator=g)[:k].sort().values


def generator_copy(generator: torch.Generator) -> torch.Generator:
    """A new CPU generator in the state ``generator`` is in now: taken before a student's call,
    it replays that call's draws whatever the call did with its own."""
    return torch.Generator().set_state(generator.get_state())
