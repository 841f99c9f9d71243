"""Grading one submission: run hidden tests against the sandboxed student code and score them."""
