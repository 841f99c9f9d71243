"""Mutation operators, each tried on a small source string through ``mutants_of_source``."""

import ast

import pytest

from autograder.audit.mutants import mutants_of_source


def afters(body: str, operator: str | None = None) -> list[str]:
    """The mutated line of each mutant of ``body`` (by ``operator`` if given)."""
    return [m.after for m in mutants_of_source(body, file="m.py") if operator in (None, m.operator)]


@pytest.mark.parametrize("line, operator, expected", [
    ("y = a + b", "add-to-sub", "y = a - b"),
    ("y = a - b", "sub-to-add", "y = a + b"),
    ("y = a * b", "mul-to-div", "y = a / b"),
    ("y = a / b", "div-to-mul", "y = a * b"),
    ("y = a ** 2", "pow-to-mul", "y = a * 2"),
    ("y += a", "add-to-sub", "y -= a"),
])
def test_arithmetic_swaps(line, operator, expected):
    """Is each arithmetic operator swapped for its partner, in expressions and augmented assignments?"""
    assert afters(line, operator) == [expected]


@pytest.mark.parametrize("line, operator, expected", [
    ("ok = a < b", "lt-to-le", "ok = a <= b"),
    ("ok = a <= b", "le-to-lt", "ok = a < b"),
    ("ok = a > b", "gt-to-ge", "ok = a >= b"),
    ("ok = a >= b", "ge-to-gt", "ok = a > b"),
    ("ok = a == b", "eq-to-ne", "ok = a != b"),
    ("ok = a != b", "ne-to-eq", "ok = a == b"),
    ("ok = a not in b", "not-in-to-in", "ok = a in b"),
    ("ok = a is None", "is-to-is-not", "ok = a is not None"),
])
def test_comparison_swaps(line, operator, expected):
    """Is each comparison swapped for its boundary or negated partner?"""
    assert afters(line, operator) == [expected]


def test_dropped_terms():
    """Does ``a + b`` lose either term, and ``a ** b`` its power?"""
    assert afters("y = a + b", "drop-right") == ["y = a"]
    assert afters("y = a + b", "drop-left") == ["y = b"]
    assert afters("y = a * b", "drop-left") == ["y = b"]
    assert afters("y = a ** 2", "drop-power") == ["y = a"]


def test_parentheses_keep_the_meaning():
    """Is a replacement parenthesised where precedence would otherwise change what it means?"""
    assert afters("y = c / a ** 2", "pow-to-mul") == ["y = c / (a * 2)"]
    assert afters("y = c * (a + b)", "add-to-sub") == ["y = c * (a - b)"]
    assert afters("y = x - a * b", "drop-left") == ["y = a * b", "y = x - b"]
    assert afters("y = (a + b) * c", "drop-left") == ["y = c", "y = (b) * c"]


def test_indices_off_by_one():
    """Does ``x[i]`` become ``x[i - 1]`` and ``x[i + 1]``, with literal indices folded?"""
    assert afters("y = x[i]", "index-minus-one") == ["y = x[i - 1]"]
    assert afters("y = x[i]", "index-plus-one") == ["y = x[i + 1]"]
    assert afters("y = x[0]", "index-minus-one") == ["y = x[-1]"]
    assert afters("y = x[:, 0]", "index-plus-one") == ["y = x[:, 1]"]
    assert afters('y = d["key"]', "index-plus-one") == []


def test_slices():
    """Are slice bounds shifted, dropped, and ``a[:-1]`` / ``a[1:]`` exchanged?"""
    assert afters("y = a[:-1]", "slice-shift") == ["y = a[1:]"]
    assert afters("y = a[1:]", "slice-shift") == ["y = a[:-1]"]
    assert afters("y = a[1:]", "slice-lower-minus-one") == ["y = a[0:]"]
    assert afters("y = a[:-1]", "slice-upper-minus-one") == ["y = a[:-2]"]
    assert afters("y = a[1:]", "slice-drop-lower") == ["y = a[:]"]


