"""A safe wire format for values crossing the trust boundary.

A message is one frame: an 8-byte little-endian length, a JSON header of that
length, then the raw bytes of each tensor in header order, each behind its own
8-byte length. Decoding builds plain tensors from raw bytes with a dtype from
an allow-list: no pickle, no code from the sender ever runs in the receiver.

Supported values: None, bool, int, float, str, list, tuple, dict with str keys,
``torch.Tensor`` (any allowed dtype, any device), ``torch.dtype``,
``torch.device``, ``torch.Generator`` (sent as its state) and ``Handle``: a
reference to an object that stays in the worker (a model, a config), which the
grader can pass back in later calls or call methods on.
This module is standalone: it runs inside the sandbox too.
"""

import json
import struct
from functools import lru_cache

DTYPE_NAMES_ALLOWED = ("float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8",
                       "uint8", "bool", "complex64", "complex128")
_LEN = struct.Struct("<Q")
MAX_HEADER_BYTES = 16 << 20  # the JSON part; tensor data travels outside it
MAX_BUFFERS = 1 << 16


def _torch():
    # Imported on first use, not at import time: the grader spawns its worker first
    # and imports torch while the worker does the same, instead of one after the other.
    import torch

    return torch


@lru_cache(maxsize=1)
def dtypes() -> dict:
    """Allowed dtypes by name: ``{"float32": torch.float32, ...}``."""
    torch = _torch()
    return {name: getattr(torch, name) for name in DTYPE_NAMES_ALLOWED}


@lru_cache(maxsize=1)
def dtype_names() -> dict:
    return {v: k for k, v in dtypes().items()}
MAX_DEPTH = 32


class CodecError(ValueError):
    """A value cannot be encoded, or bytes are not a valid frame."""


class Handle:
    """A reference to an object living in the worker: only its number and type name travel."""

    __slots__ = ("handle_id", "type_name")

    def __init__(self, handle_id: int, type_name: str):
        self.handle_id = int(handle_id)
        self.type_name = str(type_name)

    def __repr__(self) -> str:
        return f"<{self.type_name} #{self.handle_id} in the worker>"


def _encode(value, buffers, depth=0, register=None):
    if depth > MAX_DEPTH:
        raise CodecError("value is nested too deeply")
    if isinstance(value, Handle):
        return {"handle": value.handle_id, "type": value.type_name}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return {"int": str(int(value))}  # JSON ints lose nothing, but keep huge ints exact
    if isinstance(value, float):
        return {"float": float.hex(float(value))}  # exact, and NaN/inf survive
    if isinstance(value, (list, tuple)):
        items = [_encode(v, buffers, depth + 1, register) for v in value]
        return {"tuple" if isinstance(value, tuple) else "list": items}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise CodecError("only dicts with str keys can be sent")
        return {"dict": {k: _encode(v, buffers, depth + 1, register) for k, v in value.items()}}
    # Only now torch: plain values encode without it, so a worker whose torch does not
    # import can still say which environment it runs in.
    torch = _torch()
    DTYPE_NAMES = dtype_names()
    if isinstance(value, torch.Tensor):
        # A subclass is sent as its plain data: whatever it overrides stays on this side.
        t = torch.Tensor.as_subclass(value.detach(), torch.Tensor)
        if t.dtype not in DTYPE_NAMES:
            raise CodecError(f"tensors of dtype {t.dtype} cannot be sent")
        device = str(t.device)
        cpu = t.to("cpu").contiguous()
        raw = cpu.reshape(-1).view(torch.uint8).numpy().tobytes() if cpu.numel() else b""
        buffers.append(raw)
        return {"tensor": len(buffers) - 1, "dtype": DTYPE_NAMES[t.dtype],
                "shape": list(cpu.shape), "device": device,
                "requires_grad": bool(value.requires_grad)}
    if isinstance(value, torch.dtype):
        if value not in DTYPE_NAMES:
            raise CodecError(f"dtype {value} cannot be sent")
        return {"dtype_of": DTYPE_NAMES[value]}
    if isinstance(value, torch.device):
        return {"device_of": str(value)}
    if isinstance(value, torch.Generator):
        state = _encode(value.get_state(), buffers, depth + 1)
        return {"generator": state, "device": str(value.device)}
    if register is not None:
        return {"handle": int(register(value)), "type": type(value).__name__}
    raise CodecError(f"values of type {type(value).__name__} cannot be sent")


def encode(value, register=None) -> bytes:
    """One frame holding ``value``.

    ``register(obj) -> int``, when given, keeps objects the format cannot carry and
    sends a handle instead (the worker's side); without it they raise ``CodecError``.
    """
    buffers: list[bytes] = []
    body = _encode(value, buffers, 0, register)
    header = json.dumps({"buffers": len(buffers), "value": body}).encode()
    parts = [_LEN.pack(len(header)), header]
    for raw in buffers:
        parts += [_LEN.pack(len(raw)), raw]
    return b"".join(parts)


