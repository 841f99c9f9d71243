"""Working with other grading tools: Gradescope, nbgrader and otter-grader.

* ``gradescope``: ``build_autograder`` writes a project's Gradescope autograder zip;
  ``gradescope_run`` is what its ``run_autograder`` runs in the container.
* ``nbgrader``: ``make_nbgrader_course`` writes an nbgrader course folder whose
  notebooks carry nbgrader's cell metadata; ``export_nbgrader_gradebook`` turns a
  batch gradebook into the CSV of ``nbgrader export``.
* ``otter``: ``make_otter_tests`` writes otter test files (``grader.check("q1")``)
  that run the public tests against a notebook's variables (``otter_runtime``).
* ``cli``: ``register(subparsers)`` adds the matching ``diffgrade`` verbs.
"""
