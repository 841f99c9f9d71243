"""Mutants of a reference solution: one operator applied once, inside a solution region.

A mutant is the whole text of one file with one edit from ``operators``. The
edit is spliced into the original text (comments and layout kept), wrapped in
parentheses where precedence needs it, and checked: the spliced file must parse
to the same tree as the edited tree, so the mutant is exactly the edit it
describes. Only nodes lying wholly on lines between ``# BEGIN SOLUTION`` and
``# END SOLUTION`` are mutated; the scaffolding students are given is not.

A mutant's id is ``file:line:col:operator`` (``forward.py:28:12:add-to-sub``),
with a 1-based line and column; a second edit with the same id (nested calls start
at the same column) gets ``#2``.
Ids are stable as long as the reference file does not change above the edit.
"""

import ast
import copy
import random
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from autograder.audit.operators import Edit, edits
from autograder.release.markers import Location, find_regions

# Fields whose subtrees are never mutated: type annotations, and f-strings (whose
# inner positions are not reliable before Python 3.12, and whose text is only a message).
_SKIPPED_FIELDS = frozenset({"annotation", "returns", "decorator_list", "type_comment"})


@dataclass(frozen=True)
class Mutant:
    """One mutated file of a reference package."""

    id: str           # "forward.py:28:12:add-to-sub"
    file: str         # path relative to the package folder, with "/" separators
    line: int         # 1-based line of the edited node
    col: int          # 1-based column (in characters) of the edited node
    operator: str     # "add-to-sub"
    description: str  # "`a + b` -> `a - b`"
    before: str       # the edited line(s) of the reference, stripped and joined
    after: str        # the same line(s) in the mutant
    source: str       # the whole mutated file

    @property
    def diff(self) -> str:
        return f"- {self.before}\n+ {self.after}"


def solution_lines(source: str, *, path: str) -> set[int]:
    """The 1-based numbers of the lines inside solution regions (marker lines excluded)."""
    regions = find_regions(source.splitlines(), location=Location(path))
    return {i + 1 for r in regions for i in range(r.begin + 1, r.end)}


def _walk(node: ast.AST, path: tuple = ()) -> Iterator[tuple[ast.AST, tuple]]:
    """Every node with its path from the root, ``((field, index or None), ...)``, skipping
    annotations and f-strings."""
    yield node, path
    if isinstance(node, ast.JoinedStr):
        return
    for field, value in ast.iter_fields(node):
        if field in _SKIPPED_FIELDS:
            continue
        if isinstance(value, ast.AST):
            yield from _walk(value, (*path, (field, None)))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, ast.AST):
                    yield from _walk(item, (*path, (field, i)))


def _replaced(node: ast.AST, path: tuple, new: ast.AST) -> ast.AST:
    """A copy of ``node`` with its descendant at ``path`` (relative to ``node``) replaced by ``new``."""
    if not path:
        return copy.deepcopy(new)
    out = copy.deepcopy(node)
    parent = out
    for field, index in path[:-1]:
        parent = getattr(parent, field) if index is None else getattr(parent, field)[index]
    field, index = path[-1]
    if index is None:
        setattr(parent, field, copy.deepcopy(new))
    else:
        getattr(parent, field)[index] = copy.deepcopy(new)
    return out


class _FoldNegation(ast.NodeTransformer):
    """``-(3)`` and the literal ``-3`` are the same program: fold the first into the second."""

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
                and type(node.operand.value) in (int, float):
            return ast.Constant(-node.operand.value)
        return node


def _canonical(text: str | bytes) -> str:
    """A dump of the program in ``text`` that ignores parentheses, layout and how negative
    literals are written."""
    return ast.dump(_FoldNegation().visit(ast.parse(text)))


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


class _Source:
    """A file's text as bytes, addressed by the (line, byte column) positions of ``ast``."""

    def __init__(self, text: str):
        self.data = text.encode()
        self.starts = [0] + [i + 1 for i, b in enumerate(self.data) if b == 0x0A]

    def offset(self, line: int, col: int) -> int:
        return self.starts[line - 1] + col

    def line_end(self, line: int) -> int:
        return self.starts[line] - 1 if line < len(self.starts) else len(self.data)

    def char_col(self, line: int, col: int) -> int:
        return len(self.data[self.starts[line - 1]:self.offset(line, col)].decode()) + 1


def _one_line(data: bytes) -> str:
    return " ".join(line.strip() for line in data.decode().splitlines())


