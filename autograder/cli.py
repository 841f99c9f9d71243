"""``diffgrade``: the command line. Only argument parsing; each verb forwards to a library function."""

import argparse
import sys
from pathlib import Path

from autograder import __version__

ISOLATION_HELP = ("auto (default): the strongest sandbox that works here, bwrap then landlock, and no grading "
                  "without one; process: no sandbox, only when asked for (every report says what it does not protect)")


def _grade(args) -> int:
    from autograder.grading.grade import grade
    from autograder.grading.progress import print_test
    from autograder.grading.report import points

    result = grade(project=args.project, submission=args.submission, out_dir=args.output,
                   device=args.device, isolation=args.isolation, on_test=print_test, quick=args.quick)
    from autograder.grading.scoring import awarded_note

    held = [row for row in result.tests if row.held]
    if held:  # they printed "pass" as they ran: say why they earned nothing
        print()
    for row in held:
        print(f"  held  {row.name}: {awarded_note(row.waiting_for)}")
    print(f"\n{result.title}: {points(result.score)} / {points(result.max_score)}   "
          f"(isolation: {result.isolation}, device: {result.device}, {result.seconds:.1f} s)")
    for note in result.notes:
        print(f"note: {note.splitlines()[0]}")
    print(f"reports: {Path(args.output) / 'results.json'}, {Path(args.output) / 'feedback.md'}")
    return 0


def _release(args) -> int:
    from autograder import course
    from autograder.release.pipeline import release

    root = course.course_root()
    projects = [course.project_name(p) for p in args.projects] or None
    rep = release(root=root, out_dir=args.output, projects=projects,
                  template_dir=args.template or root / "student_template")
    print(f"released {', '.join(rep.projects)} into {args.output}")
    if args.nbgrader:
        from autograder.interop.nbgrader import make_nbgrader_course

        nb = make_nbgrader_course(root=root, out_dir=args.nbgrader, projects=projects)
        print(f"wrote the nbgrader course {nb}; next: cd {nb} && nbgrader generate_assignment <project>")
    return 0


def _check(args) -> int:
    from autograder import course
    from autograder.check import check

    return check(project=course.project_name(args.project), path=args.path)


def _submit(args) -> int:
    from autograder import course
    from autograder.submit import submit

    path = submit(project=course.project_name(args.project), path=args.path, output=args.output)
    print(f"wrote {path}: upload this file")
    return 0


def _demo(args) -> int:
    from autograder.demo import demo

    return demo(out_dir=args.output, isolation=args.isolation)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="diffgrade", description="An autograded course on diffusion models.")
    parser.add_argument("--version", action="version", version=f"diffgrade {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="release the projects and grade the example submissions")
    p.add_argument("-o", "--output", type=Path, default=Path("diffgrade-demo"), help="output folder")
    p.add_argument("--isolation", default="auto", choices=["auto", "bwrap", "landlock", "process"],
                   help=ISOLATION_HELP)
    p.set_defaults(func=_demo)

    p = sub.add_parser("grade", help="grade one submission (a folder or a zip)")
    p.add_argument("project", help="p1 .. p5 or the full name, e.g. p1_forward")
    p.add_argument("submission", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True, help="folder for results.json and feedback.md")
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda[:N]")
    p.add_argument("--isolation", default="auto", choices=["auto", "bwrap", "landlock", "process"],
                   help=ISOLATION_HELP)
    p.add_argument("--quick", action="store_true",
                   help="leave out the slow quality tests (training runs, FID); the report says so")
    p.set_defaults(func=_grade)

    p = sub.add_parser("release", help="generate student_template/ and the student bundles")
    p.add_argument("projects", nargs="*", help="projects to release (default: all)")
    p.add_argument("-o", "--output", type=Path, default=Path("release"), help="folder for the student bundles")
    p.add_argument("--template", type=Path, default=None, help="where to write student_template/")
    p.add_argument("--nbgrader", type=Path, default=None, metavar="DIR",
                   help="also write an nbgrader course folder (source/ notebooks tagged for nbgrader) into DIR")
    p.set_defaults(func=_release)

    p = sub.add_parser("check", help="run the public tests on your own copy")
    p.add_argument("project")
    p.add_argument("--path", type=Path, default=Path("."), help="your project folder (default: here)")
    p.set_defaults(func=_check)

    p = sub.add_parser("submit", help="package your submission as a zip")
    p.add_argument("project")
    p.add_argument("--path", type=Path, default=Path("."), help="your project folder (default: here)")
    p.add_argument("-o", "--output", type=Path, default=None, help="zip path (default: in --path)")
    p.set_defaults(func=_submit)

    from autograder.batch.cli import register as register_batch
    from autograder.instructor_cli import register as register_instructor
    from autograder.interop.cli import register as register_interop

    register_batch(sub)
    register_interop(sub)
    register_instructor(sub)
    return parser


def _known_errors() -> tuple[type[BaseException], ...]:
    from autograder.config import ConfigError
    from autograder.course import CourseError
    from autograder.submission import SubmissionError

    from autograder.sandbox.errors import SandboxEnvironmentError

    errors: list[type[BaseException]] = [ConfigError, CourseError, SubmissionError, FileNotFoundError,
                                         SandboxEnvironmentError]
    try:
        from autograder.release.errors import ReleaseError
        from autograder.submit import SubmitError
        errors += [ReleaseError, SubmitError]
    except ImportError:
        pass
    return tuple(errors)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except _known_errors() as e:
        print(f"diffgrade: error: {e}", file=sys.stderr)
        return 2
    except ValueError as e:  # bad option values (device, isolation, project names)
        print(f"diffgrade: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("diffgrade: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
