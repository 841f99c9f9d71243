"""Training checkpoints in safetensors: tensors in the file, everything else in
a small JSON document stored in the file's metadata. Nothing is pickled, so a
checkpoint from an untrusted source can be loaded without running its code.

Layout of the tensors, by key prefix: ``model/<name>`` and ``ema/<name>`` (state
dicts), ``optimizer/<param index>/<key>`` (the tensors of the optimizer state),
``rng/<name>`` (random number generator states, uint8) and ``loss_history``
(float64, one entry per step done). The JSON (metadata key ``"diffgrade"``)
holds ``format``, ``step``, ``config``, the optimizer's ``param_groups`` and any
non-tensor optimizer state.
"""

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

FORMAT = 1
META_KEY = "diffgrade"
SUFFIX = ".safetensors"
_STEP_FILE = re.compile(r"step_(\d+)\.safetensors")


@dataclass(frozen=True)
class Checkpoint:
    """Everything needed to resume training at ``step`` (the number of steps done)."""

    step: int
    model: dict[str, torch.Tensor]
    ema: dict[str, torch.Tensor] = field(default_factory=dict)
    optimizer: dict = field(default_factory=dict)  # as from optimizer.state_dict(); {} for none
    rng: dict[str, torch.Tensor] = field(default_factory=dict)
    loss_history: list[float] = field(default_factory=list)
    config: dict = field(default_factory=dict)  # JSON-serialisable, e.g. asdict(TrainConfig)


def checkpoint_path(directory: str | os.PathLike, step: int) -> Path:
    """``directory/step_00000123.safetensors``."""
    return Path(directory) / f"step_{step:08d}{SUFFIX}"


def latest_checkpoint(directory: str | os.PathLike) -> Path | None:
    """The ``step_*.safetensors`` file of ``directory`` with the highest step, or None."""
    directory = Path(directory)
    if not directory.is_dir():
        return None
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := _STEP_FILE.fullmatch(p.name))]
    return max(found)[1] if found else None


def _tensor(x: torch.Tensor) -> torch.Tensor:
    """A detached, contiguous CPU copy owning its memory (safetensors refuses shared storage)."""
    return x.detach().to("cpu").contiguous().clone()


def save_checkpoint(path: str | os.PathLike, checkpoint: Checkpoint) -> Path:
    """Write ``checkpoint`` to ``path`` (which must end in ``.safetensors``) atomically.

    The file is written next to ``path`` first and then renamed, so an
    interrupted save never leaves a truncated checkpoint behind. Returns ``path``.
    """
    path = Path(path)
    if path.suffix != SUFFIX:
        raise ValueError(f"{path}: checkpoints are safetensors files; the name must end in {SUFFIX!r}")
    tensors = {f"model/{k}": _tensor(v) for k, v in checkpoint.model.items()}
    tensors.update({f"ema/{k}": _tensor(v) for k, v in checkpoint.ema.items()})
    tensors.update({f"rng/{k}": _tensor(v) for k, v in checkpoint.rng.items()})
    tensors["loss_history"] = torch.tensor(checkpoint.loss_history, dtype=torch.float64)
    extra_state = {}
    for index, state in checkpoint.optimizer.get("state", {}).items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer/{index}/{key}"] = _tensor(value)
            else:
                extra_state.setdefault(str(index), {})[key] = value
    meta = {
        "format": FORMAT,
        "step": checkpoint.step,
        "config": checkpoint.config,
        "has_optimizer": bool(checkpoint.optimizer),
        "param_groups": checkpoint.optimizer.get("param_groups", []),
        "optimizer_extra_state": extra_state,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata={META_KEY: json.dumps(meta)})
    os.replace(tmp, path)
    return path


def _param_group(group: dict) -> dict:
    """JSON turned tuples (``betas``) into lists; turn them back, except ``params``."""
    return {k: (tuple(v) if isinstance(v, list) and k != "params" else v) for k, v in group.items()}


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint written by ``save_checkpoint``; tensors come back on the CPU.

    Raises ``ValueError`` when ``path`` does not end in ``.safetensors`` (no
    other format is ever loaded: pickle-based files such as ``.pt`` can run
    code), when the file is not valid safetensors, or when it lacks the
    checkpoint metadata.
    """
    path = Path(path)
    if path.suffix != SUFFIX:
        raise ValueError(f"{path}: only {SUFFIX} checkpoints can be loaded (pickle-based formats "
                         f"such as .pt or .pth are refused because loading them can run code)")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # safetensors raises its own error types for a malformed file
        raise ValueError(f"{path}: not a readable safetensors file ({e})") from None
    if META_KEY not in metadata:
        raise ValueError(f"{path}: a safetensors file, but not a training checkpoint "
                         f"(no {META_KEY!r} metadata)")
    meta = json.loads(metadata[META_KEY])
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: checkpoint format {meta.get('format')!r}, expected {FORMAT}")

    sections: dict[str, dict[str, torch.Tensor]] = {"model": {}, "ema": {}, "rng": {}, "optimizer": {}}
    for key, value in tensors.items():
        if key == "loss_history":
            continue
        prefix, name = key.split("/", 1)
        sections[prefix][name] = value
    optimizer = {}
    if meta["has_optimizer"]:
        state: dict[int, dict] = {}
        for name, value in sections["optimizer"].items():
            index, key = name.split("/", 1)
            state.setdefault(int(index), {})[key] = value
        for index, extra in meta["optimizer_extra_state"].items():
            state.setdefault(int(index), {}).update(extra)
        optimizer = {"state": dict(sorted(state.items())),
                     "param_groups": [_param_group(g) for g in meta["param_groups"]]}
    return Checkpoint(
        step=meta["step"],
        model=sections["model"],
        ema=sections["ema"],
        optimizer=optimizer,
        rng=sections["rng"],
        loss_history=tensors["loss_history"].tolist(),
        config=meta["config"],
    )
