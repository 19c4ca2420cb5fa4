"""Delivery transports: ``folder:DIR`` and ``sftp://user@host:port/path`` behind one interface.

``open_transport(spec, …)`` turns the user's ``--to`` value into a transport; see ``base.py``
for the interface and the shared retry and fault-injection helpers.
"""

from __future__ import annotations

from pathlib import Path

from edi_pipeline.errors import SettingsError
from edi_pipeline.transports.base import Receipt, Retry, Transport, with_retries
from edi_pipeline.transports.folder import FolderTransport

__all__ = [
    "FolderTransport",
    "Receipt",
    "Retry",
    "Transport",
    "open_transport",
    "with_retries",
]


def open_transport(
    spec: str,
    *,
    identity: Path | str | None = None,
    known_hosts: Path | str | None = None,
    accept_new_host_key: bool = False,
    timeout: float = 30.0,
) -> Transport:
    """``folder:DIR`` or ``sftp://user@host:port/path`` → a transport (``SettingsError`` if bad)."""
    if spec.startswith("folder:"):
        directory = spec.removeprefix("folder:")
        if not directory:
            raise SettingsError("folder: destination needs a directory: folder:DIR")
        return FolderTransport(Path(directory).expanduser())
    if spec.startswith("sftp://"):
        from edi_pipeline.transports.sftp import SftpTransport  # asyncssh only when needed

        if identity is None:
            raise SettingsError("sftp:// delivery needs --identity KEYFILE (key authentication)")
        if known_hosts is None:
            known_hosts = Path("~/.ssh/known_hosts").expanduser()
        return SftpTransport(
            spec,
            identity=identity,
            known_hosts=known_hosts,
            accept_new_host_key=accept_new_host_key,
            timeout=timeout,
        )
    shown = spec.split("://", 1)[0] + "://…" if ("://" in spec or "@" in spec) else spec
    raise SettingsError(
        f"unknown destination {shown!r}: use folder:DIR or sftp://user@host:port/path"
    )
