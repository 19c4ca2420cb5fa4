"""The ``watch`` workflow: a drop folder wired to the stages, with graceful shutdown.

``HANDLERS`` is the whole hand-off: one small function per kind of inbound content, each calling
the stage's own workflow on the watcher's ledger (one connection for every file) and
turning its result into a ``StageOutcome`` (counts and ids only; a reason when the file as a
whole could not be used, which sends it to ``error/``). Stages are imported when first used,
so a watcher that only ever sees 835s never loads the outbound pipeline.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import structlog

from edi_pipeline.errors import SettingsError
from edi_pipeline.ledger import ledger_spec as ledger_spec_of
from edi_pipeline.ledger import open_ledger
from edi_pipeline.maps import load_maps
from edi_pipeline.models import Problem, money
from edi_pipeline.practice import Practice
from edi_pipeline.watch import (
    DropFolder,
    Handler,
    Inbound,
    StageOutcome,
    Watcher,
    WatchSettings,
    WatchSummary,
)

log = structlog.get_logger()


def run_encounters(inbound: Inbound, config: Path | None = None) -> StageOutcome:
    """An encounter export → the outbound run (intake → coding → scrub → build) into outbound/.

    Claims that pass scrub go through the build queue, so that every worker shares the build
    of a large export; this worker then builds from the queue until nothing is free. A crashed
    run's interchanges are recovered when the watcher starts and whenever it is idle, not for
    every file. Re-running an export is a no-op for every encounter already built (the build
    stage skips claims a live interchange holds), which is what makes a retry after a crash
    safe."""
    from edi_pipeline.app.outbound import Settings, outbound
    from edi_pipeline.practice import load_practice

    settings = Settings(
        inputs=(inbound.path,),
        practice=load_practice(config),
        out_dir=inbound.outbound,
        ledger=inbound.ledger_spec,
        now=inbound.now,
        processes=1,  # one worker of many: validate in-process
        queue=True,
        recover=False,
    )
    outcome = outbound(settings, maps=load_maps(), ledger=inbound.ledger)
    summary = dict(outcome.report()["summary"])
    summary["interchanges"] = [i.isa13 for i in outcome.interchanges]
    return StageOutcome(summary, problems=outcome.exit_code != 0)


def ingest_acks(inbound: Inbound) -> StageOutcome:
    """A TA1, 999 or 277CA → the ack stage, which marks interchanges and claims in the ledger.

    The ack stage records each content's sha256 and ingests it once, in one transaction."""
    from edi_pipeline.app.ack import ingest_ack_file

    report = ingest_ack_file(inbound.path, inbound.ledger, load_maps(), now=inbound.now)
    summary = dict(report.as_json()["summary"])
    (file,) = report.files
    if file.duplicate_of:
        summary["already_ingested_at"] = file.duplicate_of
    if not file.kinds and file.errors:
        return StageOutcome(summary, problems=True, failed=_first(file.errors))
    return StageOutcome(summary, problems=report.exit_code != 0)


def ingest_remit(inbound: Inbound) -> StageOutcome:
    """An 835 → the remit stage: balance, match to sent claims, classify, post to the ledger.

    The remit stage posts each payment once (a payment seen before is reported, not posted)."""
    from edi_pipeline.app.remit import run as remit

    run = remit([inbound.path], maps=load_maps(), ledger=inbound.ledger, now=inbound.now)
    (file,) = run.files
    summary = {
        "transactions": file.transactions,
        "claims": file.claims,
        "matched": run.matched,
        "balanced": file.balanced,
        "already_posted": file.duplicates,
        "denied_dollars": money(run.denied_dollars),
    }
    if not file.readable:
        return StageOutcome(summary, problems=True, failed=_first(file.errors or file.problems))
    return StageOutcome(summary, problems=run.exit_code != 0)


def _first(problems: Sequence[Problem]) -> str:
    if not problems:
        return "the file could not be read"
    p = problems[0]
    at = f"segment {p.where.segment_index}: " if p.where.segment_index else ""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{p.code}: {at}{p.message}{more}"


#: build batches per idle turn: the watcher looks at its folder again between turns
IDLE_BATCHES = 10
#: seconds between idle recoveries of interchanges a dead worker committed and did not rename
RECOVER_EVERY = 5.0


