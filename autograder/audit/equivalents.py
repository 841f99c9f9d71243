"""``assignments/<project>/audit.toml``: mutants declared equivalent to the reference.

An equivalent mutant computes the same thing as the reference (or differs only
where the course's contract leaves the behaviour open), so no hidden test can
or should fail on it. Each declaration names the mutant's id and says why::

    [[equivalent]]
    id = "schedules.py:46:12:drop-clamp"
    reason = "clamp only matters at the last cosine step, which ... "

Equivalent mutants that survive are left out of the kill fraction. A declared
mutant that some test kills, or an id that no longer names a mutant (the
reference changed), is reported as a warning.
"""

import tomllib
from pathlib import Path

from autograder.audit.errors import AuditError

FILENAME = "audit.toml"


def load_equivalents(assignment_dir: Path) -> dict[str, str]:
    """``{mutant id: reason}`` from ``assignment_dir/audit.toml`` (empty when there is no such file)."""
    path = Path(assignment_dir) / FILENAME
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise AuditError(f"{path}: {e}") from None
    unknown = set(data) - {"equivalent"}
    if unknown:
        raise AuditError(f"{path}: unknown tables or keys {sorted(unknown)}; expected only [[equivalent]]")
    entries = data.get("equivalent", [])
    if not isinstance(entries, list):
        raise AuditError(f"{path}: 'equivalent' must be an array of tables ([[equivalent]])")
    found: dict[str, str] = {}
    for i, entry in enumerate(entries, start=1):
        where = f"{path}: [[equivalent]] number {i}"
        if not isinstance(entry, dict):
            raise AuditError(f"{where} must be a table with 'id' and 'reason'")
        extra = set(entry) - {"id", "reason"}
        if extra:
            raise AuditError(f"{where}: unknown keys {sorted(extra)}; expected 'id' and 'reason'")
        mutant_id, reason = entry.get("id"), entry.get("reason")
        if not isinstance(mutant_id, str) or not mutant_id.strip():
            raise AuditError(f"{where}: 'id' must be a mutant id such as 'forward.py:28:12:add-to-sub'")
        if not isinstance(reason, str) or not reason.strip():
            raise AuditError(f"{where} ({mutant_id}): 'reason' must say why the mutant is equivalent")
        if mutant_id in found:
            raise AuditError(f"{where}: {mutant_id} is declared twice")
        found[mutant_id] = reason.strip()
    return found
