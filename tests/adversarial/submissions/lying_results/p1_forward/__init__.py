"""Hostile P1 submission: its results lie about themselves.

* ``q_sample`` returns zeros in a ``torch.Tensor`` subclass whose comparisons
  (``==``, ``!=``, ``allclose``, ``equal``, and every torch function through
  ``__torch_function__``) all say "equal";
* ``q_posterior`` returns two objects that equal anything, have any attribute
  asked for, a length, a truth value and a float value;
* ``predict_x0_from_eps`` returns an impostor whose ``__class__`` claims to be
  ``torch.Tensor`` (so ``isinstance`` believes it);
* ``snr`` returns the right values in float32 inside a subclass whose ``dtype``
  claims float64;
* ``v_target`` returns the right values as a numpy array, which is not a tensor.

Only the data can cross to the grader, so each must fail exactly where an honest
function returning the same data (or an object that is not a tensor) fails.
"""

import torch

from .forward import snr as _snr
from .forward import v_target as _v_target
from .schedules import (
    alpha_bar,
    cosine_beta_schedule,
    get_schedule,
    linear_beta_schedule,
    quadratic_beta_schedule,
)


class AgreeableTensor(torch.Tensor):
    """Equal to everything, whatever the values."""

    def __eq__(self, other):
        return torch.ones(self.shape, dtype=torch.bool)

    def __ne__(self, other):
        return torch.zeros(self.shape, dtype=torch.bool)

    def allclose(self, *args, **kwargs):
        return True

    def equal(self, *args, **kwargs):
        return True

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in ("allclose", "equal", "isclose", "eq", "__eq__"):
            return True
        return super().__torch_function__(func, types, args, kwargs or {})


class Anything:
    """Equal to anything; has every attribute; is truthy; converts to any number."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __hash__(self):
        return 0

    def __getattr__(self, name):
        return Anything()

    def __call__(self, *args, **kwargs):
        return Anything()

    def __len__(self):
        return 2

    def __iter__(self):
        return iter([Anything(), Anything()])

    def __bool__(self):
        return True

    def __float__(self):
        return 0.0

    def __int__(self):
        return 0


class Impostor:
    """Claims to be a tensor: ``isinstance(obj, torch.Tensor)`` is True."""

    @property
    def __class__(self):
        return torch.Tensor

    def __getattr__(self, name):
        raise AttributeError(name)


class MislabeledTensor(torch.Tensor):
    """float32 data that says it is float64."""

    @property
    def dtype(self):
        return torch.float64


def q_sample(x0, t, alpha_bar, noise):
    return torch.zeros_like(x0).as_subclass(AgreeableTensor)


def q_posterior(x0, x_t, t, betas):
    return Anything(), Anything()


def predict_x0_from_eps(x_t, t, alpha_bar, eps):
    return Impostor()


def snr(alpha_bar):
    return _snr(alpha_bar).float().as_subclass(MislabeledTensor)


def v_target(x0, t, alpha_bar, noise):
    return _v_target(x0, t, alpha_bar, noise).detach().cpu().numpy()


__all__ = ["linear_beta_schedule", "quadratic_beta_schedule", "cosine_beta_schedule", "get_schedule",
           "alpha_bar", "q_sample", "q_posterior", "predict_x0_from_eps", "snr", "v_target"]