def start_build(watcher: Watcher, practice: Practice) -> None:
    """At start: finish (or record lost) what a crashed run committed and did not rename, and
    delete staged files no transaction committed (under the ledger-wide lock, once)."""
    from edi_pipeline.app.build import recover, sweep_orphans

    recover(watcher.ledger, practice, watcher.now())
    sweep_orphans(watcher.folder.outbound, watcher.ledger, practice)


def build_queued(
    watcher: Watcher, practice: Practice, last_recovery: list[float] | None = None
) -> int:
    """Idle work: recover what a dead worker committed, then build queued claims of any export
    (other workers' included) until none is free; returns the batches built."""
    from edi_pipeline.app.build import recover
    from edi_pipeline.app.build_queue import drain

    # recovery lists every interchange built and not yet sent: every few seconds is enough
    if last_recovery is None or time.monotonic() - last_recovery[0] >= RECOVER_EVERY:
        recover(watcher.ledger, practice, watcher.now())
        if last_recovery is not None:
            last_recovery[0] = time.monotonic()
    drained = drain(
        watcher.ledger,
        practice,
        load_maps().payers,
        out_dir=watcher.folder.outbound,
        owner=watcher.owner,
        now=watcher.now,
        stop=watcher.stopping,
        max_batches=IDLE_BATCHES,
    )
    if drained.batches:
        log.info(
            "watch.queue_built",
            claims=len(drained.claims),
            interchanges=len(drained.interchanges),
        )
    return drained.batches


def make_handlers(config: Path | None = None) -> dict[str, Handler]:
    """The hand-off table; ``config`` is the practice file encounter exports are built for."""
    return {
        "encounters": partial(run_encounters, config=config),
        "ack": ingest_acks,
        "remit": ingest_remit,
    }


HANDLERS: Mapping[str, Handler] = make_handlers()


@dataclass(frozen=True, slots=True)
class WatchOptions:
    folder: Path
    once: bool = False
    settle: float = 2.0
    poll_interval: float = 1.0
    polling: bool = False  # force the polling fallback (network filesystems, no inotify)
    config: Path | None = None  # the practice encounter exports are built for (default: demo)

    def settings(self) -> WatchSettings:
        if self.settle < 0:
            raise SettingsError(f"--settle must be 0 or more seconds (got {self.settle:g})")
        if self.poll_interval <= 0:
            raise SettingsError(f"--poll-interval must be more than 0 (got {self.poll_interval:g})")
        return WatchSettings(
            settle=self.settle, poll_interval=self.poll_interval, use_watchdog=not self.polling
        )


@contextmanager
def _graceful(stop: threading.Event, watcher: Watcher) -> Iterator[None]:
    """SIGTERM/SIGINT set ``stop``: the file in hand is finished, then the watcher returns."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, _frame: object) -> None:
        log.info("watch.stop_requested", signal=signal.Signals(signum).name)
        stop.set()
        watcher.wake()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def watch_folder(
    options: WatchOptions,
    *,
    ledger_spec: str | None = None,
    handlers: Mapping[str, Handler] | None = None,
    stop: threading.Event | None = None,
) -> WatchSummary:
    """``edi-pipeline watch DIR``: process the drop folder once, or until SIGTERM/SIGINT."""
    settings = options.settings()
    folder = DropFolder(options.folder)
    load_maps()  # broken maps are a configuration error (exit 2), not a failure of every file
    from edi_pipeline.practice import load_practice

    practice = load_practice(options.config)  # likewise a practice file that cannot be used
    if handlers is None:
        handlers = make_handlers(options.config)
    spec = ledger_spec_of(ledger_spec, configured=practice.ledger)
    ledger = open_ledger(spec)
    try:
        watcher = Watcher(folder, ledger, handlers, settings, ledger_spec=spec)
        watcher.idle = partial(build_queued, watcher, practice, [time.monotonic()])
        start_build(watcher, practice)
        if options.once:
            return watcher.once()
        stop = stop or threading.Event()
        with _graceful(stop, watcher):
            return watcher.run(stop)
    finally:
        ledger.close()
