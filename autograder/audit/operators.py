"""Mutation operators: the small, plausible mistakes a student makes, as AST rewrites.

Each operator looks at one node of a parsed file and yields ``Edit``s: the node
to replace (the looked-at node or one of its children), its replacement, and a
short name used in mutant ids (``add-to-sub``). Operators never change the
original tree; replacements share unchanged children with it, which is fine
because they are only unparsed and compared.

The operators, by family:

* arithmetic: ``+ <-> -``, ``* <-> /``, ``** -> *`` (also in ``x += y``);
* comparisons: ``< <-> <=``, ``> <-> >=``, ``== <-> !=``, ``in <-> not in``, ``is <-> is not``;
* dropped terms: ``a + b -> a`` and ``-> b`` (also for ``-``, ``*``, ``/``), ``a ** b -> a``;
* indices off by one: ``x[i] -> x[i - 1]`` / ``x[i + 1]``, each slice bound +-1 or dropped,
  ``a[:-k] <-> a[k:]``;
* swapped neighbouring positional arguments of a call;
* numeric constants: ``c -> c + 1``, ``c -> 2 * c``, ``0 -> 1``, ``1 -> 0``; ``True <-> False``;
* signs: unary minus removed (``-x -> x``) or added (to returned and assigned values and
  to the terms of a sum), ``not`` removed;
* dropped elementwise calls: ``x.sqrt() -> x``, ``torch.sqrt(x) -> x`` (also exp, log, abs,
  clamp, clip, square, cumprod, cumsum);
* keyword arguments: a keyword dropped (its default used instead), a dtype swapped
  (``torch.float64 <-> torch.float32``).
"""

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Edit:
    """Replace ``target`` (a node of the original tree) by ``new``; ``operator`` names the change."""

    operator: str
    target: ast.AST
    new: ast.AST


def _with(node: ast.AST, **changes) -> ast.AST:
    """A shallow copy of ``node`` with some fields changed."""
    fields = {f: getattr(node, f) for f in node._fields if hasattr(node, f)}
    return type(node)(**{**fields, **changes})


def _same(a: ast.AST, b: ast.AST) -> bool:
    return ast.dump(a) == ast.dump(b)


