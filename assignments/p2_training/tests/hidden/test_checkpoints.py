"""Hidden tests of checkpoints: what ``train`` writes is a safetensors file holding the
weights, ``load_checkpoint`` refuses every other format with ``ValueError`` (and never
unpickles anything), and a resumed run ends exactly as an uninterrupted one.

The student's code writes its checkpoints into a folder of the sandbox's private
``/tmp``; a small helper sends the file's bytes back, and the grader parses them
itself with ``safetensors`` (a format without code, safe to read whatever it holds).
"""

import io
import json
import math

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors

from autograder.data import load_digits
from autograder.sandbox.errors import StudentException
from autograder.testing import CheckFailure, cases, requires

MODELS = "_diffgrade_testmodels"
T = 1000
SUFFIX = ".safetensors"
FORMAT_HINT = ("save with safetensors.torch.save_file (tensors, plus a JSON string in the metadata) and load with "
               "safetensors.safe_open; never torch.save / torch.load or pickle, which can run code when loading")


def _run(student, provided, steps: int, folder: str | None, *, seed: int = 0, resume: bool = False, every: int = 0):
    """``train`` on a TinyEpsModel (seeded ``seed``) for ``steps`` steps; returns (model, result)."""
    data = load_digits("train")[0][:128]  # (128, 1, 8, 8)
    model = provided(MODELS, "TinyEpsModel", channels=1, T=T, seed=seed)
    config = student.TrainConfig(steps=steps, batch_size=16, lr=1e-2, ema_decay=0.9, seed=3, checkpoint_every=every)
    return model, student.train(model, data, config, checkpoint_dir=folder, resume=resume)


def _describe_bytes(raw: bytes) -> str:
    head = raw[:16]
    kind = ""
    if head.startswith(b"PK"):
        kind = " (a zip archive: this is what torch.save writes, with a pickle inside)"
    elif head[:1] == b"\x80":
        kind = " (a pickle)"
    return f"{len(raw)} bytes starting with {head!r}{kind}"


def parse_safetensors(raw: bytes, what: str) -> tuple[dict, dict]:
    """The tensors and the metadata of a safetensors file, or a ``CheckFailure`` naming the problem."""
    try:
        tensors = load_safetensors(raw)
        size = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8:8 + size])
    except (SafetensorError, ValueError, UnicodeDecodeError) as e:
        raise CheckFailure(what, "the checkpoint is not a safetensors file", got=_describe_bytes(raw),
                           hint=FORMAT_HINT + f" (safetensors said: {str(e)[:200]})") from None
    return tensors, header.get("__metadata__") or {}


# checkpoint.py and train() are given: these tests earn their points once the student's part of the
# training loop works (a train_step that does nothing leaves weights that save, load and resume exactly).
@requires("test_train_step", "test_draw_batch")
def test_checkpoint_is_safetensors(student, provided, check):
    """Is every checkpoint train() writes a safetensors file holding the trained weights, and does load_checkpoint read it back?"""
    folder = provided(MODELS, "scratch_dir")
    model, _ = _run(student, provided, 4, folder, every=2)
    what = "the checkpoints of train(model, data, TrainConfig(steps=4, checkpoint_every=2), checkpoint_dir=...)"
    files = provided(MODELS, "list_files", folder)
    check.true(len(files) > 0, what, "no file was written into checkpoint_dir",
               hint="train() saves a checkpoint every checkpoint_every steps and after the last one")
    wrong = [f for f in files if not f.endswith(SUFFIX)]
    check.true(not wrong, what, f"files not named *{SUFFIX}: {wrong[:5]}", hint=FORMAT_HINT)
    latest = files[-1]
    what = f"checkpoint file {latest}"
    tensors, metadata = parse_safetensors(provided(MODELS, "read_bytes", f"{folder}/{latest}").numpy().tobytes(), what)
    check.true(len(metadata) > 0, what, "the file has no metadata (step, config, optimizer settings)",
               hint="store the non-tensor state as JSON in the safetensors metadata")
    weights = model.state_dict()
    for key, value in weights.items():
        check.true(f"model/{key}" in tensors, what, f"no tensor model/{key} in the file",
                   hint="the model's state_dict goes in as model/<name> (see checkpoint.py)")
        check.close(tensors[f"model/{key}"], value, f"model/{key} in {what}", atol=0.0, rtol=0.0,
                    hint="save the weights after the last step")
    loaded = student.load_checkpoint(f"{folder}/{latest}")
    check.equal(loaded.attr("step"), 4, f"load_checkpoint({latest}).step")
    back = loaded.attr("model")
    check.true(isinstance(back, dict) and set(back) == set(weights), f"load_checkpoint({latest}).model",
               "does not hold the model's state_dict")
    for key, value in weights.items():
        check.close(back[key], value, f"load_checkpoint({latest}).model[{key!r}]", atol=0.0, rtol=0.0)


