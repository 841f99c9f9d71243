"""A second, independently written P3 package: the hidden tests must give it full marks.

It follows the same contract as ``solutions/p3_sampling`` (0-indexed ``t``,
``alpha_bar_prev = 1`` below ``t = 0``, the documented order of random draws) but
computes differently: timesteps with Python integers and floats, every step in
the "coefficient" form ``x_prev = c_x * x_t + c_eps * eps (+ sigma * noise)``
with the coefficients in float64, the DDPM step through P1's posterior, and
its own loops. It needs nothing from P1 but ``q_posterior``.
"""

from .samplers import ddim_invert, ddim_sample, ddpm_sample
from .steps import ddim_step, ddim_timesteps, ddpm_step

__all__ = ["ddpm_step", "ddpm_sample", "ddim_timesteps", "ddim_step", "ddim_sample", "ddim_invert"]
