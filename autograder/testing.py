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

``@requires("test_q_sample_values")`` ties a test's points to real work: a shape
or property test (a placeholder of the right shape can pass it) earns its points
only once the named test(s) passed in full, every case, each with its own
prerequisites met. The test still runs, so its feedback is there; when a
prerequisite is missing it scores 0 with the line "awarded once ... passes".
A name may be one case, ``"test_snr_values[linear]"``, and ``{param}`` stands
for this test's case value: ``@cases(schedule=[...])`` with
``@requires("test_q_sample_values[{schedule}]")`` ties each case to its own.
Names are checked when the tests are collected: an unknown test or case, a test
that requires itself (or a cycle), or a prerequisite with a tag the test lacks
(``--quick`` would drop it) is an error naming the file and the test.

Float results are compared with ``check.close`` against an expected tensor, or,
for results in float32 (or float16), with ``check.close_to_truth`` against the
reference run in float64 on the same inputs: its tolerance grows with the
conditioning of the formula at each element, so a different but correct way of
computing it in float32 passes (see ``close_to_truth``).
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


def requires(*names: str):
    """Award the decorated test's points only once every test in ``names`` passed in full.

    ``names``: hidden test functions (all their cases) or single cases (``"test_f[linear]"``);
    ``{param}`` is replaced by the value of this test's case. Checked when collected.
    """
    if not names or not all(isinstance(n, str) and n.strip() for n in names):
        raise ValueError("requires() takes the names of one or more hidden tests, "
                         "e.g. requires('test_q_sample_values')")

    def mark(fn):
        fn.__diffgrade_requires__ = tuple(names)
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


# ``Checker.close_to_truth``: how many times a backward-stable computation's rounding error a correct
# result may be off. Formulas differ in how many roundings they make (exp(log(...)) makes a few more).
TRUTH_FACTOR = 16.0


