"""The one error of the audit: a course that cannot be audited as it is."""


class AuditError(ValueError):
    """The reference fails its own hidden tests, ``audit.toml`` is malformed, or a worker cannot start.

    The message names the file, the entry or the failing tests.
    """
