"""The result of an audit: what became of each mutant, and the report an instructor reads.

A mutant is ``killed`` when at least one hidden test fails on it (or it runs past
its timeout, crashes its worker, or does not import), ``survived`` when every
test passes, ``equivalent`` when it survived and ``audit.toml`` declares it
equivalent, and ``compile-error`` when its source does not compile (not counted).
The kill fraction is ``killed / (killed + survived)``.
"""

import collections
from dataclasses import dataclass

from autograder.audit.mutants import Mutant

KILLED, SURVIVED, EQUIVALENT, COMPILE_ERROR = "killed", "survived", "equivalent", "compile-error"
STATUSES = (KILLED, SURVIVED, EQUIVALENT, COMPILE_ERROR)
# How a killed mutant was killed.
BY_TESTS, BY_TIMEOUT, BY_CRASH, BY_IMPORT_ERROR = "tests", "timeout", "crash", "import-error"


@dataclass(frozen=True)
class MutantResult:
    """One mutant's fate."""

    mutant: Mutant
    status: str                      # one of STATUSES
    killed_by: tuple[str, ...] = ()  # names of the hidden test cases that failed on it
    how: str = ""                    # for killed mutants: BY_TESTS, BY_TIMEOUT, BY_CRASH or BY_IMPORT_ERROR
    note: str = ""                   # the equivalence reason, compile error or crash message
    seconds: float = 0.0


@dataclass(frozen=True)
class AuditReport:
    """Every mutant's fate and how the audit ran."""

    project: str
    tests: tuple[tuple[str, str], ...]  # (case name, test function) of the hidden tests run
    results: tuple[MutantResult, ...]
    generated: int                      # mutants generated, before any sampling
    include_quality: bool
    timeout_s: float                    # per mutant
    reference_seconds: float            # the hidden tests on the unmodified reference
    seconds: float                      # the whole audit
    jobs: int
    sample_seed: int | None = None      # None: every generated mutant ran
    warnings: tuple[str, ...] = ()

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def killed(self) -> int:
        return self.count(KILLED)

    @property
    def survived(self) -> int:
        return self.count(SURVIVED)

    @property
    def equivalent(self) -> int:
        return self.count(EQUIVALENT)

    @property
    def compile_errors(self) -> int:
        return self.count(COMPILE_ERROR)

    @property
    def kill_fraction(self) -> float:
        """Killed over killed plus survived (1.0 when no mutant counts)."""
        counted = self.killed + self.survived
        return self.killed / counted if counted else 1.0

    @property
    def survivors(self) -> tuple[MutantResult, ...]:
        return tuple(r for r in self.results if r.status == SURVIVED)

    def killed_how(self) -> dict[str, int]:
        """``{how: count}`` over killed mutants."""
        return dict(collections.Counter(r.how for r in self.results if r.status == KILLED))

    def functions(self) -> list[str]:
        """The hidden test functions, in the order they ran."""
        return list(dict.fromkeys(function for _, function in self.tests))

    def kills_by_test(self) -> dict[str, int]:
        """``{test function: mutants on which at least one of its cases failed}``."""
        function_of = dict(self.tests)
        counts = dict.fromkeys(self.functions(), 0)
        for r in self.results:
            for function in {function_of.get(name, name) for name in r.killed_by}:
                counts[function] = counts.get(function, 0) + 1
        return counts

    def sole_kills(self) -> dict[str, int]:
        """``{test function: mutants that no other test function kills}``."""
        function_of = dict(self.tests)
        counts = dict.fromkeys(self.functions(), 0)
        for r in self.results:
            functions = {function_of.get(name, name) for name in r.killed_by}
            if len(functions) == 1:
                (function,) = functions
                counts[function] = counts.get(function, 0) + 1
        return counts

    def summary(self) -> str:
        """One line: counts and the kill fraction."""
        return (f"{self.project}: {self.total} mutants, {self.killed} killed, {self.survived} survived, "
                f"{self.equivalent} equivalent, {self.compile_errors} compile errors; "
                f"kill fraction {self.kill_fraction:.1%} ({self.seconds:.0f} s)")


def _how_text(counts: dict[str, int]) -> str:
    labels = {BY_TESTS: "by a failing test", BY_TIMEOUT: "by the timeout", BY_CRASH: "by a crash",
              BY_IMPORT_ERROR: "by an import error"}
    return ", ".join(f"{labels.get(how, how)} {n}" for how, n in counts.items() if n)


def to_markdown(report: AuditReport) -> str:
    """The audit as a Markdown report."""
    scope = (f"All {report.total} mutants" if report.sample_seed is None
             else f"A sample of {report.total} of {report.generated} mutants (seed {report.sample_seed})")
    tests = "every hidden test" if report.include_quality else "the hidden tests without the quality-tagged ones"
    counted = report.killed + report.survived
    lines = [
        f"# Mutation audit: {report.project}",
        "",
        f"{scope} of the solution regions of the reference, each graded by {tests} "
        f"({len(report.tests)} cases); {report.jobs} job(s), a timeout of {report.timeout_s:.0f} s per mutant "
        f"(the reference takes {report.reference_seconds:.2f} s), {report.seconds:.0f} s in all.",
        "",
        "| mutants | count |",
        "| --- | ---: |",
        f"| killed | {report.killed} |",
        f"| survived | {report.survived} |",
        f"| equivalent (declared in audit.toml) | {report.equivalent} |",
        f"| compile errors (not counted) | {report.compile_errors} |",
        f"| **kill fraction** | **{report.kill_fraction:.1%}** ({report.killed} / {counted}) |",
        "",
    ]
    how = _how_text(report.killed_how())
    if how:
        lines += [f"Killed {how}.", ""]
    lines += ["## Survivors", ""]
    if not report.survivors:
        lines += ["None: every non-equivalent mutant fails at least one hidden test.", ""]
    for r in report.survivors:
        m = r.mutant
        lines += [f"- `{m.id}`: {m.description}", "", "  ```diff", f"  - {m.before}", f"  + {m.after}", "  ```", ""]
    equivalents = [r for r in report.results if r.status == EQUIVALENT]
    if equivalents:
        lines += ["## Equivalent mutants", ""]
        lines += [f"- `{r.mutant.id}` ({r.mutant.description}): {r.note}" for r in equivalents]
        lines.append("")
    errors = [r for r in report.results if r.status == COMPILE_ERROR]
    if errors:
        lines += ["## Compile errors", ""]
        lines += [f"- `{r.mutant.id}`: {r.note}" for r in errors]
        lines.append("")
    lines += ["## Mutants killed per hidden test", "",
              "| test | cases | mutants killed | killed by no other test |", "| --- | ---: | ---: | ---: |"]
    cases = collections.Counter(function for _, function in report.tests)
    kills, sole = report.kills_by_test(), report.sole_kills()
    for function in report.functions():
        lines.append(f"| `{function}` | {cases[function]} | {kills.get(function, 0)} | {sole.get(function, 0)} |")
    lines.append("")
    if report.warnings:
        lines += ["## Warnings", ""]
        lines += [f"- {w}" for w in report.warnings]
        lines.append("")
    return "\n".join(lines)
