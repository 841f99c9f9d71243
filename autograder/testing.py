"""What a hidden test is written with.

A hidden test is a function ``test_*`` in ``assignments/<project>/tests/hidden/``.
It names the fixtures it needs as parameters and the grader passes them in:

* ``student``: the student's package; ``student.q_sample(...)`` runs in the sandbox
  and returns plain values (tensors, numbers, tuples), or raises a
  ``StudentCodeError`` that costs the test its points; objects that cannot
  travel (a model) come back as handles whose methods also run in the sandbox;
* ``provided``: ``provided(module, name, *args, **kwargs)`` builds an object of a
  provided package (reference code of earlier projects, or the grader's test
  models in ``_diffgrade_testmodels``) inside the sandbox, next to the student's code;
* ``ref``: the reference solution package, imported in the grader;
* ``check``: a ``Checker`` with tolerances from ``assignment.toml``;
* ``device``: the ``torch.device`` inputs should live on;
* ``config``: the ``AssignmentConfig``;
* ``artifacts``: a folder for plots that go into the report;
* ``metrics``: a ``Metrics`` recorder; quality tests record what they measure
  (``metrics.record("fid_ddim50", value)``) so reports and calibration can use it;
* ``seed``: an int (0 when grading) that quality tests add to their seeds, so
  ``diffgrade calibrate`` can rerun them over several seeds;
* ``budget``: which of its budgets (model size, training steps, samples) a
  quality test runs: the device's kind, ``"cpu"`` or ``"cuda"``, when grading.
  ``diffgrade calibrate --budget cuda`` runs the GPU budget on a CPU, so its
  threshold can be measured (slowly) without a GPU.

``@cases(name=[...])`` runs the test once per value, each case worth an equal
share of the test's points. A failed check raises ``CheckFailure``, whose
fields (what, expected, got, max error, hint) become the student's feedback.
"""

import math
from dataclasses import dataclass

import torch

from autograder.sandbox.errors import StudentException


class CheckFailure(AssertionError):
    """A result did not match; every field is shown to the student."""

    def __init__(self, what: str, problem: str, *, expected: str = "", got: str = "",
                 max_error: float | None = None, hint: str = ""):
        super().__init__(f"{what}: {problem}")
        self.what = what
        self.problem = problem
        self.expected = expected
        self.got = got
        self.max_error = max_error
        self.hint = hint

    def render(self) -> str:
        lines = [f"{self.what}: {self.problem}"]
        if self.expected:
            lines.append(f"  expected: {self.expected}")
        if self.got:
            lines.append(f"  got:      {self.got}")
        if self.max_error is not None:
            lines.append(f"  max abs error: {self.max_error:.3g}")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


def default_budget(device: str | torch.device) -> str:
    """The ``budget`` fixture when grading: ``"cuda"`` on a GPU, else ``"cpu"``."""
    return "cuda" if torch.device(device).type == "cuda" else "cpu"


def tags(*names: str):
    """Label a test, e.g. ``@tags("quality")`` for slow sample-quality tests that a quick
    grading (``diffgrade grade --quick``) leaves out, and says so in the report."""

    def mark(fn):
        fn.__diffgrade_tags__ = frozenset(names)
        return fn

    return mark


def cases(**params):
    """Run the decorated test once per value of its single keyword: ``@cases(schedule=[...])``."""
    if len(params) != 1:
        raise ValueError("cases() takes exactly one keyword, e.g. cases(schedule=['linear', 'cosine'])")
    (name, values), = params.items()

    def mark(fn):
        fn.__diffgrade_cases__ = (name, list(values))
        return fn

    return mark


def describe(value, limit: int = 6) -> str:
    """A short, readable rendering of a value for feedback."""
    if isinstance(value, torch.Tensor):
        flat = value.detach().flatten()[:limit].tolist()
        more = ", ..." if value.numel() > limit else ""
        nums = ", ".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in flat)
        return f"tensor(shape={tuple(value.shape)}, dtype={str(value.dtype).removeprefix('torch.')}, " \
               f"device={value.device}, values=[{nums}{more}])"
    text = repr(value)
    return text if len(text) < 200 else text[:200] + "..."


