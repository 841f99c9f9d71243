"""``diffgrade audit``: how many plausible mistakes do a project's hidden tests catch?

1. generate the mutants of the reference's solution regions (``mutants``), or
   take the ones given; optionally a seeded sample of them;
2. start ``jobs`` worker processes (``pool``); grade the unmodified reference
   first: it must pass every selected hidden test, and its time sets the
   per-mutant timeout (20 times it, at least 10 s, unless given);
3. grade every mutant, each in a fresh module of a worker; a mutant that runs
   past the timeout, crashes its worker or does not import counts as killed;
4. classify (``report``), applying the equivalent mutants of ``audit.toml``.
"""

import time
from collections.abc import Callable
from pathlib import Path

from autograder import config as config_mod
from autograder import course
from autograder.audit import report as rep
from autograder.audit.equivalents import FILENAME, load_equivalents
from autograder.audit.errors import AuditError
from autograder.audit.mutants import Mutant, project_mutants, sample
from autograder.audit.pool import Reply, Request, WorkerPool

MIN_TIMEOUT_S = 10.0
TIMEOUT_FACTOR = 20.0


def _compile_error(mutant: Mutant) -> str | None:
    try:
        compile(mutant.source, mutant.file, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as e:
        return f"{type(e).__name__}: {e}"
    return None


def _classify(mutant: Mutant, reply: Reply, equivalents: dict[str, str]) -> rep.MutantResult:
    if reply.status == "ran" and reply.failed:
        return rep.MutantResult(mutant, rep.KILLED, killed_by=reply.failed, how=rep.BY_TESTS, seconds=reply.seconds)
    if reply.status == "ran":
        if mutant.id in equivalents:
            return rep.MutantResult(mutant, rep.EQUIVALENT, note=equivalents[mutant.id], seconds=reply.seconds)
        return rep.MutantResult(mutant, rep.SURVIVED, seconds=reply.seconds)
    how = {"timeout": rep.BY_TIMEOUT, "crash": rep.BY_CRASH, "import-error": rep.BY_IMPORT_ERROR}[reply.status]
    return rep.MutantResult(mutant, rep.KILLED, how=how, note=reply.message.splitlines()[0] if reply.message else "",
                            seconds=reply.seconds)


def _grade_reference(pool: WorkerPool, limit: float) -> Reply:
    reply = pool.run([Request("reference", messages=True)], timeout=limit)["reference"]
    if reply.status != "ran":
        raise AuditError(f"the reference could not be graded ({reply.status}): {reply.message}")
    if reply.failed:
        details = "\n\n".join(f"{name}:\n{reply.messages.get(name, '')}" for name in reply.failed)
        raise AuditError(f"the reference fails {len(reply.failed)} of its own hidden test case(s), so mutants "
                         f"cannot be judged; fix these first:\n{details}")
    return reply


def audit(*, project: str, root: Path | None = None, include_quality: bool = False, max_mutants: int | None = None,
          jobs: int = 1, sample_seed: int = 0, timeout: float | None = None, device: str = "cpu",
          mutants: list[Mutant] | None = None,
          on_result: Callable[[rep.MutantResult], None] | None = None) -> rep.AuditReport:
    """Grade every mutant of ``project``'s reference with its hidden tests.

    ``max_mutants`` keeps a sample drawn with ``sample_seed``; ``mutants`` replaces the
    generated ones (hand-written mutants, tests); ``timeout`` is per mutant in seconds
    (default: 20 times the reference's time, at least 10 s); ``on_result`` sees each
    mutant's result as it comes. Raises ``AuditError`` when the reference fails its tests.
    """
    start = time.perf_counter()
    root = Path(root) if root else course.course_root()
    name = course.project_name(project)
    adir = course.assignment_dir(name, root)
    cfg = config_mod.load(adir)
    all_mutants = list(mutants) if mutants is not None else project_mutants(course.solution_dir(name, root))
    chosen = sample(all_mutants, max_mutants, seed=sample_seed)
    equivalents = load_equivalents(adir)
    known = {m.id for m in all_mutants}
    warnings = [f"{FILENAME} declares {mutant_id} equivalent, but no mutant has that id any more "
                f"(did the reference change?)" for mutant_id in equivalents if mutant_id not in known]

    results: dict[str, rep.MutantResult] = {}
    runnable = []
    for mutant in chosen:
        error = _compile_error(mutant)
        if error:
            results[mutant.id] = rep.MutantResult(mutant, rep.COMPILE_ERROR, note=error)
        else:
            runnable.append(mutant)
    by_id = {m.id: m for m in runnable}

    def record(reply: Reply) -> None:
        results[reply.id] = result = _classify(by_id[reply.id], reply, equivalents)
        if on_result:
            on_result(result)

    select = "all" if include_quality else "no-quality"
    with WorkerPool(project=name, root=root, jobs=jobs, select=select, device=device,
                    memory_mb=cfg.limits.memory_mb, startup_timeout=cfg.limits.startup_timeout_s) as pool:
        reference = _grade_reference(pool, cfg.limits.total_timeout_s)
        limit = timeout if timeout is not None else max(MIN_TIMEOUT_S, TIMEOUT_FACTOR * reference.seconds)
        pool.run([Request(m.id, m.file, m.source) for m in runnable], timeout=limit, on_reply=record)
        tests = tuple(pool.tests)

    for r in results.values():
        if r.status == rep.KILLED and r.mutant.id in equivalents:
            killers = ", ".join(r.killed_by[:3]) or r.how
            warnings.append(f"{FILENAME} declares {r.mutant.id} equivalent, but it is killed ({killers}); "
                            "remove the declaration")
    return rep.AuditReport(
        project=name, tests=tests, results=tuple(results[m.id] for m in chosen), generated=len(all_mutants),
        include_quality=include_quality, timeout_s=limit, reference_seconds=reference.seconds,
        seconds=time.perf_counter() - start, jobs=jobs,
        sample_seed=sample_seed if len(chosen) < len(all_mutants) else None, warnings=tuple(warnings))