def _torch_save_bytes() -> bytes:
    buffer = io.BytesIO()
    torch.save({"model/conv.weight": torch.ones(1, 1, 3, 3)}, buffer)
    return buffer.getvalue()


def _pickle_that_writes(path: str) -> bytes:
    """A protocol-0 pickle whose loading calls ``open(path, "w")``: it leaves a file behind if unpickled."""
    return b"c__builtin__\nopen\n(V" + path.encode() + b"\nVw\ntR."


BAD_FILES = {
    "torch_save_pt": ("model.pt", lambda folder: _torch_save_bytes()),
    "torch_save_renamed": ("step_00000009.safetensors", lambda folder: _torch_save_bytes()),
    "pickle_with_code": ("step_00000010.safetensors", lambda folder: _pickle_that_writes(f"{folder}/UNPICKLED")),
    "junk": ("step_00000011.safetensors", lambda folder: b"\x00not a safetensors file"),
}


@cases(kind=list(BAD_FILES))
@requires("test_train_step", "test_draw_batch")
def test_load_checkpoint_refuses_other_formats(student, provided, check, kind):
    """Does load_checkpoint read a checkpoint of train() but refuse pickles, torch.save files and junk with ValueError?"""
    folder = provided(MODELS, "scratch_dir")
    _run(student, provided, 2, folder)
    files = provided(MODELS, "list_files", folder)
    check.true(len(files) > 0, "train(..., checkpoint_dir=...)", "no checkpoint was written")
    try:
        own = student.load_checkpoint(f"{folder}/{files[-1]}")
    except StudentException as e:
        raise CheckFailure(f"load_checkpoint({files[-1]}), a checkpoint written by your train()",
                           f"raised {e.exc_type}: {e.message[:300]}", hint=FORMAT_HINT) from None
    check.equal(own.attr("step"), 2, f"load_checkpoint({files[-1]}).step, a checkpoint written by train()")
    name, make = BAD_FILES[kind]
    raw = make(folder)
    path = provided(MODELS, "write_bytes", f"{folder}/{name}", torch.tensor(list(raw), dtype=torch.uint8))
    what = f"load_checkpoint({name}) where the file is {_describe_bytes(raw)}"
    check.raises("ValueError", lambda: student.load_checkpoint(path), what,
                 hint="accept only files named *.safetensors that safetensors can parse; turn its errors into "
                      "ValueError; " + FORMAT_HINT)
    if kind == "pickle_with_code":
        check.true("UNPICKLED" not in provided(MODELS, "list_files", folder), what,
                   "loading the file unpickled it and ran the code inside", hint=FORMAT_HINT)


@requires("test_train_step", "test_draw_batch")
def test_resume_matches_uninterrupted(student, provided, check):
    """Does a run stopped after 3 steps and resumed to 6 end exactly as a run of 6 steps (weights, EMA, losses)?"""
    straight_model, straight = _run(student, provided, 6, None)
    folder = provided(MODELS, "scratch_dir")
    _run(student, provided, 3, folder)
    resumed_model, resumed = _run(student, provided, 6, folder, seed=9, resume=True)
    what = "train(model, data, TrainConfig(steps=6), checkpoint_dir=..., resume=True) after a run of 3 steps"
    hint = ("on resume, load the latest checkpoint and restore the model, the EMA model, the optimizer state, the "
            "random generator states and the loss history before going on")
    files = provided(MODELS, "list_files", folder)
    check.true(any("3" in f for f in files) and len(files) >= 2, what,
               f"expected the checkpoints of step 3 and step 6 in checkpoint_dir, found {files}", hint=hint)
    expected, got = straight.attr("loss_history"), resumed.attr("loss_history")
    check.true(isinstance(got, list) and len(got) == len(expected), f"loss_history of {what}",
               f"expected {len(expected)} losses (the 3 from the checkpoint and 3 new ones), "
               f"got {len(got) if isinstance(got, list) else type(got).__name__}", hint=hint)
    check.true(all(isinstance(v, float) for v in got), f"loss_history of {what}", "the losses must be Python floats",
               hint="train_step returns loss.item()")
    close = all(math.isclose(g, e, rel_tol=1e-6, abs_tol=1e-7) for g, e in zip(got, expected))
    check.true(close, f"loss_history of {what}", f"differs from the uninterrupted run: expected "
               f"{[round(v, 6) for v in expected]}, got {[round(v, 6) for v in got]}", hint=hint)
    for label, a, b in (("weights", resumed_model.state_dict(), straight_model.state_dict()),
                        ("EMA weights", resumed.attr("ema_model").state_dict(), straight.attr("ema_model").state_dict())):
        for key, value in b.items():
            check.close(a[key], value, f"{label} {key} of {what}", atol=1e-6, rtol=1e-5, hint=hint)
