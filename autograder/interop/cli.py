"""The interop verbs of ``diffgrade``: argument parsing only, each forwarding to a library function.

``register(subparsers)`` adds:

* ``diffgrade gradescope PROJECT [-o ZIP] [--torch-index URL] [--isolation LEVEL]``: the Gradescope
  autograder zip;
* ``diffgrade nbgrader [PROJECT ...] [-o DIR] [--points-per-test N]``: an nbgrader course folder;
* ``diffgrade nbgrader-export GRADEBOOK -o CSV [--assignment NAME] [--duedate WHEN]``: a batch
  gradebook as the CSV ``nbgrader export`` writes;
* ``diffgrade otter PROJECT [-o DIR]``: otter test files and notebooks with ``grader.check`` cells.
"""

from pathlib import Path


def _gradescope(args) -> int:
    from autograder import course
    from autograder.interop.gradescope import build_autograder

    project = course.project_name(args.project)
    output = args.output or Path(f"{project}-autograder.zip")
    path = build_autograder(project=project, output=output, root=course.course_root(),
                            torch_index=args.torch_index or None, isolation=args.isolation)
    print(f"wrote {path}: upload it as the Gradescope autograder of {project}")
    return 0


def _nbgrader(args) -> int:
    from autograder import course
    from autograder.interop.nbgrader import make_nbgrader_course

    projects = [course.project_name(p) for p in args.projects] or None
    out = make_nbgrader_course(root=course.course_root(), out_dir=args.output, projects=projects,
                               points_per_test=args.points_per_test)
    print(f"wrote the nbgrader course {out}; next: cd {out} && nbgrader generate_assignment <project>")
    return 0


def _nbgrader_export(args) -> int:
    from autograder.interop.nbgrader import export_nbgrader_gradebook

    path = export_nbgrader_gradebook(args.gradebook, args.output, assignment=args.assignment, duedate=args.duedate)
    print(f"wrote {path}")
    return 0


def _otter(args) -> int:
    from autograder.interop.otter import make_otter_tests

    made = make_otter_tests(project=args.project, out_dir=args.output)
    print(f"wrote {', '.join(made.questions)} into {made.tests_dir} and {len(made.notebooks)} notebook(s) "
          f"with grader.check cells into {args.output}")
    return 0


def register(subparsers) -> None:
    """Add the interop verbs to ``diffgrade``'s subparsers."""
    from autograder.interop.gradescope import TORCH_CPU_INDEX

    p = subparsers.add_parser("gradescope", help="build the Gradescope autograder zip of a project")
    p.add_argument("project", help="p1 .. p5 or the full name, e.g. p1_forward")
    p.add_argument("-o", "--output", type=Path, default=None,
                   help="zip path or folder (default: <project>-autograder.zip here)")
    p.add_argument("--torch-index", default=TORCH_CPU_INDEX,
                   help=f"extra pip index for torch (default: {TORCH_CPU_INDEX}; '' for PyPI only)")
    p.add_argument("--isolation", default="auto", choices=["auto", "bwrap", "landlock", "process"],
                   help="sandbox of student code on Gradescope (default auto: bwrap, else landlock; the image "
                        "build fails where neither works, unless 'process' is chosen here)")
    p.set_defaults(func=_gradescope)

    p = subparsers.add_parser("nbgrader", help="write an nbgrader course folder (notebooks tagged for nbgrader)")
    p.add_argument("projects", nargs="*", help="projects to export (default: all with a notebook)")
    p.add_argument("-o", "--output", type=Path, default=Path("nbgrader"), help="course folder (default: nbgrader)")
    p.add_argument("--points-per-test", type=float, default=1.0, help="points of each public test cell (default: 1)")
    p.set_defaults(func=_nbgrader)

    p = subparsers.add_parser("nbgrader-export", help="convert a batch gradebook CSV to nbgrader's grades CSV")
    p.add_argument("gradebook", type=Path, help="the gradebook CSV of `diffgrade batch`")
    p.add_argument("-o", "--output", type=Path, required=True, help="the CSV to write")
    p.add_argument("--assignment", default=None, help="assignment name when the gradebook has no project column")
    p.add_argument("--duedate", default="", help="due date to write when the gradebook has none")
    p.set_defaults(func=_nbgrader_export)

    p = subparsers.add_parser("otter", help="write otter-grader checks (grader.check) for a project's notebook")
    p.add_argument("project")
    p.add_argument("-o", "--output", type=Path, required=True, help="folder for tests/ and the notebook(s)")
    p.set_defaults(func=_otter)
