"""Reference solutions: one subpackage per project, the single source of truth.

Solution regions are marked ``# BEGIN SOLUTION`` / ``# END SOLUTION``;
``diffgrade release`` turns this tree into ``student_template/``.
"""
