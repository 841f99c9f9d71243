"""P4: text-to-image with classifier-free guidance.

Conventions as in P1 to P3, plus the text condition: ``context`` ``(B, L, D)`` token
embeddings and ``mask`` ``(B, L)`` bool (``True`` for a real token, ``False`` for
padding); a conditional model is called as ``model(x_t, t, context, mask)``. Guidance
is ``eps_uncond + w * (eps_cond - eps_uncond)``: ``w = 0`` unconditional, ``w = 1``
conditional. The U-Net's blocks come from P2 and the DDIM steps from P3.
"""

from .attention import CrossAttention
from .blocks import CondUNet, CondUNetConfig, CrossAttentionBlock
from .guidance import classifier_free_guidance, drop_condition, dynamic_threshold, guided_eps
from .loss import conditional_loss
from .sampling import guided_ddim_sample
from .text import TokenTextEncoder

__all__ = [
    "CrossAttention",
    "CrossAttentionBlock",
    "CondUNetConfig",
    "CondUNet",
    "drop_condition",
    "classifier_free_guidance",
    "guided_eps",
    "dynamic_threshold",
    "conditional_loss",
    "guided_ddim_sample",
    "TokenTextEncoder",
]
