"""Support for ``tests/assignments/test_p3_hidden.py``: an independent P3 implementation
(``alt/p3_sampling``) and mutants of the reference (``mutants.py``)."""
