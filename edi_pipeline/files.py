"""Files that may hold PHI: owner-only (0600 in 0700 folders) whatever the umask, written
atomically (a temporary name in the same folder, fsync, rename, fsync of the folder).

Writing is split in two (``stage`` then ``publish``) for the build stage, which records the
interchange in the ledger between the two: the staged bytes are durable before the ledger
commits, so a crash after the commit leaves a complete temporary file that the next run renames
into place (``staged_name`` is deterministic for that reason).
"""

from __future__ import annotations

import os
from pathlib import Path


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) 0700; tighten an existing one we own."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    st = path.stat()
    if st.st_uid == os.getuid() and (st.st_mode & 0o777) != 0o700:
        path.chmod(0o700)
    return path


def staged_name(path: Path) -> Path:
    """The temporary name ``path`` is written under before it is published."""
    return path.with_name(f".{path.name}.tmp")


def stage(path: Path, data: bytes, tmp: Path | None = None) -> Path:
    """Write ``data`` durably under the temporary name of ``path`` (or ``tmp``); return it."""
    private_dir(path.parent)
    tmp = tmp or staged_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)
    return tmp


def publish(tmp: Path, path: Path) -> None:
    """Rename the staged file into place and make the rename durable."""
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write a private file atomically: readers see the old content or the new, never half.

    The temporary name carries the process id: workers sharing a folder (``workers N``) may
    write the same file (``report.json``) at once, and each must rename its own copy."""
    publish(stage(path, data, tmp=path.with_name(f".{path.name}.{os.getpid()}.tmp")), path)