def _statement_lines(stmt: ast.stmt) -> tuple[int, int]:
    """First and last line of a top-level statement, decorators included."""
    first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", ()))])
    return first, stmt.end_lineno


def _apply(edit: Edit, path: tuple, tree: ast.Module, src: _Source) -> tuple[bytes, str, str] | None:
    """``(mutated file, canonical mutated statement, replacement text)`` of ``edit``, or None
    when no text parses to the edited tree.

    Only the top-level statement holding the edit is compared: the rest of the file is untouched.
    """
    node = edit.target
    top = tree.body[path[0][1]]
    first, last = _statement_lines(top)
    expected = _canonical(ast.unparse(_replaced(top, path[1:], edit.new)))
    start = src.offset(node.lineno, node.col_offset)
    end = src.offset(node.end_lineno, node.end_col_offset)
    stmt_start, stmt_end = src.starts[first - 1], src.line_end(last)
    text = ast.unparse(edit.new)
    choices = [text] if isinstance(node, (ast.Slice, ast.stmt)) else [text, f"({text})"]
    for choice in choices:
        segment = src.data[stmt_start:start] + choice.encode() + src.data[end:stmt_end]
        try:
            if _canonical(segment) != expected:
                continue
        except SyntaxError:
            continue
        return src.data[:stmt_start] + segment + src.data[stmt_end:], f"{path[0][1]}:{expected}", choice
    return None


def mutants_of_source(source: str, *, file: str, lines: Collection[int] | None = None) -> list[Mutant]:
    """Every mutant of ``source`` (named ``file`` in ids) whose edit lies on ``lines``
    (1-based; None: anywhere), in file order, without duplicates or no-op edits."""
    tree = ast.parse(source)
    src = _Source(source)
    paths = {id(node): path for node, path in _walk(tree)}
    originals = {f"{i}:{_canonical(ast.unparse(stmt))}" for i, stmt in enumerate(tree.body)}
    found, seen, seen_ids = [], set(originals), set()
    for node, _ in _walk(tree):
        for edit in edits(node):
            target = edit.target
            if id(target) not in paths or not paths[id(target)] or not hasattr(target, "end_lineno"):
                continue
            span = range(target.lineno, target.end_lineno + 1)
            if lines is not None and not all(n in lines for n in span):
                continue
            applied = _apply(edit, paths[id(target)], tree, src)
            if applied is None or applied[1] in seen:
                continue
            mutated, key, replacement = applied
            seen.add(key)
            col = src.char_col(target.lineno, target.col_offset)
            mutant_id = base = f"{file}:{target.lineno}:{col}:{edit.operator}"
            n = 1
            while mutant_id in seen_ids:
                n += 1
                mutant_id = f"{base}#{n}"
            seen_ids.add(mutant_id)
            original = src.data[src.offset(target.lineno, target.col_offset):
                                src.offset(target.end_lineno, target.end_col_offset)].decode()
            line_start, line_end = src.starts[target.lineno - 1], src.line_end(target.end_lineno)
            after = mutated[line_start:len(mutated) - (len(src.data) - line_end)]
            found.append(Mutant(id=mutant_id, file=file, line=target.lineno, col=col, operator=edit.operator,
                                description=f"`{_short(original)}` -> `{_short(replacement)}`",
                                before=_one_line(src.data[line_start:line_end]), after=_one_line(after),
                                source=mutated.decode()))
    found.sort(key=lambda m: (m.line, m.col))
    return found


def project_mutants(package_dir: Path) -> list[Mutant]:
    """The mutants of every solution region of every ``.py`` file under ``package_dir``."""
    package_dir = Path(package_dir)
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        rel = path.relative_to(package_dir).as_posix()
        source = path.read_text()
        lines = solution_lines(source, path=str(path))
        if lines:
            found.extend(mutants_of_source(source, file=rel, lines=lines))
    return found


def sample(mutants: list[Mutant], k: int | None, *, seed: int = 0) -> list[Mutant]:
    """At most ``k`` of ``mutants``, drawn with ``random.Random(seed)``, in their original order."""
    if k is None or k >= len(mutants):
        return list(mutants)
    if k < 0:
        raise ValueError(f"max_mutants must be at least 0, got {k}")
    chosen = sorted(random.Random(seed).sample(range(len(mutants)), k))
    return [mutants[i] for i in chosen]