def _decode(node, buffers, device_map, depth=0, resolve=None):
    torch = _torch()
    DTYPES = dtypes()
    if depth > MAX_DEPTH:
        raise CodecError("value is nested too deeply")
    if node is None or isinstance(node, (bool, str)):
        return node
    if not isinstance(node, dict) or len(node) == 0:
        raise CodecError(f"malformed node {str(node)[:80]!r}")
    if "int" in node:
        return int(node["int"])
    if "float" in node:
        return float.fromhex(node["float"])
    if "tensor" in node:
        dtype = DTYPES.get(node["dtype"])
        if dtype is None:
            raise CodecError(f"unknown dtype {node['dtype']!r}")
        shape = [int(s) for s in node["shape"]]
        index = int(node["tensor"])
        if not 0 <= index < len(buffers):
            raise CodecError(f"tensor refers to missing buffer {index}")
        raw = buffers[index]
        numel = 1
        for s in shape:
            if s < 0:
                raise CodecError("negative dimension")
            numel *= s
        itemsize = torch.empty((), dtype=dtype).element_size()
        if len(raw) != numel * itemsize:
            raise CodecError(f"tensor of shape {shape} and dtype {node['dtype']} "
                             f"needs {numel * itemsize} bytes, got {len(raw)}")
        flat = torch.frombuffer(bytearray(raw), dtype=torch.uint8) if raw else torch.empty(0, dtype=torch.uint8)
        t = flat.view(dtype).reshape(shape) if numel else torch.empty(shape, dtype=dtype)
        device = device_map(node.get("device", "cpu"))
        if device != "cpu":
            t = t.to(device)
        if node.get("requires_grad") and t.is_floating_point():
            t.requires_grad_(True)
        return t
    if "dtype_of" in node:
        if node["dtype_of"] not in DTYPES:
            raise CodecError(f"unknown dtype {node['dtype_of']!r}")
        return DTYPES[node["dtype_of"]]
    if "device_of" in node:
        return torch.device(device_map(node["device_of"]))
    if "generator" in node:
        g = torch.Generator(device=device_map(node.get("device", "cpu")))
        g.set_state(_decode(node["generator"], buffers, lambda d: "cpu", depth + 1))
        return g
    if "handle" in node:
        handle = Handle(int(node["handle"]), str(node.get("type", "object"))[:100])
        return resolve(handle) if resolve is not None else handle
    if "list" in node:
        return [_decode(v, buffers, device_map, depth + 1, resolve) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, buffers, device_map, depth + 1, resolve) for v in node["tuple"])
    if "dict" in node:
        return {str(k): _decode(v, buffers, device_map, depth + 1, resolve) for k, v in node["dict"].items()}
    raise CodecError(f"unknown node kind {sorted(node)[:3]}")


def _keep_device(device: str) -> str:
    return device


def read_frame(read_exact, max_bytes: int) -> tuple[dict, list[bytes]]:
    """Read one frame with ``read_exact(n) -> bytes``; refuse more than ``max_bytes`` in all."""
    total = 0

    def chunk(limit: int):
        nonlocal total
        (n,) = _LEN.unpack(read_exact(_LEN.size))
        total += n + _LEN.size
        if total > max_bytes or n > limit:
            raise CodecError(f"message larger than the limit of {min(max_bytes, limit)} bytes")
        return read_exact(n)

    raw = chunk(MAX_HEADER_BYTES)
    try:
        header = json.loads(raw)
        n_buffers = int(header["buffers"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, RecursionError) as e:
        raise CodecError(f"malformed frame header: {type(e).__name__}: {str(e)[:200]}") from None
    if not 0 <= n_buffers <= MAX_BUFFERS:
        raise CodecError(f"buffer count {n_buffers} outside [0, {MAX_BUFFERS}]")
    return header, [chunk(max_bytes) for _ in range(n_buffers)]


def decode(header, buffers, device_map=_keep_device, resolve=None):
    """The value of a frame read by ``read_frame``.

    ``device_map`` chooses where tensors land; ``resolve(handle)`` turns handles into
    objects (the worker's table, or the grader's remote proxies).
    """
    try:
        return _decode(header["value"], buffers, device_map, 0, resolve)
    except CodecError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, RuntimeError, OverflowError, RecursionError) as e:
        raise CodecError(f"malformed value: {type(e).__name__}: {e}") from None


def decode_bytes(data: bytes, max_bytes: int = 1 << 34, device_map=_keep_device, resolve=None):
    """Decode a whole frame held in memory (tests and in-process use)."""
    pos = 0

    def read_exact(n):
        nonlocal pos
        if pos + n > len(data):
            raise CodecError("frame is truncated")
        out = data[pos:pos + n]
        pos += n
        return out

    header, buffers = read_frame(read_exact, max_bytes)
    if pos != len(data):
        raise CodecError("trailing bytes after frame")
    return decode(header, buffers, device_map, resolve)
