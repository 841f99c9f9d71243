"""The child process of an audit: runs a project's hidden tests on one mutant after another.

Started by ``autograder.audit.pool`` as ``python -m autograder.audit.worker``. It
imports torch and the hidden tests once, then reads requests from stdin and
answers on its original stdout, one JSON object per line:

* first it sends ``{"ready": true, "tests": [[name, function], ...]}``;
* a request ``{"id": ..., "file": "forward.py", "source": "...", "seed": 0,
  "budget": null, "messages": false}`` (``file`` null: the unmodified
  reference; ``seed``, ``budget``: the values of those fixtures, ``budget``
  null: the device's kind) is answered by ``{"id": ..., "failed": [test names],
  "metrics": {name: value}, "messages": {test name: failure message},
  "seconds": ...}`` (messages only when asked for), or ``{"id": ...,
  "import_error": "..."}`` when the mutated package does not import.

Anything the tests or the mutants print goes to stderr, so it cannot corrupt the
replies. Each mutant is imported under a fresh private name (``loader``), so
mutants never see each other; the parent kills the worker when one runs too long.
"""

import argparse
import contextlib
import json
import os
import random
import sys
import time
import traceback
from pathlib import Path


def _replies_channel():
    """A private copy of stdout for replies; fd 1 (and ``sys.stdout``) then point at stderr."""
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


def serve(*, project: str, root: Path, select: str, device: str, requests, replies) -> None:
    """Answer ``requests`` (lines of JSON) on ``replies`` until stdin closes."""
    import torch

    from autograder import course
    from autograder.audit.loader import imported_package
    from autograder.grading import runner
    from autograder.grading.grade import load_reference
    from autograder.grading.inprocess import run_in_process
    from autograder.testing import Metrics

    tests = runner.collect(course.assignment_dir(project, root) / "tests" / "hidden")
    if select == "no-quality":
        tests = runner.without_tags(tests, {"quality"})
    elif select == "quality":
        tests = [t for t in tests if "quality" in t.tags]
    package_dir = course.solution_dir(project, root)
    # The reference under its plain name, which also makes the earlier projects it imports
    # (``from p1_forward import ...``) importable for the copies.
    load_reference(course.project_name(project), root)
    replies.write(json.dumps({"ready": True, "tests": [[t.name, t.function] for t in tests]}) + "\n")
    for n, line in enumerate(requests):
        request = json.loads(line)
        overrides = {request["file"]: request["source"]} if request.get("file") else {}
        name = f"diffgrade_mutant_{os.getpid()}_{n}"
        torch.manual_seed(0)
        random.seed(0)
        start = time.perf_counter()
        reply = {"id": request["id"]}
        with contextlib.ExitStack() as stack:
            try:
                module = stack.enter_context(imported_package(package_dir, name, overrides))
            except Exception as e:  # noqa: BLE001 - a mutant that does not import is caught by every test
                reply["import_error"] = f"{type(e).__name__}: {e}"
            else:
                metrics = Metrics()
                outcomes = run_in_process(project=project, module=module, root=root, device=device, tests=tests,
                                          seed=request.get("seed", 0), metrics=metrics,
                                          budget=request.get("budget"))
                failed = [o for o in outcomes if not o.passed]
                reply["failed"] = [o.name for o in failed]
                reply["metrics"] = metrics.values
                if request.get("messages"):
                    reply["messages"] = {o.name: o.message[:2000] for o in failed}
        reply["seconds"] = time.perf_counter() - start
        replies.write(json.dumps(reply) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.audit.worker")
    parser.add_argument("--project", required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--select", default="no-quality", choices=["all", "no-quality", "quality"],
                        help="which hidden tests: all, all but the quality-tagged ones, or only those")
    args = parser.parse_args(argv)
    replies = _replies_channel()
    import torch

    torch.set_num_threads(args.threads)
    serve(project=args.project, root=args.root, select=args.select, device=args.device,
          requests=sys.stdin, replies=replies)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # noqa: BLE001 - the parent reads the traceback from stderr
        traceback.print_exc()
        sys.exit(3)
