"""The one error of the release: a source that cannot be released as it is."""


class ReleaseError(ValueError):
    """A malformed solution marker, a missing handout, a leak, or an unsafe destination.

    The message names the file and, where there is one, the line (for notebooks,
    the cell and the line in the cell). ``leaks`` lists every leak found when the
    release failed its leak check.
    """

    def __init__(self, message: str, *, leaks: list[str] | None = None):
        super().__init__(message)
        self.leaks = list(leaks or [])
