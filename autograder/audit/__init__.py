"""Mutation audit of a project's hidden tests (``diffgrade audit``).

``mutants`` makes small, plausible mistakes in the solution regions of the
reference (``operators`` lists them); ``run`` grades each mutant with the hidden
tests in a pool of worker processes (``pool``, ``worker``, ``loader``);
``report`` says how many the tests catch, which survive, and which test catches
what; ``equivalents`` reads the mutants declared equivalent in ``audit.toml``.
"""

from autograder.audit.errors import AuditError
from autograder.audit.mutants import Mutant, mutants_of_source, project_mutants
from autograder.audit.report import AuditReport, MutantResult, to_markdown
from autograder.audit.run import audit

__all__ = ["AuditError", "AuditReport", "Mutant", "MutantResult", "audit", "mutants_of_source",
           "project_mutants", "to_markdown"]
