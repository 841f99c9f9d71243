"""Loading a submission, a folder or a zip, into a clean staging folder.

Only the Python files of the student's package are staged, copied as bytes:
no symlink is followed, no path may leave the staging folder, and sizes are
capped, so a hostile archive cannot write outside it or fill the disk.
"""

import os
import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_FILES = 500
MAX_FILE_BYTES = 5 << 20      # one source file
MAX_TOTAL_BYTES = 50 << 20    # everything staged
MAX_RATIO = 200               # uncompressed / compressed, per zip member


class SubmissionError(ValueError):
    """The submission cannot be graded at all (not found, unsafe, package missing)."""


@dataclass
class Staged:
    """A submission copied into ``root``: the package lives at ``root / package``."""

    root: Path
    package: str
    files: list[str]
    missing: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # entries refused, with the reason


def _shown(name: str) -> str:
    """A member name fit for the report: control characters escaped, length capped.

    The name comes from the student; unescaped, a newline in it would write lines of
    its own into the feedback.
    """
    text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in name)
    return text if len(text) <= 200 else text[:200] + "..."


def _safe_parts(name: str) -> tuple[str, ...] | None:
    """The path parts of an archive member, or None when it could escape."""
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or any(part in ("..", "") for part in p.parts) or ":" in p.parts[0]:
        return None
    return p.parts


def _package_prefix(names: list[tuple[str, ...]], package: str) -> tuple[str, ...]:
    """The folder that holds ``package/__init__.py``, shallowest first (zips often add a top folder)."""
    candidates = [parts[:-2] for parts in names
                  if len(parts) >= 2 and parts[-2:] == (package, "__init__.py")]
    if not candidates:
        raise SubmissionError(f"no {package}/__init__.py found in the submission; "
                              f"the zip or folder must contain the {package}/ package folder")
    return min(candidates, key=len)


def _from_zip(path: Path) -> dict[tuple[str, ...], bytes]:
    out, skipped = {}, []
    total = 0
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise SubmissionError(f"{path}: not a readable zip file ({e})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_FILES * 4:
            raise SubmissionError(f"{path}: {len(infos)} entries; at most {MAX_FILES * 4} are accepted")
        for info in infos:
            if info.is_dir():
                continue
            mode = info.external_attr >> 16
            parts = _safe_parts(info.filename)
            if parts is None:
                skipped.append(f"{_shown(info.filename)} (path leaves the submission)")
                continue
            if stat.S_ISLNK(mode):
                skipped.append(f"{_shown(info.filename)} (symbolic link)")
                continue
            if not parts[-1].endswith(".py"):
                continue
            if info.file_size > MAX_FILE_BYTES or info.file_size > MAX_RATIO * max(info.compress_size, 1) + 4096:
                skipped.append(f"{_shown(info.filename)} (too large: {info.file_size} bytes)")
                continue
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise SubmissionError(f"{path}: more than {MAX_TOTAL_BYTES >> 20} MiB of source files")
            try:
                with zf.open(info) as f:
                    data = f.read(MAX_FILE_BYTES + 1)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError,
                    ValueError) as e:
                # A corrupt member (bad CRC, sizes that lie, an unknown compression, a
                # password) costs that file, never the grading: zipfile raises all of these.
                skipped.append(f"{_shown(info.filename)} (unreadable: {type(e).__name__})")
                continue
            if len(data) > MAX_FILE_BYTES:
                skipped.append(f"{_shown(info.filename)} (too large)")
                continue
            out[parts] = data
    return out, skipped


def _from_folder(path: Path) -> dict[tuple[str, ...], bytes]:
    out, skipped = {}, []
    total = 0
    for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
        dirnames[:] = [d for d in dirnames if d != "__pycache__" and not d.startswith(".")]
        for fname in filenames:
            full = Path(dirpath) / fname
            rel = full.relative_to(path).parts
            if not fname.endswith(".py"):
                continue
            st = full.lstat()
            if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
                skipped.append(f"{_shown('/'.join(rel))} (not a regular file)")
                continue
            if st.st_size > MAX_FILE_BYTES:
                skipped.append(f"{_shown('/'.join(rel))} (too large: {st.st_size} bytes)")
                continue
            total += st.st_size
            if total > MAX_TOTAL_BYTES or len(out) >= MAX_FILES:
                raise SubmissionError(f"{path}: too many or too large source files")
            out[rel] = full.read_bytes()
    return out, skipped


def stage(submission: Path, dest: Path, *, package: str, required: tuple[str, ...]) -> Staged:
    """Copy the package ``package`` of ``submission`` (folder or .zip) into ``dest``.

    ``required`` lists files (e.g. ``p1_forward/forward.py``) the project expects;
    the missing ones are reported, not fatal, so the rest can still be graded.
    """
    submission = Path(submission)
    if not submission.exists():
        raise SubmissionError(f"{submission}: no such file or folder")
    if submission.is_dir():
        files, skipped = _from_folder(submission)
    elif zipfile.is_zipfile(submission):
        files, skipped = _from_zip(submission)
    else:
        raise SubmissionError(f"{submission}: expected a folder or a .zip file")
    prefix = _package_prefix(list(files), package)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    staged = []
    for parts, data in sorted(files.items()):
        if parts[:len(prefix)] != prefix or len(parts) <= len(prefix) or parts[len(prefix)] != package:
            continue
        rel = parts[len(prefix):]
        target = dest.joinpath(*rel)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        except OSError as e:
            # A name too long for the file system, or a file where a folder of the same
            # name is needed (``a.py`` and ``a.py/b.py``): skip it, grade the rest.
            skipped.append(f"{_shown('/'.join(rel))} (cannot be written: {e.strerror or type(e).__name__})")
            continue
        staged.append("/".join(rel))
    # The worker runs as another user inside the sandbox: it must be able to read.
    for dirpath, _, filenames in os.walk(dest):
        os.chmod(dirpath, 0o755)
        for f in filenames:
            os.chmod(Path(dirpath) / f, 0o644)
    missing = [f for f in required if f not in staged]
    return Staged(dest, package, staged, missing, skipped)