def test_swapped_arguments():
    """Are neighbouring positional arguments swapped, and identical ones left alone?"""
    assert afters("y = f(a, b, c)", "swap-args-1-2") == ["y = f(b, a, c)"]
    assert afters("y = f(a, b, c)", "swap-args-2-3") == ["y = f(a, c, b)"]
    assert afters("y = f(a, a)") == ["y = -f(a, a)"]


def test_constants():
    """Is c changed to c + 1 and 2c, 0 to 1 and 1 to 0, without duplicates; are booleans flipped?"""
    assert afters("y = 0") == ["y = 1"]
    assert sorted(afters("y = 1")) == ["y = 0", "y = 2"]
    assert sorted(afters("y = 0.5")) == ["y = 1.0", "y = 1.5"]
    assert sorted(afters("y = 2")) == ["y = 3", "y = 4"]
    assert afters("y = True") == ["y = False"]
    assert afters('y = "text"') == []


def test_signs():
    """Is a unary minus removed, or added to returned values and terms of a sum?"""
    assert afters("y = -x", "drop-neg") == ["y = x"]
    assert afters("def f(x):\n    return x\n", "add-neg") == ["return -x"]
    assert afters("y = a + b", "add-neg") == ["y = -(a + b)", "y = -a + b", "y = a + -b"]
    assert afters("ok = not x", "drop-not") == ["ok = x"]


def test_dropped_calls():
    """Are ``.sqrt()``, ``torch.sqrt(x)``, ``math.sqrt(x)`` and ``.clamp(...)`` dropped?"""
    assert afters("y = a.sqrt() * x", "drop-sqrt") == ["y = a * x"]
    assert afters("y = torch.sqrt(a)", "drop-sqrt") == ["y = a"]
    assert afters("y = math.sqrt(a + 1)", "drop-sqrt") == ["y = a + 1"]
    assert afters("y = b.clamp(max=m)", "drop-clamp") == ["y = b"]


def test_keywords_and_dtypes():
    """Is a keyword argument dropped, and a dtype swapped?"""
    assert afters("y = torch.cumprod(a, dim=0)", "drop-kwarg-dim") == ["y = torch.cumprod(a)"]
    assert afters("y = torch.zeros(3, dtype=torch.float64)", "dtype-float32") == \
        ["y = torch.zeros(3, dtype=torch.float32)"]


def test_strings_annotations_and_fstrings_are_left_alone():
    """Are docstrings, f-strings and annotations never mutated?"""
    source = 'def f(x: list[int]) -> dict[str, int]:\n    """Doc 1 + 2."""\n    raise ValueError(f"bad {x + 1}")\n'
    assert afters(source) == []


def test_columns_count_characters():
    """With non-ASCII text before the edit, is the column in characters and the splice in the right place?"""
    (mutant,) = [m for m in mutants_of_source('y = "αβ" + str(a + b)\n', file="m.py")
                 if m.operator == "add-to-sub" and m.col > 5]
    assert mutant.after == 'y = "αβ" + str(a - b)'
    assert mutant.col == 16 and mutant.id == "m.py:1:16:add-to-sub"


def test_every_mutant_is_exactly_its_edit():
    """Does every mutant parse, differ from the original, and have a unique id?"""
    source = ("def f(a, b, t):\n"
              "    c = (a[t] - b[:-1].sqrt()) / (1 - a) ** 0.5\n"
              "    return torch.cat([c, -c], dim=0) if t >= 0 else c[1:]\n")
    mutants = mutants_of_source(source, file="m.py")
    assert len(mutants) > 30
    assert len({m.id for m in mutants}) == len(mutants)
    assert len({m.source for m in mutants}) == len(mutants)
    original = ast.dump(ast.parse(source))
    for m in mutants:
        assert ast.dump(ast.parse(m.source)) != original, m.id
        assert m.diff.startswith(f"- {m.before}\n+ ")
