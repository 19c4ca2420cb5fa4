"""Transports against real destinations: a folder, and asyncssh's SFTP server on loopback."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from edi_pipeline.errors import DeliveryError, SettingsError
from edi_pipeline.transports import FolderTransport, Retry, Transport, open_transport, with_retries
from edi_pipeline.transports.base import temp_name
from edi_pipeline.transports.sftp import SftpTarget, SftpTransport

# ------------------------------------------------------------------ folder


def test_folder_put_is_atomic_private_and_never_overwrites(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        transport = FolderTransport(tmp_path / "drop")
        receipt = transport.put("000000001.837", b"ISA*first~")
    finally:
        os.umask(old)
    target = tmp_path / "drop" / "000000001.837"
    assert isinstance(transport, Transport)
    assert receipt.size == 10 and receipt.name == "000000001.837"
    assert target.read_bytes() == b"ISA*first~"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "drop").stat().st_mode) == 0o700
    assert sorted(p.name for p in (tmp_path / "drop").iterdir()) == ["000000001.837"]
    assert transport.exists("000000001.837") == 10
    assert transport.exists("000000002.837") is None
    with pytest.raises(DeliveryError) as info:
        transport.put("000000001.837", b"ISA*second~")
    assert not info.value.retryable and info.value.code == "remote_exists"
    assert "000000001.837" in str(info.value)
    assert target.read_bytes() == b"ISA*first~"


def test_folder_put_replaces_a_leftover_partial_temp_file(tmp_path: Path) -> None:
    (tmp_path / temp_name("a.837")).write_bytes(b"ISA*half")
    FolderTransport(tmp_path).put("a.837", b"ISA*whole~")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.837"]
    assert (tmp_path / "a.837").read_bytes() == b"ISA*whole~"


@pytest.mark.parametrize("name", ["", "../x.837", "a/b.837", ".hidden", "x.837.part"])
def test_remote_names_must_be_plain(tmp_path: Path, name: str) -> None:
    with pytest.raises(SettingsError):
        FolderTransport(tmp_path).put(name, b"x")


def test_open_transport_parses_destinations(tmp_path: Path) -> None:
    assert isinstance(open_transport(f"folder:{tmp_path}"), FolderTransport)
    with pytest.raises(SettingsError, match="unknown destination"):
        open_transport("ftp://user:secret@host/x")
    with pytest.raises(SettingsError) as info:
        open_transport("ftp://user:secret@host/x")
    assert "secret" not in str(info.value)
    with pytest.raises(SettingsError, match="--identity"):
        open_transport("sftp://edi@127.0.0.1:2222/in")


def test_sftp_url_parsing_never_echoes_a_password() -> None:
    target = SftpTarget.parse("sftp://edi@sftp.example.net:2222/in/bound")
    assert (target.user, target.host, target.port, target.path) == (
        "edi",
        "sftp.example.net",
        2222,
        "/in/bound",
    )
    assert target.description == "sftp://sftp.example.net:2222/in/bound"  # no user name
    assert SftpTarget.parse("sftp://edi@h/~/inbox").path == "inbox"
    assert SftpTarget.parse("sftp://edi@h").port == 22
    with pytest.raises(SettingsError) as info:
        SftpTarget.parse("sftp://edi:hunter2@h/in")
    assert "hunter2" not in str(info.value)
    with pytest.raises(SettingsError):
        SftpTarget.parse("sftp://h/in")


def test_retries_back_off_then_give_up_with_the_last_error() -> None:
    waits: list[float] = []
    calls = 0

    def flaky() -> int:
        nonlocal calls
        calls += 1
        raise DeliveryError("sftp://h:22/a.837: cannot connect: refused", retryable=True)

    with pytest.raises(DeliveryError) as info:
        with_retries(
            flaky, Retry(attempts=4, first_delay=0.5, factor=2), what="a", sleep=waits.append
        )
    assert calls == 4 and waits == [0.5, 1.0, 2.0]
    assert "gave up after 4 attempts" in str(info.value) and "a.837" in str(info.value)

    calls = 0

    def fatal() -> int:
        nonlocal calls
        calls += 1
        raise DeliveryError("refused for good", retryable=False)

    with pytest.raises(DeliveryError):
        with_retries(fatal, Retry(attempts=4), what="a", sleep=waits.append)
    assert calls == 1


# ------------------------------------------------------------------ SFTP (real server)


def _transport(server, **kwargs) -> SftpTransport:
    options = {"identity": server.client_key_path, "known_hosts": server.known_hosts, "timeout": 5}
    options.update(kwargs)
    return SftpTransport(server.url("/"), **options)


@pytest.mark.sftp
def test_sftp_upload_verifies_size_and_renames(sftp_server) -> None:
    transport = _transport(sftp_server)
    try:
        assert transport.exists("000000007.837") is None
        with capture_logs() as logs:
            receipt = transport.put("000000007.837", b"ISA*seven~" * 50)
        assert receipt.size == 500
        assert transport.exists("000000007.837") == 500
        files = sftp_server.files()
        assert list(files) == ["000000007.837"]  # the temporary name is gone
        assert files["000000007.837"] == b"ISA*seven~" * 50
        assert stat.S_IMODE((sftp_server.root / "000000007.837").stat().st_mode) == 0o600
        assert [e["event"] for e in logs].count("deliver.file_written") == 1
        assert all(e.get("user") != "edi" for e in logs)
        with pytest.raises(DeliveryError) as info:
            transport.put("000000007.837", b"other")
        assert info.value.code == "remote_exists" and not info.value.retryable
        assert sftp_server.files()["000000007.837"] == b"ISA*seven~" * 50
        # one connection served the whole exchange
        assert sftp_server.connections == 1
    finally:
        transport.close()


@pytest.mark.sftp
def test_sftp_upload_into_a_subfolder(sftp_server) -> None:
    (sftp_server.root / "inbound").mkdir()
    transport = SftpTransport(
        sftp_server.url("/inbound"),
        identity=sftp_server.client_key_path,
        known_hosts=sftp_server.known_hosts,
    )
    try:
        transport.put("a.837", b"ISA~")
    finally:
        transport.close()
    assert sftp_server.files("inbound") == {"a.837": b"ISA~"}
    assert transport.description.endswith("/inbound")


@pytest.mark.sftp
def test_sftp_host_key_mismatch_is_refused(sftp_server, tmp_path: Path) -> None:
    import asyncssh

    impostor = asyncssh.generate_private_key("ssh-ed25519")
    known = tmp_path / "known_hosts_other"
    known.write_text(sftp_server.known_hosts_line(impostor))
    transport = _transport(sftp_server, known_hosts=known)
    with pytest.raises(DeliveryError) as info:
        transport.put("a.837", b"ISA~")
    assert info.value.code == "host_key_refused" and not info.value.retryable
    assert "does not match" in str(info.value) and str(sftp_server.port) in str(info.value)
    assert sftp_server.files() == {}
    # and an explicit trust of new hosts does not override a recorded, different key
    transport = _transport(sftp_server, known_hosts=known, accept_new_host_key=True)
    with pytest.raises(DeliveryError, match="does not match"):
        transport.exists("a.837")
    assert known.read_text() == sftp_server.known_hosts_line(impostor)


@pytest.mark.sftp
def test_sftp_unknown_host_is_refused_unless_trusted(sftp_server, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts_empty"
    empty.write_text("")
    with pytest.raises(DeliveryError) as info:
        _transport(sftp_server, known_hosts=empty).exists("a.837")
    assert info.value.code == "host_key_refused" and "is not in" in str(info.value)

    with pytest.raises(SettingsError, match="does not exist"):
        _transport(sftp_server, known_hosts=tmp_path / "missing")

    trusted = tmp_path / "known_hosts_new"
    transport = _transport(sftp_server, known_hosts=trusted, accept_new_host_key=True)
    try:
        transport.put("a.837", b"ISA~")
    finally:
        transport.close()
    assert sftp_server.files() == {"a.837": b"ISA~"}
    assert trusted.read_text() == sftp_server.known_hosts_line(sftp_server.host_key)
    assert stat.S_IMODE(trusted.stat().st_mode) == 0o600
    # from now on the recorded key is checked like any other
    transport = _transport(sftp_server, known_hosts=trusted)
    try:
        assert transport.exists("a.837") == 4
    finally:
        transport.close()


@pytest.mark.sftp
def test_sftp_wrong_key_is_an_authentication_error(sftp_server, tmp_path: Path) -> None:
    import asyncssh

    stranger = asyncssh.generate_private_key("ssh-ed25519")
    path = tmp_path / "stranger"
    stranger.write_private_key(str(path))
    with pytest.raises(DeliveryError) as info:
        _transport(sftp_server, identity=path).exists("a.837")
    assert info.value.code == "auth_refused" and not info.value.retryable
    assert "BEGIN" not in str(info.value) and "'edi'" in str(info.value)


@pytest.mark.sftp
def test_sftp_server_down_is_a_retryable_error_naming_host(sftp_server) -> None:
    transport = _transport(sftp_server)
    sftp_server.stop()
    with pytest.raises(DeliveryError) as info:
        transport.put("000000001.837", b"ISA~")
    assert info.value.retryable and info.value.code == "unreachable"
    assert f"127.0.0.1:{sftp_server.port}" in str(info.value)
    assert "000000001.837" in str(info.value)
    sftp_server.start()
    try:
        transport.put("000000001.837", b"ISA~")  # reconnects by itself
    finally:
        transport.close()
    assert sftp_server.files() == {"000000001.837": b"ISA~"}


@pytest.mark.sftp
def test_sftp_timeout_on_a_silent_server(sftp_server, tmp_path: Path) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the TCP connection, never speaks SSH
    try:
        port = silent.getsockname()[1]
        known = tmp_path / "kh"
        known.write_text(sftp_server.known_hosts_line(sftp_server.host_key, port=port))
        transport = SftpTransport(
            f"sftp://edi@127.0.0.1:{port}/",
            identity=sftp_server.client_key_path,
            known_hosts=known,
            timeout=0.5,
        )
        with pytest.raises(DeliveryError) as info:
            transport.exists("a.837")
        assert info.value.retryable and info.value.code == "timeout"
        assert f"127.0.0.1:{port}" in str(info.value)
    finally:
        silent.close()