def _is_number(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _int_literal(node: ast.AST) -> int | None:
    """The value of an int literal (``3`` or ``-3``), else None."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _int_literal(node.operand)
        return None if inner is None else -inner
    return None


def _shifted(node: ast.AST, delta: int) -> ast.AST:
    """``node + delta`` (folded for int literals: ``x[0] -> x[-1]``, not ``x[0 - 1]``)."""
    value = _int_literal(node)
    if value is not None:
        return ast.Constant(value + delta)
    op = ast.Add() if delta > 0 else ast.Sub()
    return ast.BinOp(left=node, op=op, right=ast.Constant(abs(delta)))


# -- arithmetic and comparisons ---------------------------------------------------------------
BINOP_SWAPS = {
    ast.Add: (ast.Sub, "add-to-sub"),
    ast.Sub: (ast.Add, "sub-to-add"),
    ast.Mult: (ast.Div, "mul-to-div"),
    ast.Div: (ast.Mult, "div-to-mul"),
    ast.Pow: (ast.Mult, "pow-to-mul"),
}

COMPARE_SWAPS = {
    ast.Lt: (ast.LtE, "lt-to-le"),
    ast.LtE: (ast.Lt, "le-to-lt"),
    ast.Gt: (ast.GtE, "gt-to-ge"),
    ast.GtE: (ast.Gt, "ge-to-gt"),
    ast.Eq: (ast.NotEq, "eq-to-ne"),
    ast.NotEq: (ast.Eq, "ne-to-eq"),
    ast.In: (ast.NotIn, "in-to-not-in"),
    ast.NotIn: (ast.In, "not-in-to-in"),
    ast.Is: (ast.IsNot, "is-to-is-not"),
    ast.IsNot: (ast.Is, "is-not-to-is"),
}


def swap_operator(node: ast.AST) -> Iterator[Edit]:
    """``a + b -> a - b`` and the other arithmetic swaps, in expressions and augmented assignments."""
    if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in BINOP_SWAPS:
        new_op, name = BINOP_SWAPS[type(node.op)]
        yield Edit(name, node, _with(node, op=new_op()))


def swap_comparison(node: ast.AST) -> Iterator[Edit]:
    """``a < b -> a <= b`` and the other comparison swaps, one operator of a chain at a time."""
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in COMPARE_SWAPS:
                new_op, name = COMPARE_SWAPS[type(op)]
                ops = [*node.ops[:i], new_op(), *node.ops[i + 1:]]
                yield Edit(name, node, _with(node, ops=ops))


def drop_term(node: ast.AST) -> Iterator[Edit]:
    """``a + b -> a`` and ``-> b`` (also ``-``, ``*``, ``/``); ``a ** b -> a``."""
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            yield Edit("drop-right", node, node.left)
            yield Edit("drop-left", node, node.right)
        elif isinstance(node.op, ast.Pow):
            yield Edit("drop-power", node, node.left)


# -- indices and slices -----------------------------------------------------------------------
def _index_edits(index: ast.AST) -> Iterator[Edit]:
    if isinstance(index, ast.Slice):
        yield from _slice_edits(index)
    elif isinstance(index, ast.Tuple):
        for element in index.elts:
            yield from _index_edits(element)
    elif isinstance(index, ast.Constant) and type(index.value) is not int:
        return  # a dict key, None or Ellipsis
    elif not isinstance(index, (ast.Starred, ast.JoinedStr)):
        yield Edit("index-minus-one", index, _shifted(index, -1))
        yield Edit("index-plus-one", index, _shifted(index, +1))


def _slice_edits(s: ast.Slice) -> Iterator[Edit]:
    for bound in ("lower", "upper"):
        value = getattr(s, bound)
        if value is not None:
            yield Edit(f"slice-{bound}-minus-one", s, _with(s, **{bound: _shifted(value, -1)}))
            yield Edit(f"slice-{bound}-plus-one", s, _with(s, **{bound: _shifted(value, +1)}))
            yield Edit(f"slice-drop-{bound}", s, _with(s, **{bound: None}))
    if s.step is None:
        lower = None if s.lower is None else _int_literal(s.lower)
        upper = None if s.upper is None else _int_literal(s.upper)
        if s.lower is None and upper is not None and upper < 0:  # a[:-k] -> a[k:]
            yield Edit("slice-shift", s, ast.Slice(lower=ast.Constant(-upper), upper=None, step=None))
        if s.upper is None and lower is not None and lower > 0:  # a[k:] -> a[:-k]
            yield Edit("slice-shift", s, ast.Slice(lower=None, upper=ast.Constant(-lower), step=None))


def shift_index(node: ast.AST) -> Iterator[Edit]:
    """``x[i] -> x[i - 1]`` / ``x[i + 1]``; slice bounds +-1 or dropped; ``a[:-k] <-> a[k:]``."""
    if isinstance(node, ast.Subscript):
        yield from _index_edits(node.slice)


# -- calls ------------------------------------------------------------------------------------
def swap_arguments(node: ast.AST) -> Iterator[Edit]:
    """``f(a, b, c) -> f(b, a, c)`` and ``-> f(a, c, b)``: neighbouring positional arguments swapped."""
    if not isinstance(node, ast.Call) or any(isinstance(a, ast.Starred) for a in node.args):
        return
    for i in range(len(node.args) - 1):
        a, b = node.args[i], node.args[i + 1]
        if not _same(a, b):
            args = [*node.args[:i], b, a, *node.args[i + 2:]]
            yield Edit(f"swap-args-{i + 1}-{i + 2}", node, _with(node, args=args))


# Elementwise calls whose omission is a plausible mistake: the result keeps its shape.
DROPPABLE_CALLS = frozenset({"sqrt", "rsqrt", "exp", "log", "abs", "clamp", "clip", "square", "cumprod", "cumsum"})
MODULES = frozenset({"torch", "math", "np", "numpy", "F"})


def drop_call(node: ast.AST) -> Iterator[Edit]:
    """``x.sqrt() -> x``, ``torch.sqrt(x) -> x``, ``sqrt(x) -> x`` (and the other DROPPABLE_CALLS)."""
    if not isinstance(node, ast.Call):
        return
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr in DROPPABLE_CALLS:
        module_function = isinstance(func.value, ast.Name) and func.value.id in MODULES
        if not module_function:
            yield Edit(f"drop-{func.attr}", node, func.value)
        elif node.args and not isinstance(node.args[0], ast.Starred):
            yield Edit(f"drop-{func.attr}", node, node.args[0])
    elif isinstance(func, ast.Name) and func.id in DROPPABLE_CALLS and node.args \
            and not isinstance(node.args[0], ast.Starred):
        yield Edit(f"drop-{func.id}", node, node.args[0])


def drop_keyword(node: ast.AST) -> Iterator[Edit]:
    """``f(x, dim=0) -> f(x)``: a keyword argument left out, so its default is used."""
    if isinstance(node, ast.Call):
        for i, kw in enumerate(node.keywords):
            if kw.arg is not None:
                keywords = [*node.keywords[:i], *node.keywords[i + 1:]]
                yield Edit(f"drop-kwarg-{kw.arg}", node, _with(node, keywords=keywords))


DTYPE_SWAPS = {"float64": "float32", "double": "float32", "float32": "float64", "float": "float64",
               "float16": "float32", "int64": "int32", "long": "int32"}


def swap_dtype(node: ast.AST) -> Iterator[Edit]:
    """``torch.float64 -> torch.float32`` and the other DTYPE_SWAPS."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "torch" \
            and node.attr in DTYPE_SWAPS:
        new = DTYPE_SWAPS[node.attr]
        yield Edit(f"dtype-{new}", node, _with(node, attr=new))


# -- constants and signs ----------------------------------------------------------------------
def change_constant(node: ast.AST) -> Iterator[Edit]:
    """Numbers: ``c -> c + 1``, ``c -> 2 * c``, ``0 -> 1``, ``1 -> 0``; booleans flipped."""
    if not isinstance(node, ast.Constant):
        return
    if type(node.value) is bool:
        yield Edit("flip-bool", node, ast.Constant(not node.value))
        return
    if type(node.value) not in (int, float):
        return
    c, kind = node.value, type(node.value)
    candidates = [("const-plus-one", c + 1), ("const-times-two", c * 2)]
    if c == 0:
        candidates.append(("const-zero-to-one", kind(1)))
    if c == 1:
        candidates.append(("const-one-to-zero", kind(0)))
    seen = {repr(c)}
    for name, value in candidates:
        if repr(value) not in seen:
            seen.add(repr(value))
            yield Edit(name, node, ast.Constant(value))


def flip_sign(node: ast.AST) -> Iterator[Edit]:
    """``-x -> x`` and ``not x -> x``; ``x -> -x`` for returned and assigned values and the terms of a sum."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield Edit("drop-neg", node, node.operand)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield Edit("drop-not", node, node.operand)
    targets = []
    if isinstance(node, (ast.Return, ast.Assign)) and node.value is not None:
        targets = [node.value] if not isinstance(node.value, ast.Tuple) else list(node.value.elts)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        targets = [node.left, node.right]
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
        targets = [node.left]
    for value in targets:
        negatable = not isinstance(value, (ast.Constant, ast.UnaryOp, ast.Starred, ast.Tuple, ast.List,
                                           ast.Dict, ast.Set, ast.JoinedStr, ast.Lambda))
        if negatable:
            yield Edit("add-neg", value, ast.UnaryOp(op=ast.USub(), operand=value))


OPERATORS: tuple[Callable[[ast.AST], Iterator[Edit]], ...] = (
    swap_operator,
    swap_comparison,
    drop_term,
    shift_index,
    swap_arguments,
    drop_call,
    drop_keyword,
    swap_dtype,
    change_constant,
    flip_sign,
)


def edits(node: ast.AST) -> Iterator[Edit]:
    """Every edit of every operator at ``node``, in the order of ``OPERATORS``."""
    for operator in OPERATORS:
        yield from operator(node)