def _to64(value):
    """Float tensors cast up to float64 (the same numbers), anything else as it is."""
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.detach().to(torch.float64)
    return value


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
        self._like(got, expected, what, hint, check_dtype, check_device)
        tol = self.config.tolerance(expected.dtype)
        atol = tol.atol if atol is None else atol
        rtol = tol.rtol if rtol is None else rtol
        e = expected.detach().to("cpu", torch.float64)
        bound = atol + rtol * e.abs().nan_to_num(posinf=0.0, neginf=0.0)
        self._within(got, expected, e, bound, what, hint, f"tolerance atol={atol:g}, rtol={rtol:g}")

    def close_to_truth(self, got, reference, args: tuple, what: str, *, kwargs: dict | None = None,
                       output=None, hint: str = "", factor: float = TRUTH_FACTOR,
                       check_device: bool = True) -> None:
        """``got`` is ``reference(*args, **kwargs)`` computed correctly in the precision of its result.

        For results in float32 (or float16), whatever formula the student chose. Three runs
        of the reference (trusted code, in the grader) set the comparison:

        * the truth: ``reference`` on the same inputs with every float tensor cast up to
          float64 (the same numbers, no rounding of the inputs);
        * the rounded run: ``reference`` on the inputs as given, so ``got`` must have its
          dtype (float32 in, float32 out);
        * the conditioning: the truth's change when each float input ``x`` in turn is scaled
          by ``1 +- eps`` (``eps`` of the result's dtype), and when ``1 - x`` is (formulas of
          diffusion work with ``1 - beta`` and ``1 - alpha_bar``, which float32 rounds near 1),
          summed over the inputs, plus ``eps * |truth|``. A backward-stable computation in that
          dtype (the result of inputs perturbed by a few ``eps``) is off by about this much,
          element by element.

        The tolerance per element is the larger of the ``[tolerances]`` entry for the result's
        dtype and ``factor`` times the larger of the conditioning and the rounded run's own
        error: so an ill-conditioned element (``snr`` where ``alpha_bar`` is near 1) gets the
        room float32 needs there, a well-conditioned one keeps the configured tolerance, and
        the reference's float32 result always passes. ``output`` picks the tensor to compare
        from what ``reference`` returns (``lambda r: r[0]`` for a mean of a pair).
        """
        kwargs = dict(kwargs or {})
        pick = output or (lambda r: r)
        rounded = pick(reference(*args, **kwargs))
        up = [_to64(a) for a in args]
        truth = pick(reference(*up, **kwargs))
        self._like(got, rounded, what, hint, True, check_device)
        eps = torch.finfo(rounded.dtype).eps if rounded.dtype.is_floating_point else 0.0
        t = truth.detach().to("cpu", torch.float64)
        t_finite = t.abs().nan_to_num(nan=0.0, posinf=0.0, neginf=0.0)
        scale = eps * t_finite
        for i, a in enumerate(up):
            if not (isinstance(a, torch.Tensor) and a.is_floating_point()):
                continue
            # x scaled by 1 +- eps, and 1 - x scaled by 1 -+ eps: formulas here work with 1 - beta and
            # 1 - alpha_bar, whose float32 rounding near 1 no relative change of x itself shows.
            for moves in ((a * (1 + eps), a * (1 - eps)), (a + eps * (1 - a), a - eps * (1 - a))):
                change = torch.zeros_like(t)
                for moved_input in moves:
                    moved = pick(reference(*up[:i], moved_input, *up[i + 1:], **kwargs))
                    change = torch.maximum(change, (moved.detach().to("cpu", torch.float64) - t).abs())
                scale = scale + change.nan_to_num(nan=0.0, posinf=0.0, neginf=0.0)
        own = (rounded.detach().to("cpu", torch.float64) - t).abs().nan_to_num(nan=0.0, posinf=0.0, neginf=0.0)
        tol = self.config.tolerance(rounded.dtype)
        bound = torch.maximum(tol.atol + tol.rtol * t_finite, factor * torch.maximum(scale, own))
        self._within(got, truth.to(rounded.dtype) if truth.is_floating_point() else truth, t, bound, what, hint,
                     f"tolerance: atol={tol.atol:g}, rtol={tol.rtol:g}, or {factor:g} times the rounding error "
                     f"a correct {str(rounded.dtype).removeprefix('torch.')} computation can make here, "
                     f"whichever is larger; compared with the float64 result")

    def _like(self, got, expected: torch.Tensor, what: str, hint: str, check_dtype: bool, check_device: bool) -> None:
        self.shape(got, expected.shape, what, hint=hint)
        if check_dtype and got.dtype != expected.dtype:
            raise CheckFailure(what, "wrong dtype", expected=str(expected.dtype), got=str(got.dtype),
                               hint=hint or "keep the dtype of the inputs; do not hard-code float32")
        if check_device and got.device.type != expected.device.type:
            raise CheckFailure(what, "wrong device", expected=str(expected.device), got=str(got.device),
                               hint=hint or "create new tensors on the device of the inputs")

    def _within(self, got, expected: torch.Tensor, e: torch.Tensor, bound: torch.Tensor, what: str, hint: str,
                tolerance: str) -> None:
        """Fail unless ``|got - e| <= bound`` everywhere (``e``: ``expected`` as float64 on the CPU)."""
        g = got.detach().to("cpu", torch.float64)
        bad_finite = torch.isfinite(e) & ~torch.isfinite(g)
        if bool(bad_finite.any()):
            raise CheckFailure(what, f"{int(bad_finite.sum())} value(s) are NaN or infinite",
                               expected=describe(expected), got=describe(got), hint=hint)
        err = (g - e).abs()
        err = torch.where(torch.isfinite(e), err, torch.where(g == e, 0.0, math.inf))
        if bool((err > bound).any()):
            worst = int(torch.argmax((err - bound).flatten()))
            idx = tuple(int(i) for i in torch.unravel_index(torch.tensor(worst), e.shape)) if e.dim() else ()
            raise CheckFailure(
                what, f"values differ ({tolerance}); worst at index {idx}: "
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
        """``call()`` must raise ``exc_name`` in the student's code: an exception of the class of that
        name or of a subclass of it (its class names, ``StudentException.exc_mro``, include ``exc_name``)."""
        try:
            got = call()
        except StudentException as e:
            if exc_name != e.exc_type and exc_name not in getattr(e, "exc_mro", ()):
                raise CheckFailure(what, f"raised {e.exc_type} instead of {exc_name}",
                                   got=e.message, hint=hint) from None
            return
        raise CheckFailure(what, f"did not raise {exc_name}", got=describe(got), hint=hint)
