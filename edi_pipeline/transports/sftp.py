"""``sftp://user@host:port/path``: deliver to a clearinghouse's SFTP server (asyncssh).

Security is not optional here. Authentication is by key only (``--identity KEYFILE``; no
passwords, no agent, no ``~/.ssh/config``), and the server's host key must match an entry in
``--known-hosts FILE``. A host with no entry is refused unless the caller explicitly trusts new
hosts (``accept_new_host_key``, OpenSSH's ``accept-new``), which records its key in that file;
a host whose key differs from the recorded one is always refused.

Each file is written under a temporary name (``.NAME.part``) in the remote folder, its size is
read back and compared, and only then is it renamed to ``NAME`` with the standard SFTP rename,
which does not replace an existing file. A file therefore appears under its final name whole
or not at all. One connection is kept open and reused for a batch; after a retryable failure it
is dropped and the next attempt reconnects.

asyncssh is asynchronous; this transport is not. It runs its own private event loop, so
callers (delivery, the benchmark) stay plain synchronous code. Use one instance per thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import posixpath
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import asyncssh
import structlog

from edi_pipeline.errors import DeliveryError, SettingsError
from edi_pipeline.transports.base import Receipt, check_name, fault, temp_name

log = structlog.get_logger()

PASSPHRASE_ENV = "EDI_PIPELINE_SFTP_PASSPHRASE"  # for an encrypted identity key; never logged
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SftpTarget:
    """A parsed ``sftp://user@host:port/path``. ``path`` is absolute unless it began ``/~/``."""

    user: str
    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, url: str) -> SftpTarget:
        parts = urlsplit(url)
        if parts.scheme != "sftp":
            raise SettingsError(f"not an sftp:// destination: {parts.scheme}://…")
        if parts.password is not None:
            # The password itself is never echoed back, not even in this message.
            raise SettingsError("passwords in the sftp:// URL are not accepted; use --identity")
        if not parts.username:
            raise SettingsError("the sftp:// destination needs a user: sftp://user@host:port/path")
        if not parts.hostname:
            raise SettingsError("the sftp:// destination needs a host: sftp://user@host:port/path")
        try:
            port = parts.port or 22
        except ValueError as exc:
            raise SettingsError("the sftp:// destination has an invalid port") from exc
        path = unquote(parts.path) or "/"
        if path == "/~" or path.startswith("/~/"):
            path = path[3:] or "."  # relative to the login folder
        return cls(user=unquote(parts.username), host=parts.hostname, port=port, path=path)

    @property
    def description(self) -> str:
        """Where files go, without the user name: safe for logs and the ledger."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        shown = self.path if self.path.startswith("/") else f"/~/{self.path}"
        return f"sftp://{host}:{self.port}{shown}"


def _known_hosts_pattern(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


class _HostKeyCheck(asyncssh.SSHClient):
    """Decides on a host key that is not in the known-hosts file, and remembers why.

    asyncssh calls ``validate_host_public_key`` only for a key that matched no trusted entry;
    here we tell "the file has other keys for this host" (a mismatch: always refused) from
    "the file knows nothing of this host" (refused unless new hosts are explicitly trusted).
    """

    def __init__(self, known_hosts: Path, accept_new: bool):
        self.known_hosts = known_hosts
        self.accept_new = accept_new
        self.outcome: str | None = None  # "mismatch" | "unknown" | "added"

    def validate_host_public_key(self, host: str, addr: str, port: int, key: Any) -> bool:
        recorded: list[Any] = []
        if self.known_hosts.is_file():
            known = asyncssh.read_known_hosts(str(self.known_hosts))
            recorded = list(known.match(host, addr, port)[0])
        if recorded:
            self.outcome = "mismatch"
            return False
        if not self.accept_new:
            self.outcome = "unknown"
            return False
        line = f"{_known_hosts_pattern(host, port)} {key.export_public_key('openssh').decode()}"
        fd = os.open(self.known_hosts, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.rstrip("\n").encode() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        self.outcome = "added"
        log.warning(
            "deliver.host_key_added",
            host=host,
            port=port,
            fingerprint=key.get_fingerprint(),
            known_hosts=str(self.known_hosts),
        )
        return True


class SftpTransport:
    """Puts files on an SFTP server: temporary name, size check, non-replacing rename."""

    def __init__(
        self,
        target: SftpTarget | str,
        *,
        identity: Path | str,
        known_hosts: Path | str,
        accept_new_host_key: bool = False,
        timeout: float = 30.0,
    ):
        self.target = SftpTarget.parse(target) if isinstance(target, str) else target
        self.description = self.target.description
        self.identity = Path(identity)
        self.known_hosts = Path(known_hosts)
        self.accept_new_host_key = accept_new_host_key
        self.timeout = timeout
        if not self.identity.is_file():
            raise SettingsError(f"identity key file {self.identity} does not exist")
        if not self.known_hosts.is_file() and not accept_new_host_key:
            raise SettingsError(
                f"known-hosts file {self.known_hosts} does not exist; create it with the "
                "server's key (ssh-keyscan) or explicitly trust new hosts"
            )
        try:
            self._key = asyncssh.read_private_key(
                str(self.identity), os.environ.get(PASSPHRASE_ENV) or None
            )
        except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError, OSError) as exc:
            # The library's message names the problem (format, passphrase), not the key itself.
            raise SettingsError(f"identity key file {self.identity} cannot be used: {exc}") from exc
        self._loop = asyncio.new_event_loop()
        self._conn: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None

    # ------------------------------------------------------------------ plumbing

    def _where(self, name: str | None) -> str:
        if not name:
            return self.description
        return f"{self.description.rstrip('/')}/{name}"

    def _error(
        self, name: str | None, message: str, *, retryable: bool, code: str | None = None
    ) -> DeliveryError:
        exc = DeliveryError(f"{self._where(name)}: {message}", retryable=retryable)
        if code:
            exc.code = code
        return exc

    def _run(self, coro: Awaitable[T], name: str | None) -> T:
        """Run one step on the private loop with the timeout, turning failures into our errors."""
        try:
            return self._loop.run_until_complete(asyncio.wait_for(coro, self.timeout))
        except DeliveryError as exc:
            if exc.retryable:
                self._drop()
            raise
        except TimeoutError as exc:
            self._drop()
            raise self._error(
                name, f"timed out after {self.timeout:g} s", retryable=True, code="timeout"
            ) from exc
        except asyncssh.PermissionDenied as exc:
            self._drop()
            raise self._error(
                name,
                f"authentication refused for user {self.target.user!r} with key {self.identity}",
                retryable=False,
                code="auth_refused",
            ) from exc
        except asyncssh.SFTPNoSuchFile as exc:
            raise self._error(
                name, f"no such remote file or folder ({exc.reason})", retryable=False
            ) from exc
        except asyncssh.SFTPPermissionDenied as exc:
            raise self._error(name, f"permission denied ({exc.reason})", retryable=False) from exc
        except asyncssh.SFTPError as exc:
            self._drop()
            raise self._error(name, f"SFTP error: {exc.reason}", retryable=True) from exc
        except (asyncssh.DisconnectError, asyncssh.ConnectionLost) as exc:
            self._drop()
            raise self._error(name, f"connection lost: {exc.reason}", retryable=True) from exc
        except OSError as exc:
            self._drop()
            reason = exc.strerror or type(exc).__name__
            raise self._error(
                name, f"cannot connect: {reason}", retryable=True, code="unreachable"
            ) from exc

    def _drop(self) -> None:
        conn, self._conn, self._sftp = self._conn, None, None
        if conn is not None:
            conn.abort()
            with contextlib.suppress(Exception):  # best effort on a dead link
                self._loop.run_until_complete(asyncio.wait_for(conn.wait_closed(), 2))

    async def _session(self) -> asyncssh.SFTPClient:
        if self._sftp is not None:
            return self._sftp
        checker = _HostKeyCheck(self.known_hosts, self.accept_new_host_key)
        try:
            conn = await asyncssh.connect(
                self.target.host,
                self.target.port,
                username=self.target.user,
                client_keys=[self._key],
                known_hosts=str(self.known_hosts) if self.known_hosts.is_file() else b"",
                client_factory=lambda: checker,
                agent_path=None,
                password=None,
                kbdint_auth=False,
                gss_auth=False,
                host_based_auth=False,
                preferred_auth="publickey",
                config=None,
                connect_timeout=self.timeout,
                login_timeout=self.timeout,
            )
        except asyncssh.HostKeyNotVerifiable as exc:
            where = f"{self.target.host}:{self.target.port}"
            if checker.outcome == "mismatch":
                message = (
                    f"host key of {where} does not match the one recorded in {self.known_hosts}; "
                    "refused (the server was replaced, or someone is in the middle)"
                )
            else:
                message = (
                    f"host key of {where} is not in {self.known_hosts}; refused (add it, "
                    "or explicitly trust new hosts)"
                )
            raise self._error(None, message, retryable=False, code="host_key_refused") from exc
        self._conn = conn
        self._sftp = await conn.start_sftp_client()
        log.info("deliver.connected", destination=self.description)
        return self._sftp

    def _path(self, name: str) -> str:
        return posixpath.join(self.target.path, name)

    # ------------------------------------------------------------------ the interface

    def exists(self, name: str) -> int | None:
        check_name(name)

        async def look() -> int | None:
            sftp = await self._session()
            try:
                attrs = await sftp.stat(self._path(name))
            except asyncssh.SFTPNoSuchFile:
                return None
            return attrs.size

        return self._run(look(), name)

    def put(self, name: str, data: bytes) -> Receipt:
        check_name(name)
        final, temp = self._path(name), self._path(temp_name(name))

        async def upload() -> None:
            sftp = await self._session()
            if await sftp.exists(final):
                raise self._error(
                    name, "already exists; not overwritten", retryable=False, code="remote_exists"
                )
            attrs = asyncssh.SFTPAttrs(permissions=0o600)
            half = len(data) // 2
            async with sftp.open(temp, "wb", attrs) as remote:
                await remote.write(data[:half], 0)
                fault("deliver.mid_upload")
                await remote.write(data[half:], half)
            size = (await sftp.stat(temp)).size
            if size != len(data):
                raise self._error(
                    name, f"remote size {size} after upload, expected {len(data)}", retryable=True
                )
            fault("deliver.after_upload")
            try:
                await sftp.rename(temp, final)
            except asyncssh.SFTPError as exc:
                if await sftp.exists(final):
                    raise self._error(
                        name,
                        "already exists; not overwritten",
                        retryable=False,
                        code="remote_exists",
                    ) from exc
                raise

        self._run(upload(), name)
        fault("deliver.after_rename")
        log.info("deliver.file_written", destination=self.description, file=name, size=len(data))
        return Receipt(name=name, size=len(data), destination=self.description)

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn, self._sftp = self._conn, None, None
            conn.close()
            with contextlib.suppress(Exception):  # closing is best effort
                self._loop.run_until_complete(asyncio.wait_for(conn.wait_closed(), 5))

    def __del__(self) -> None:
        loop = getattr(self, "_loop", None)
        if loop is not None and not loop.is_closed() and not loop.is_running():
            self.close()
            loop.close()
