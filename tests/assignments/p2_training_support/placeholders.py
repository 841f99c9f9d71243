"""Placeholder bodies for every stub of P2 (see ``tests/assignments/placeholders.py``).

``checkpoint.py`` and ``train()`` are given and stay as they are: with these bodies they
still write, load and resume checkpoints, of weights that never change.
"""

_RES_SHAPE = "(x.shape[0], self.conv1.out_channels, *x.shape[2:])"

VARIANTS: dict[str, dict[str, str]] = {
    "zeros": {
        "timestep_embedding": "return torch.zeros(len(t), dim, device=t.device)",
        "ResBlock.forward": f"return x.new_zeros({_RES_SHAPE})",
        "AttentionBlock.forward": "return torch.zeros_like(x)",
        "UNet.forward": "return torch.zeros_like(x_t)",
        "diffusion_loss": "return torch.zeros((), device=x0.device, requires_grad=True)",
        "ema_update": "return None",
        "draw_batch": """
            x0 = torch.zeros(batch_size, *data.shape[1:], dtype=data.dtype)
            return x0, torch.zeros(batch_size, dtype=torch.long), torch.zeros_like(x0)
        """,
        "train_step": "return 0.0",
    },
    # The inputs handed back; the EMA a copy of the model.
    "inputs": {
        "timestep_embedding": "return t.float()[:, None].expand(len(t), dim).clone()",
        "ResBlock.forward": "return self.skip(x)",
        "AttentionBlock.forward": "return x",
        "UNet.forward": "return x_t",
        "diffusion_loss": "return (x0 - x0).square().mean().requires_grad_()",
        "ema_update": "ema_model.load_state_dict(model.state_dict())",
        "draw_batch": """
            x0 = data[:batch_size]
            return x0, torch.zeros(len(x0), dtype=torch.long), x0.clone()
        """,
        "train_step": "return float(t.float().mean())",
    },
    # The noise handed back where there is noise.
    "noise": {
        "timestep_embedding": "return torch.randn(len(t), dim, device=t.device)",
        "ResBlock.forward": f"return torch.randn({_RES_SHAPE}, dtype=x.dtype, device=x.device)",
        "AttentionBlock.forward": "return torch.randn_like(x)",
        "UNet.forward": "return torch.randn_like(x_t)",
        "diffusion_loss": "return noise.square().mean().requires_grad_()",
        "ema_update": "return None",
        "draw_batch": """
            x0 = data[:batch_size]
            return x0, torch.full((len(x0),), T - 1, dtype=torch.long), torch.randn(x0.shape, dtype=data.dtype)
        """,
        "train_step": "return float(noise.square().mean())",
    },
    "random": {
        "timestep_embedding": "return torch.rand(len(t), dim, device=t.device) * 2 - 1",
        "ResBlock.forward": f"return torch.randn({_RES_SHAPE}, dtype=x.dtype, device=x.device)",
        "AttentionBlock.forward": "return x + torch.randn_like(x)",
        "UNet.forward": "return torch.randn_like(x_t)",
        "diffusion_loss": "return torch.rand((), device=x0.device, requires_grad=True)",
        "ema_update": "return None",
        "draw_batch": """
            index = torch.randint(0, len(data), (batch_size,))
            x0 = data[index]
            return x0, torch.randint(0, T, (batch_size,)), torch.randn(x0.shape, dtype=data.dtype)
        """,
        "train_step": "return float(torch.rand(()))",
    },
    # What passes property checks without the work: attention that is zero (permuted like its
    # input), a U-Net whose output moves with t and sends a gradient to every parameter, a
    # differentiable loss, an EMA that copies buffers.
    "properties": {
        "timestep_embedding": "return torch.cat([torch.ones(len(t), dim // 2), torch.zeros(len(t), dim - dim // 2)], 1).to(t.device)",
        "ResBlock.forward": f"return x.new_zeros({_RES_SHAPE})",
        "AttentionBlock.forward": "return torch.zeros_like(x)",
        "UNet.forward": """
            wired = sum(p.mean() for p in self.parameters()).to(x_t.dtype)
            return 0 * x_t + wired + 1e-3 * t.to(x_t.dtype).reshape(-1, *[1] * (x_t.dim() - 1))
        """,
        "diffusion_loss": "return (noise - model(x0, t)).square().mean()",
        "ema_update": "ema_model.load_state_dict(model.state_dict())",
        "draw_batch": """
            x0 = data[:batch_size]
            return x0, torch.zeros(len(x0), dtype=torch.long), torch.zeros_like(x0)
        """,
        "train_step": "return 0.0",
    },
}
