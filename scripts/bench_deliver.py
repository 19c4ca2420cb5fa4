"""Benchmark delivery and the drop-folder watcher.

1. Interchanges delivered per second, exactly once through the ledger, for N small interchanges
   to a real SFTP server on loopback (asyncssh's, as in the tests) and to a folder.
2. Watcher latency from drop to processed (the file archived and the ledger saying "done"), with
   filesystem events and with polling, for files marked complete by a ``.done`` marker and for
   files taken when their size has settled; the real remit stage processes each 835.

Usage: python scripts/bench_deliver.py [--count 1000] [--drops 20]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import logging
import statistics
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

import structlog

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edi_pipeline.app.watch import HANDLERS  # noqa: E402
from edi_pipeline.deliver import deliver  # noqa: E402
from edi_pipeline.ledger import claims, interchanges  # noqa: E402
from edi_pipeline.ledger import delivery as q  # noqa: E402
from edi_pipeline.ledger.sqlite import SqliteLedger  # noqa: E402
from edi_pipeline.maps import load_maps  # noqa: E402
from edi_pipeline.transports import FolderTransport  # noqa: E402
from edi_pipeline.transports.sftp import SftpTransport  # noqa: E402
from edi_pipeline.watch import DropFolder, Watcher, WatchSettings  # noqa: E402

NOW = "2026-11-23T10:00:00Z"
REMIT = ROOT / "fixtures" / "835" / "roundtrip.835"


def _loopback_server():
    path = ROOT / "tests" / "deliver" / "loopback_sftp.py"
    spec = importlib.util.spec_from_file_location("loopback_sftp", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["loopback_sftp"] = module
    spec.loader.exec_module(module)
    return module.LoopbackSftp


def built_ledger(work: Path, count: int) -> SqliteLedger:
    ledger = SqliteLedger.open(work / "ledger.sqlite")
    out = work / "out"
    out.mkdir()
    with ledger.transaction():
        for n in range(1, count + 1):
            data = (
                f"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261123*"
                f"1000*^*00501*{n:09d}*0*T*:~GS*HC*SENDER*RECEIVER*20261123*1000*{n}*X*"
                f"005010X222A1~ST*837*0001*005010X222A1~CLM*E{n:06d}*100***11:B:1*Y*A*Y*Y~"
                f"SE*3*0001~GE*1*{n}~IEA*1*{n:09d}~\n"
            ).encode()
            path = out / f"{n:09d}.837"
            path.write_bytes(data)
            claim_id = claims.upsert_claim(
                ledger,
                claims.ClaimKey("bench", f"E{n:06d}", "1"),
                status="built",
                payer_id="aetna",
                charge=Decimal("100.00"),
                at=NOW,
            )
            iid = interchanges.record_interchange(
                ledger,
                practice="bench",
                file=str(path),
                sender="SENDER",
                receiver="RECEIVER",
                isa13=f"{n:09d}",
                gs06=str(n),
                usage="T",
                claims=1,
                at=NOW,
                sha256=hashlib.sha256(data).hexdigest(),
            )
            interchanges.record_interchange_claim(ledger, iid, "0001", claim_id, 1, 3)
    return ledger


def bench_delivery(count: int) -> None:
    loopback = _loopback_server()
    for kind in ("sftp", "folder"):
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            ledger = built_ledger(work, count)
            server = None
            if kind == "sftp":
                server = loopback(root=work / "remote", keys=work / "keys").start()
                transport = SftpTransport(
                    server.url("/"),
                    identity=server.client_key_path,
                    known_hosts=server.known_hosts,
                )
                remote = work / "remote"
            else:
                transport = FolderTransport(work / "dest")
                remote = work / "dest"
            started = time.perf_counter()
            result = deliver(ledger, transport)
            seconds = time.perf_counter() - started
            assert len(result.sent) == count and not result.failed, result.as_json()["summary"]
            assert len(list(remote.iterdir())) == count
            sent = ledger.query_one("SELECT COUNT(*) AS n FROM interchanges WHERE status='sent'")
            assert sent["n"] == count
            print(
                f"deliver {kind:6s}: {count} interchanges in {seconds:.2f} s = "
                f"{count / seconds:,.0f} interchanges/s (ledger intent + upload + verify + "
                f"rename + ledger sent, each)"
            )
            ledger.close()
            if server is not None:
                server.shutdown()


def _remit_variant(n: int) -> bytes:
    """The fixture 835 with its own payment trace number, so each file is a new payment."""
    data = REMIT.read_bytes()
    return data.replace(b"EFT20250110A", f"BENCH{n:07d}".encode())


def bench_watch(drops: int) -> None:
    load_maps()
    cases = [
        ("events", "marker", True, 2.0),
        ("events", "settle 0.5 s", True, 0.5),
        ("events", "settle 2 s (default)", True, 2.0),
        ("polling", "marker", False, 2.0),
    ]
    for mode, completion, use_watchdog, settle in cases:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            ledger = SqliteLedger.open(work / "ledger.sqlite")
            folder = DropFolder(work / "drop").ensure()
            settings = WatchSettings(settle=settle, poll_interval=1.0, use_watchdog=use_watchdog)
            watcher = Watcher(folder, ledger, HANDLERS, settings)
            stop = threading.Event()
            thread = threading.Thread(target=watcher.run, args=(stop,))
            thread.start()
            time.sleep(0.3)
            latencies = []
            for n in range(drops):
                data = _remit_variant(n + drops * len(latencies))
                name = f"remit{n:04d}.835"
                started = time.perf_counter()
                (folder.inbound / name).write_bytes(data)
                if completion == "marker":
                    (folder.inbound / f"{name}.done").write_bytes(b"")
                digest = hashlib.sha256(data).hexdigest()
                while True:
                    if (folder.archive / name).exists():
                        row = q.inbound_file(ledger, digest)
                        if row is not None and row.state == "done":
                            break
                    time.sleep(0.002)
                latencies.append(time.perf_counter() - started)
                time.sleep(0.05)
            stop.set()
            watcher.wake()
            thread.join(10)
            ledger.close()
            latencies.sort()
            p95 = latencies[max(int(len(latencies) * 0.95) - 1, 0)]
            print(
                f"watch {mode:7s} {completion:22s}: drop → processed median "
                f"{statistics.median(latencies) * 1000:,.0f} ms, p95 {p95 * 1000:,.0f} ms, "
                f"max {latencies[-1] * 1000:,.0f} ms ({drops} drops, remit stage)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--drops", type=int, default=20)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    bench_delivery(args.count)
    bench_watch(args.drops)


if __name__ == "__main__":
    main()
