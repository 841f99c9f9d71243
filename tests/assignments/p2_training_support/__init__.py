"""Support for ``tests/assignments/test_p2_hidden.py``: an independent P2 implementation
(``alt/p2_training``) and mutants of the reference (``mutants.py``)."""
