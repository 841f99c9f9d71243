"""The error of the interop tools."""


class InteropError(ValueError):
    """A course cannot be exported to another tool: no notebook, no public tests, a bad gradebook."""
