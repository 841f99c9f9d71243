"""Placeholder bodies for every stub of P1 (see ``tests/assignments/placeholders.py``)."""

_ZERO_SCHEDULE = "return torch.zeros(T, dtype=torch.float64)"

VARIANTS: dict[str, dict[str, str]] = {
    "zeros": {
        "linear_beta_schedule": _ZERO_SCHEDULE,
        "quadratic_beta_schedule": _ZERO_SCHEDULE,
        "cosine_beta_schedule": _ZERO_SCHEDULE,
        "get_schedule": _ZERO_SCHEDULE,
        "alpha_bar": "return torch.zeros_like(betas)",
        "q_sample": "return torch.zeros_like(x0)",
        "q_posterior": "return torch.zeros_like(x_t), torch.zeros(len(t), 1, 1, 1, dtype=x_t.dtype, device=x_t.device)",
        "predict_x0_from_eps": "return torch.zeros_like(x_t)",
        "snr": "return torch.zeros_like(alpha_bar)",
        "v_target": "return torch.zeros_like(x0)",
    },
    # Each function hands back one of its inputs (or a constant of the right shape).
    "inputs": {
        "linear_beta_schedule": "return torch.full((T,), beta_start, dtype=torch.float64)",
        "quadratic_beta_schedule": "return torch.full((T,), beta_end, dtype=torch.float64)",
        "cosine_beta_schedule": "return torch.full((T,), max_beta, dtype=torch.float64)",
        "get_schedule": "return SCHEDULES[name](T) if name in SCHEDULES else torch.zeros(T, dtype=torch.float64)",
        "alpha_bar": "return betas",
        "q_sample": "return x0",
        "q_posterior": "return x0, torch.zeros(len(t), 1, 1, 1, dtype=x_t.dtype, device=x_t.device)",
        "predict_x0_from_eps": "return x_t",
        "snr": "return alpha_bar",
        "v_target": "return x0",
    },
    # The noise handed back where there is noise.
    "noise": {
        "linear_beta_schedule": "return torch.full((T,), 0.01, dtype=torch.float64)",
        "quadratic_beta_schedule": "return torch.full((T,), 0.01, dtype=torch.float64)",
        "cosine_beta_schedule": "return torch.full((T,), 0.01, dtype=torch.float64)",
        "get_schedule": "return torch.full((T,), 0.01, dtype=torch.float64)",
        "alpha_bar": "return 1 - betas",
        "q_sample": "return noise",
        "q_posterior": "return x_t, torch.ones(len(t), 1, 1, 1, dtype=x_t.dtype, device=x_t.device)",
        "predict_x0_from_eps": "return eps",
        "snr": "return alpha_bar.flip(0)",
        "v_target": "return noise",
    },
    "random": {
        "linear_beta_schedule": "return torch.rand(T, dtype=torch.float64)",
        "quadratic_beta_schedule": "return torch.rand(T, dtype=torch.float64)",
        "cosine_beta_schedule": "return torch.rand(T, dtype=torch.float64)",
        "get_schedule": "return torch.rand(T, dtype=torch.float64)",
        "alpha_bar": "return torch.rand_like(betas)",
        "q_sample": "return torch.randn_like(x0)",
        "q_posterior": "return torch.randn_like(x_t), torch.rand(len(t), 1, 1, 1, dtype=x_t.dtype, device=x_t.device)",
        "predict_x0_from_eps": "return torch.randn_like(x_t)",
        "snr": "return torch.rand_like(alpha_bar)",
        "v_target": "return torch.randn_like(x0)",
    },
    # What passes a property check without the work: constants in (0, 1), a get_schedule that
    # only raises, decreasing values, the posterior's point mass at t = 0 everywhere.
    "properties": {
        "linear_beta_schedule": "return torch.full((T,), 0.5, dtype=torch.float64)",
        "quadratic_beta_schedule": "return torch.full((T,), 0.5, dtype=torch.float64)",
        "cosine_beta_schedule": "return torch.full((T,), 0.5, dtype=torch.float64)",
        "get_schedule": "raise ValueError(f'unknown schedule {name!r}; known: {sorted(SCHEDULES)}')",
        "alpha_bar": "return torch.linspace(1, 0, len(betas) + 2, dtype=betas.dtype, device=betas.device)[1:-1]",
        "q_sample": "return noise",
        "q_posterior": "return x0, torch.zeros(len(t), 1, 1, 1, dtype=x_t.dtype, device=x_t.device)",
        "predict_x0_from_eps": "return x_t",
        "snr": "return alpha_bar",
        "v_target": "return noise",
    },
}
