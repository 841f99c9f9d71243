"""Support for ``tests/assignments/test_p1_hidden.py``: an independent P1 implementation
(``alt/p1_forward``) and mutants of the reference (``mutants.py``)."""
