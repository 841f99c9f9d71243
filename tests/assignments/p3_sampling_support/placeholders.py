"""Placeholder bodies for every stub of P3 (see ``tests/assignments/placeholders.py``)."""

_START = "return torch.randn(shape, generator=generator)"

VARIANTS: dict[str, dict[str, str]] = {
    "zeros": {
        "ddpm_step": "return torch.zeros_like(x_t)",
        "ddpm_sample": "return torch.zeros(shape, device=model_device(model))",
        "ddim_timesteps": "return torch.zeros(num_steps, dtype=torch.long)",
        "ddim_step": "return torch.zeros_like(x_t)",
        "ddim_sample": "return torch.zeros(shape, device=model_device(model))",
        "ddim_invert": "return torch.zeros_like(x0)",
    },
    # Steps that return x_t, samplers that return their start, the inversion its input.
    "inputs": {
        "ddpm_step": "return x_t",
        "ddpm_sample": _START,
        "ddim_timesteps": "return torch.arange(num_steps - 1, -1, -1)",
        "ddim_step": "return x_t",
        "ddim_sample": "return x_T if x_T is not None else torch.randn(shape, generator=generator)",
        "ddim_invert": "return x0",
    },
    "noise": {
        "ddpm_step": "return noise",
        "ddpm_sample": _START,
        "ddim_timesteps": "return torch.full((num_steps,), T - 1)",
        "ddim_step": "return noise if noise is not None else eps",
        "ddim_sample": _START,
        "ddim_invert": "return torch.randn_like(x0)",
    },
    "random": {
        "ddpm_step": "return torch.randn_like(x_t)",
        "ddpm_sample": "return torch.randn(shape)",
        "ddim_timesteps": "return torch.randperm(T)[:num_steps]",
        "ddim_step": "return torch.randn_like(x_t)",
        "ddim_sample": "return torch.randn(shape)",
        "ddim_invert": "return torch.randn_like(x0)",
    },
    # What passes property checks without the work: descending steps in [0, T) and the
    # ValueErrors asked for, a sampler that agrees with steps that return x_t.
    "properties": {
        "ddpm_step": "return x_t",
        "ddpm_sample": _START,
        "ddim_timesteps": """
            if spacing not in SPACINGS or not 1 <= num_steps <= T:
                raise ValueError(f"bad arguments: spacing={spacing!r}, num_steps={num_steps}")
            return torch.arange(num_steps - 1, -1, -1)
        """,
        "ddim_step": """
            if eta > 0 and noise is None:
                raise ValueError("eta > 0 needs noise")
            return x_t
        """,
        "ddim_sample": "return x_T if x_T is not None else torch.randn(shape, generator=generator).to(model_device(model))",
        "ddim_invert": "return x0",
    },
}
