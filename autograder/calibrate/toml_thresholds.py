"""Write thresholds into the ``[thresholds]`` table of ``assignment.toml``, keeping everything else.

``tomllib`` only reads, and a TOML writer would drop the comments, so the table
is edited as text: an existing ``key = value`` line keeps its key, spacing and
trailing comment and gets the new value; a new key goes after the table's last
key; a missing table is appended at the end of the file. One comment line right
under ``[thresholds]`` (starting ``# calibrated by diffgrade calibrate``) says
when and how; a later calibration replaces it. The result is checked before it
is written: parsed, it must equal the old file with only the thresholds changed.
"""

import json
import re
import tomllib
from pathlib import Path

from autograder import config as config_mod

STAMP = "# calibrated by diffgrade calibrate"

_HEADER = re.compile(r"^[ \t]*\[[ \t]*thresholds[ \t]*\][ \t]*(#.*)?$")
_ANY_HEADER = re.compile(r"^[ \t]*\[")
_OTHER_FORMS = re.compile(r"^[ \t]*(\[\[?[ \t]*thresholds[ \t]*[.\]]|thresholds[ \t]*[.=])")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_KEY_LINE = re.compile(r'^(?P<indent>[ \t]*)(?P<key>[A-Za-z0-9_-]+|"[^"\\]*")(?P<eq>[ \t]*=[ \t]*)'
                       r"(?P<value>[^#\r\n]*?)(?P<rest>[ \t]*(#[^\r\n]*)?)(?P<end>\r?\n?)$")


class ThresholdsError(ValueError):
    """``assignment.toml`` cannot be updated safely (an unusual layout, or a check that failed)."""


def _key_text(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else json.dumps(name)


def _value_text(value: float) -> str:
    return repr(float(value))  # '35.0', '0.0124', '1e-05': all TOML floats


def set_thresholds(text: str, thresholds: dict[str, float], *, stamp: str) -> str:
    """``text`` (an ``assignment.toml``) with ``thresholds`` set and the comment ``stamp`` under the header."""
    if not stamp.startswith(STAMP):
        raise ValueError(f"the stamp must start with {STAMP!r}")
    lines = text.splitlines(keepends=True)
    headers = [i for i, line in enumerate(lines) if _HEADER.match(line)]
    for i, line in enumerate(lines):
        if not _HEADER.match(line) and _OTHER_FORMS.match(line):
            raise ThresholdsError(f"line {i + 1}: thresholds written as {line.strip()!r}; only a plain "
                                  "[thresholds] table of `name = number` lines can be updated, edit it by hand")
    if len(headers) > 1:
        raise ThresholdsError(f"[thresholds] appears {len(headers)} times (lines {[h + 1 for h in headers]})")
    newline = "\r\n" if text.endswith("\r\n") else "\n"
    if not headers:
        block = [f"[thresholds]{newline}", f"{stamp}{newline}"]
        block += [f"{_key_text(k)} = {_value_text(v)}{newline}" for k, v in thresholds.items()]
        prefix = "" if not text or text.endswith("\n") else newline
        return text + prefix + newline + "".join(block)
    head = headers[0]
    end = next((i for i in range(head + 1, len(lines)) if _ANY_HEADER.match(lines[i])), len(lines))
    body = lines[head + 1:end]
    body = [line for line in body if not line.lstrip().startswith(STAMP)]
    remaining = dict(thresholds)
    last_key = -1
    for i, line in enumerate(body):
        m = _KEY_LINE.match(line)
        if not m:
            continue
        last_key = i
        key = json.loads(m["key"]) if m["key"].startswith('"') else m["key"]
        if key in remaining:
            value = _value_text(remaining.pop(key))
            body[i] = f"{m['indent']}{m['key']}{m['eq']}{value}{m['rest']}{m['end'] or newline}"
    added = [f"{_key_text(k)} = {_value_text(v)}{newline}" for k, v in remaining.items()]
    if last_key >= 0 and not body[last_key].endswith("\n"):
        body[last_key] += newline
    body[last_key + 1:last_key + 1] = added
    return "".join([*lines[:head + 1], f"{stamp}{newline}", *body, *lines[end:]])


def _check(old: str, new: str, thresholds: dict[str, float], path: Path) -> None:
    """Parsed, ``new`` must be ``old`` with exactly ``thresholds`` set."""
    try:
        before, after = tomllib.loads(old), tomllib.loads(new)
    except tomllib.TOMLDecodeError as e:
        raise ThresholdsError(f"{path}: the updated file would not parse ({e}); nothing was written") from None
    expected = {**before.get("thresholds", {}), **thresholds}
    got = after.pop("thresholds", {})
    before.pop("thresholds", None)
    if before != after or set(got) != set(expected) or any(float(got[k]) != float(expected[k]) for k in got):
        raise ThresholdsError(f"{path}: updating [thresholds] as text would change something else; "
                              "nothing was written, edit the file by hand")


def write_thresholds(assignment_dir: Path, thresholds: dict[str, float], *, stamp: str) -> Path:
    """Update ``assignment_dir/assignment.toml`` in place and check it with ``autograder.config.load``."""
    path = Path(assignment_dir) / "assignment.toml"
    old = path.read_text()
    new = set_thresholds(old, thresholds, stamp=stamp)
    _check(old, new, thresholds, path)
    path.write_text(new)
    try:
        loaded = config_mod.load(path.parent).thresholds
    except config_mod.ConfigError:
        path.write_text(old)
        raise
    if any(loaded.get(k) != float(v) for k, v in thresholds.items()):
        path.write_text(old)
        raise ThresholdsError(f"{path}: read back, the thresholds differ from those written; the file was restored")
    return path
