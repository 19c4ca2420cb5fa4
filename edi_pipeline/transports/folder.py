"""``folder:DIR``: deliver into a local or mounted directory, atomically, never overwriting.

A clearinghouse agent or a scheduler usually picks files up from such a folder, so a reader
must never see a half-written file under its final name: the bytes go to a temporary name in
the same directory (same filesystem, so the rename is atomic), are fsynced, and are then
linked to the final name. ``link`` fails when the name exists, which gives "never overwrite"
without a check-then-act race; the directory is fsynced so the new name survives a power cut.
Files are 0600 and a directory we create is 0700 whatever the umask: interchanges hold PHI.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import structlog

from edi_pipeline.errors import DeliveryError, SettingsError
from edi_pipeline.transports.base import Receipt, check_name, fault, temp_name

log = structlog.get_logger()

FILE_MODE = 0o600
DIR_MODE = 0o700


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        view = view[os.write(fd, view) :]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FolderTransport:
    """Writes each file to ``DIR/.NAME.part``, fsyncs, links it to ``DIR/NAME``, drops the temp."""

    def __init__(self, directory: Path | str, *, create: bool = True):
        self.directory = Path(directory)
        self.description = f"folder:{self.directory}"
        if not self.directory.is_dir():
            if not create:
                raise SettingsError(f"delivery folder {self.directory} does not exist")
            self.directory.mkdir(parents=True, mode=DIR_MODE, exist_ok=True)
            os.chmod(self.directory, DIR_MODE)

    def _error(
        self, name: str, message: str, *, retryable: bool, code: str | None = None
    ) -> DeliveryError:
        exc = DeliveryError(f"{self.directory / name}: {message}", retryable=retryable)
        if code:
            exc.code = code
        return exc

    def exists(self, name: str) -> int | None:
        try:
            return (self.directory / check_name(name)).stat().st_size
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._error(name, f"cannot look: {exc.strerror}", retryable=True) from exc

    def put(self, name: str, data: bytes) -> Receipt:
        final = self.directory / check_name(name)
        temp = self.directory / temp_name(name)
        if final.exists():
            raise self._error(
                name, "already exists; not overwritten", retryable=False, code="remote_exists"
            )
        try:
            temp.unlink(missing_ok=True)  # a partial left by a crashed attempt
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            try:
                os.fchmod(fd, FILE_MODE)  # the umask may have removed nothing, or more
                half = len(data) // 2
                _write_all(fd, memoryview(data)[:half])
                fault("deliver.mid_upload")
                _write_all(fd, memoryview(data)[half:])
                os.fsync(fd)
            finally:
                os.close(fd)
            size = temp.stat().st_size
            if size != len(data):
                raise self._error(name, f"wrote {size} of {len(data)} bytes", retryable=True)
            fault("deliver.after_upload")
            try:
                os.link(temp, final)
            except FileExistsError as exc:
                raise self._error(
                    name, "already exists; not overwritten", retryable=False, code="remote_exists"
                ) from exc
            temp.unlink()
            _fsync_dir(self.directory)
        except DeliveryError:
            raise
        except OSError as exc:
            retryable = exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS)
            raise self._error(name, f"cannot write: {exc.strerror}", retryable=retryable) from exc
        fault("deliver.after_rename")
        log.info("deliver.file_written", destination=self.description, file=name, size=len(data))
        return Receipt(name=name, size=len(data), destination=self.description)

    def close(self) -> None:
        """Nothing to release: every put opens and closes its own file."""
