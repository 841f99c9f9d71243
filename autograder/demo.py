"""``diffgrade demo``: release every project and grade the shipped example submissions.

The examples live in ``examples/<project>/<name>/`` and ``examples/<project>/examples.toml``
says what each one shows and the score it should get (full, partial or zero).
The demo prints a gradebook table and says whether every example scored as expected.
It grades at the strongest sandbox this machine offers; on a machine with none (no
bubblewrap, no Landlock) it warns and grades at ``process``, as the examples are the
course's own code, where ``grade`` and ``batch`` would refuse.
"""

import csv
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from autograder import course


@dataclass(frozen=True)
class Example:
    project: str
    name: str
    path: Path
    about: str
    expect: str  # "full", "partial" or "zero"


def examples(root: Path) -> list[Example]:
    """The example submissions of every project that has an assignment."""
    found = []
    for project in course.available_projects(root):
        index = root / "examples" / project / "examples.toml"
        if not index.is_file():
            continue
        for name, entry in tomllib.loads(index.read_text()).items():
            if entry.get("expect") not in ("full", "partial", "zero"):
                raise ValueError(f"{index} [{name}]: expect must be full, partial or zero")
            found.append(Example(project, name, index.parent / name, entry.get("about", ""), entry["expect"]))
    return found


def outcome(score: float, max_score: float) -> str:
    if score >= max_score:
        return "full"
    return "zero" if score <= 0 else "partial"


def demo(*, out_dir: Path = Path("diffgrade-demo"), isolation: str = "auto", root: Path | None = None,
         stream=None) -> int:
    """Release, grade every example, write ``gradebook.csv``; 0 when every example scored as expected."""
    from autograder.grading.grade import grade
    from autograder.grading.report import points
    from autograder.release.pipeline import release

    stream = stream or sys.stdout
    root = root or course.course_root()
    isolation = demo_isolation(isolation, stream)
    out_dir = Path(out_dir)
    start = time.monotonic()
    rep = release(root=root, out_dir=out_dir / "release", template_dir=out_dir / "student_template")
    print(f"released {', '.join(rep.projects)} into {out_dir / 'release'}", file=stream)
    rows = []
    todo = examples(root)
    for i, ex in enumerate(todo, 1):
        print(f"[{i}/{len(todo)}] grading {ex.project}/{ex.name}: {ex.about}", file=stream, flush=True)
        # Quick grading keeps the demo to about a minute: quality tests (training runs,
        # FID) are left out and each report says so; `diffgrade grade` runs them all.
        result = grade(project=ex.project, submission=ex.path, out_dir=out_dir / "grades" / ex.project / ex.name,
                       isolation=isolation, quick=True)
        got = outcome(result.score, result.max_score)
        rows.append({"project": ex.project, "submission": ex.name, "score": points(result.score),
                     "max_score": points(result.max_score), "expected": ex.expect,
                     "as_expected": "yes" if got == ex.expect else "NO",
                     "isolation": result.isolation, "seconds": f"{result.seconds:.1f}"})
    gradebook = out_dir / "gradebook.csv"
    with open(gradebook, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["project"])
        writer.writeheader()
        writer.writerows(rows)
    print(file=stream)
    print(format_table(rows), file=stream)
    ok = all(r["as_expected"] == "yes" for r in rows)
    print(f"\n{len(rows)} submissions graded in {time.monotonic() - start:.0f} s; "
          f"{'every score as expected' if ok else 'SOME SCORES NOT AS EXPECTED'}", file=stream)
    print(f"gradebook: {gradebook}; reports: {out_dir / 'grades'}", file=stream)
    return 0 if ok else 1


def demo_isolation(requested: str, stream) -> str:
    """The level the demo grades at. The examples are the course's own, not untrusted code, so
    where ``auto`` finds no sandbox the demo still runs, at ``process``, and says so."""
    from autograder.sandbox.isolation import IsolationUnavailable, choose

    if requested != "auto":
        return requested
    try:
        return choose("auto").level
    except IsolationUnavailable as e:
        print(f"warning: {e}\nwarning: the demo grades its own example submissions, so it goes on with "
              "--isolation process; `diffgrade grade` and `diffgrade batch` would refuse", file=stream)
        return "process"


def format_table(rows: list[dict]) -> str:
    """A plain-text table with aligned columns."""
    if not rows:
        return "(no submissions)"
    cols = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    line = "  ".join(c.ljust(widths[c]) for c in cols)
    sep = "  ".join("-" * widths[c] for c in cols)
    body = ["  ".join(str(r[c]).ljust(widths[c]) for c in cols) for r in rows]
    return "\n".join([line, sep, *body])
