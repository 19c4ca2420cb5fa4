"""The ``workers`` workflow: N watcher processes sharing one drop folder and one ledger.

Each worker is an ordinary ``edi-pipeline watch`` process (its own interpreter, its own ledger
connection), so this is what a process manager would run, written down once. The ledger does the
coordinating: a file's content is claimed in ``inbound_files`` with a lease before any work
(``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL: a worker passes over a file another holds),
control numbers come from the ledger's sequences inside each interchange's transaction, and a
worker that dies leaves a lease that the others take over (at once on this host, where a dead
owner pid is seen; on other hosts when the lease expires).

``once``: run N ``watch --once`` workers; when they are done and files are left in ``inbound/``
(a worker died holding one, or a file was busy when the others passed it), run another round,
up to ``rounds``. Otherwise the workers watch until SIGTERM/SIGINT, which is passed on to them
(each finishes the file in hand); a worker that dies is started again.

SQLite works too (one machine; its writer lock serialises the transactions), PostgreSQL is what
lets workers on other hosts join: run ``edi-pipeline workers N`` on each host against the same
``postgresql://`` ledger and a shared folder, or one ``watch`` per host under systemd.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from edi_pipeline.errors import SettingsError
from edi_pipeline.ledger import ledger_spec as ledger_spec_of
from edi_pipeline.watch import DropFolder, is_candidate

log = structlog.get_logger()

#: most workers one host may start (each is a process and a ledger connection)
MAX_WORKERS = 64
#: seconds before a worker that died is started again (watch mode)
RESTART_DELAY = 1.0


@dataclass(frozen=True, slots=True)
class WorkersOptions:
    count: int
    folder: Path
    once: bool = False
    settle: float = 2.0
    poll_interval: float = 1.0
    config: Path | None = None
    rounds: int = 3  # once mode: rounds at most, while files are left and progress is made

    def check(self) -> None:
        if not 1 <= self.count <= MAX_WORKERS:
            raise SettingsError(f"workers: N must be 1 to {MAX_WORKERS} (got {self.count})")
        if self.rounds < 1:
            raise SettingsError(f"--rounds must be 1 or more (got {self.rounds})")


@dataclass
class WorkersSummary:
    counts: Counter[str] = field(default_factory=Counter)
    rounds: int = 0
    workers_started: int = 0
    workers_died: int = 0  # killed by a signal or crashed (exit code other than 0/1)
    left: list[str] = field(default_factory=list)  # files still in inbound/ at the end
    queued_left: int = 0  # claims still waiting in the build queue at the end (once mode)
    exit_code: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "summary": {
                s: self.counts[s]
                for s in ("processed", "failed", "duplicate", "busy", "deferred", "incomplete")
            },
            "rounds": self.rounds,
            "workers_started": self.workers_started,
            "workers_died": self.workers_died,
            "left": self.left,
            "queued_left": self.queued_left,
        }


def worker_argv(options: WorkersOptions, spec: str, *, once: bool) -> list[str]:
    """The command line of one worker: this interpreter running ``edi-pipeline watch``."""
    argv = [sys.executable, "-m", "edi_pipeline", "watch", str(options.folder), "--ledger", spec]
    argv += ["--settle", f"{options.settle:g}", "--poll-interval", f"{options.poll_interval:g}"]
    if options.config is not None:
        argv += ["--config", str(options.config)]
    if once:
        argv += ["--once", "--json", "--poll"]
    return argv


def _left(folder: DropFolder) -> list[str]:
    try:
        return sorted(e.name for e in os.scandir(folder.inbound) if is_candidate(e.name))
    except FileNotFoundError:
        return []


def run_workers(
    options: WorkersOptions,
    *,
    ledger_spec: str | None = None,
    stop: threading.Event | None = None,
) -> WorkersSummary:
    options.check()
    folder = DropFolder(options.folder).ensure()
    from edi_pipeline.practice import load_practice

    practice = load_practice(options.config)
    spec = ledger_spec_of(ledger_spec, configured=practice.ledger)
    # migrate once here, so N workers do not all start by waiting for the schema
    from edi_pipeline.ledger import open_ledger

    open_ledger(spec).close()
    summary = WorkersSummary()
    if options.once:
        _run_rounds(options, spec, folder, summary)
    else:
        _run_forever(options, spec, summary, stop or threading.Event())
    return summary


def _run_rounds(
    options: WorkersOptions, spec: str, folder: DropFolder, summary: WorkersSummary
) -> None:
    worst = 0
    queued_before = _queued(spec)
    for _ in range(options.rounds):
        summary.rounds += 1
        before = len(_left(folder))
        procs = [
            subprocess.Popen(
                worker_argv(options, spec, once=True),
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for _ in range(options.count)
        ]
        summary.workers_started += len(procs)
        for proc in procs:
            out, _ = proc.communicate()
            if proc.returncode not in (0, 1):
                summary.workers_died += 1
                log.warning("workers.worker_died", pid=proc.pid, returncode=proc.returncode)
                continue
            worst = max(worst, proc.returncode)
            try:
                report = json.loads(out)
            except json.JSONDecodeError:
                summary.workers_died += 1
                continue
            for status, n in report["summary"].items():
                if status != "busy":  # a file busy for one worker was done by another
                    summary.counts[status] += n
        left = _left(folder)
        queued = _queued(spec)
        log.info("workers.round_finished", round=summary.rounds, left=len(left), queued=queued)
        if not left and not queued:
            break
        if len(left) == before and queued >= queued_before:
            break  # no progress: what is left is not for this host's workers now
        queued_before = queued
    summary.left = _left(folder)
    summary.queued_left = _queued(spec)
    summary.counts["busy"] = len(summary.left)
    summary.exit_code = 1 if (worst or summary.left or summary.queued_left) else 0


def _queued(spec: str) -> int:
    """Claims waiting in the build queue, or leased to a worker (a dead one's are taken over
    by the next round: its first idle turn looks for dead owners)."""
    from edi_pipeline.ledger import build_queue, open_ledger

    ledger = open_ledger(spec)
    try:
        counts = build_queue.counts(ledger)
    finally:
        ledger.close()
    return counts["waiting"] + counts["leased"]


def _run_forever(
    options: WorkersOptions, spec: str, summary: WorkersSummary, stop: threading.Event
) -> None:
    argv = worker_argv(options, spec, once=False)
    procs: list[subprocess.Popen[bytes]] = []

    def on_signal(signum: int, _frame: object) -> None:
        log.info("workers.stop_requested", signal=signal.Signals(signum).name)
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for _ in range(options.count):
            procs.append(subprocess.Popen(argv))
            summary.workers_started += 1
        log.info("workers.started", count=options.count, ledger=_safe(spec))
        while not stop.wait(0.5):
            for i, proc in enumerate(procs):
                if proc.poll() is not None:
                    summary.workers_died += 1
                    log.warning("workers.worker_died", pid=proc.pid, returncode=proc.returncode)
                    time.sleep(RESTART_DELAY)
                    procs[i] = subprocess.Popen(argv)
                    summary.workers_started += 1
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    summary.exit_code = 0


def _safe(spec: str) -> str:
    if "://" in spec:
        from edi_pipeline.ledger.postgres import redact

        return redact(spec)
    return spec
