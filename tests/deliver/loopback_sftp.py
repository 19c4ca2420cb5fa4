"""A real SFTP server on 127.0.0.1 for tests and the delivery benchmark (asyncssh's server).

It runs in a background thread with its own event loop, serves one user with one authorized
ed25519 key, presents a generated ed25519 host key, and chroots the SFTP subsystem to ``root``.
``stop()`` closes the listener and every open connection (a server that went down); ``start()``
listens again on the same port.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

USER = "edi"


def write_key_pair(directory: Path, name: str) -> tuple[Path, Any]:
    """Generate an ed25519 key; write the private key (0600) and ``.pub``; return (path, key)."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    path = directory / name
    key.write_private_key(str(path))
    path.chmod(0o600)
    key.write_public_key(str(path) + ".pub")
    return path, key


@dataclass
class LoopbackSftp:
    root: Path
    keys: Path
    host: str = "127.0.0.1"
    port: int = 0
    connections: int = 0
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    _server: Any = None
    _open: set[Any] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.keys.mkdir(parents=True, exist_ok=True)
        self.client_key_path, self.client_key = write_key_pair(self.keys, "client_ed25519")
        self.host_key_path, self.host_key = write_key_pair(self.keys, "host_ed25519")
        self.known_hosts = self.keys / "known_hosts"
        self.known_hosts.write_text(self.known_hosts_line(self.host_key))
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def known_hosts_line(self, key: Any, port: int | None = None) -> str:
        port = self.port if port is None else port
        public = key.export_public_key("openssh").decode().strip()
        return f"[{self.host}]:{port} {public}\n"

    def url(self, path: str = "/") -> str:
        return f"sftp://{USER}@{self.host}:{self.port}{path}"

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def start(self) -> LoopbackSftp:
        server_self = self
        root = str(self.root).encode()

        class Server(asyncssh.SSHServer):
            def connection_made(self, conn: Any) -> None:
                self._conn = conn
                server_self.connections += 1
                server_self._open.add(conn)

            def connection_lost(self, exc: Exception | None) -> None:
                server_self._open.discard(getattr(self, "_conn", None))

        async def listen() -> Any:
            authorized = asyncssh.import_authorized_keys(
                self.client_key.export_public_key("openssh").decode()
            )
            return await asyncssh.listen(
                self.host,
                self.port,
                server_host_keys=[self.host_key],
                authorized_client_keys=authorized,
                server_factory=Server,
                sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=root),
                allow_scp=False,
                password_auth=False,
                kbdint_auth=False,
            )

        self._server = self._call(listen())
        if not self.port:
            self.port = self._server.sockets[0].getsockname()[1]
            self.known_hosts.write_text(self.known_hosts_line(self.host_key))
        return self

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()
                self._server = None
            for conn in list(self._open):
                conn.abort()
            self._open.clear()

        self._call(close())

    def shutdown(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def files(self, subdir: str = "") -> dict[str, bytes]:
        """Every file now in the served folder (temporary ``.part`` files included)."""
        folder = self.root / subdir
        return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