class Metrics:
    """Named numbers measured by tests (FID, loss, ...), in the order recorded."""

    def __init__(self):
        self.values: dict[str, float] = {}

    def record(self, name: str, value: float) -> float:
        self.values[name] = float(value)
        return float(value)


@dataclass(frozen=True)
class Checker:
    """Comparisons with tolerances from the assignment's config."""

    config: object

    def tensor(self, got, what: str, *, hint: str = "") -> torch.Tensor:
        """Fail unless ``got`` is a tensor."""
        if not isinstance(got, torch.Tensor):
            raise CheckFailure(what, f"expected a torch.Tensor, got {type(got).__name__}",
                               got=describe(got), hint=hint)
        return got

    def shape(self, got, shape, what: str, *, hint: str = "") -> None:
        self.tensor(got, what, hint=hint)
        if tuple(got.shape) != tuple(shape):
            raise CheckFailure(what, "wrong shape", expected=str(tuple(shape)), got=str(tuple(got.shape)), hint=hint)

    def close(self, got, expected: torch.Tensor, what: str, *, hint: str = "", atol: float | None = None,
              rtol: float | None = None, check_dtype: bool = True, check_device: bool = True) -> None:
        """``got`` equals ``expected`` in shape (and dtype, device) and in value within tolerance.

        NaN or inf where the reference is finite is a failure; tolerances default to
        the ``[tolerances]`` entry for ``expected.dtype``.
        """
        self.shape(got, expected.shape, what, hint=hint)
        if check_dtype and got.dtype != expected.dtype:
            raise CheckFailure(what, "wrong dtype", expected=str(expected.dtype), got=str(got.dtype),
                               hint=hint or "keep the dtype of the inputs; do not hard-code float32")
        if check_device and got.device.type != expected.device.type:
            raise CheckFailure(what, "wrong device", expected=str(expected.device), got=str(got.device),
                               hint=hint or "create new tensors on the device of the inputs")
        tol = self.config.tolerance(expected.dtype)
        atol = tol.atol if atol is None else atol
        rtol = tol.rtol if rtol is None else rtol
        g = got.detach().to("cpu", torch.float64)
        e = expected.detach().to("cpu", torch.float64)
        bad_finite = torch.isfinite(e) & ~torch.isfinite(g)
        if bool(bad_finite.any()):
            raise CheckFailure(what, f"{int(bad_finite.sum())} value(s) are NaN or infinite",
                               expected=describe(expected), got=describe(got), hint=hint)
        err = (g - e).abs()
        err = torch.where(torch.isfinite(e), err, torch.where(g == e, 0.0, math.inf))
        bound = atol + rtol * e.abs().nan_to_num(posinf=0.0, neginf=0.0)
        if bool((err > bound).any()):
            worst = int(torch.argmax((err - bound).flatten()))
            idx = tuple(int(i) for i in torch.unravel_index(torch.tensor(worst), e.shape)) if e.dim() else ()
            raise CheckFailure(
                what, f"values differ (tolerance atol={atol:g}, rtol={rtol:g}); worst at index {idx}: "
                      f"expected {e.flatten()[worst].item():.8g}, got {g.flatten()[worst].item():.8g}",
                expected=describe(expected), got=describe(got), max_error=float(err.max()), hint=hint)

    def equal(self, got, expected, what: str, *, hint: str = "") -> None:
        """Exact equality of plain values (ints, strings, tuples of them)."""
        if isinstance(got, torch.Tensor) or got != expected:
            raise CheckFailure(what, "wrong value", expected=describe(expected), got=describe(got), hint=hint)

    def true(self, condition: bool, what: str, problem: str, *, hint: str = "") -> None:
        if not condition:
            raise CheckFailure(what, problem, hint=hint)

    def raises(self, exc_name: str, call, what: str, *, hint: str = "") -> None:
        """``call()`` must raise an exception whose class is named ``exc_name`` in the student's code."""
        try:
            got = call()
        except StudentException as e:
            if e.exc_type != exc_name:
                raise CheckFailure(what, f"raised {e.exc_type} instead of {exc_name}",
                                   got=e.message, hint=hint) from None
            return
        raise CheckFailure(what, f"did not raise {exc_name}", got=describe(got), hint=hint)
