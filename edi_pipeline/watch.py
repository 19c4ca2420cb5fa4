"""The drop-folder watcher: take complete files from ``inbound/``, once each, route them by content.

Layout of a watched folder ``DIR`` (created 0700)::

    DIR/inbound/    files arrive here (encounter exports, 999, 277CA, TA1, 835)
    DIR/outbound/   what the outbound job writes (built 837P interchanges)
    DIR/archive/    inbound files that were processed
    DIR/error/      inbound files that could not be, each with NAME.reason.txt beside it

A file is taken only when it is complete: a ``NAME.done`` marker beside it says so at once;
otherwise its size and modification time must stay the same for ``settle`` seconds. Names that
writers use while copying (leading dot, ``.part``, ``.tmp``, ``.filepart``, ``.crdownload``,
trailing ``~``) are never taken.

Exactly once. Before a file is processed, its content hash is *claimed* in the ledger
(``inbound_files``), in a transaction, with a lease. Content already processed is not processed
again, whatever its name and however often it is dropped: the copy goes to ``archive/``. A file
whose watcher died mid-way (its lease owner is a dead process, or the lease expired) is taken
over and processed by the next watcher; the stages it is handed to are idempotent by their own
keys (an encounter already built is not built again, an 835 payment already posted is not
posted again), so the one window where a crash can repeat a stage call (after the stage, before
the ledger records "done") repeats nothing. A file that failed may be dropped again (after a
fix elsewhere, say) and is then retried. The file leaves ``inbound/`` only after the ledger
says how it ended.

Routing is by content, never by name: an X12 interchange is an acknowledgment (TA1, 999,
277CA) → the ack stage, or an 835 → the remit stage; a JSON, JSON Lines or CSV encounter export →
the outbound run. Anything else goes to ``error/`` with the reason.

Events come from ``watchdog`` (inotify and friends); a periodic scan runs as well, and alone when
the platform watcher cannot start (the polling fallback). ``once()`` processes what is there and
returns, for cron and clearinghouse schedulers; ``run()`` watches until ``stop`` is set (the
SIGTERM/SIGINT handlers of ``app.watch`` set it; the file in hand is finished first).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from edi_pipeline.errors import EdiPipelineError, LedgerError, SettingsError, X12Error
from edi_pipeline.ledger import delivery as q
from edi_pipeline.ledger._time import stamp
from edi_pipeline.ledger.base import Ledger
from edi_pipeline.transports.base import fault

log = structlog.get_logger()

FOLDERS = ("inbound", "outbound", "archive", "error")
DONE_SUFFIX = ".done"
REASON_SUFFIX = ".reason.txt"
_WRITING_SUFFIXES = (".part", ".tmp", ".filepart", ".crdownload", ".partial", "~")
SNIFF_BYTES = 1 << 16
LEASE_SECONDS = 900.0

# ------------------------------------------------------------------ routing (pure)

KINDS = ("encounters", "ack", "remit")


@dataclass(frozen=True, slots=True)
class Route:
    """Where a file's content says it goes: ``kind`` None means nowhere (``reason`` says why)."""

    kind: str | None
    detail: str  # json, csv, TA1, 999, 277CA, 835 … (what was recognised)
    reason: str | None = None


_ACK_SETS = {"999": "999", "277": "277CA"}


def route(head: bytes) -> Route:
    """Route a file by the first bytes of its content (up to ``SNIFF_BYTES``)."""
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if not text:
        return Route(None, "empty", "the file is empty")
    if text.startswith(b"ISA"):
        return _route_x12(text)
    if text[:1] in (b"{", b"["):
        return Route("encounters", "json")
    first_line = text.split(b"\n", 1)[0].decode("utf-8", "replace").strip().lower()
    columns = {c.strip().strip('"') for c in first_line.split(",")}
    if "encounter_id" in columns:
        return Route("encounters", "csv")
    return Route(
        None,
        "unknown",
        "not an X12 interchange nor a JSON, JSON Lines or CSV encounter export "
        "(CSV needs an encounter_id column)",
    )


def _route_x12(text: bytes) -> Route:
    from edi_pipeline.x12.reader import X12Reader

    gs: tuple[str, str] | None = None
    try:
        for seg in X12Reader(text, name="inbound"):
            if seg.tag == "TA1" and gs is None:
                return Route("ack", "TA1")
            if seg.tag == "GS":
                gs = (seg.get(1), seg.get(8))
            elif seg.tag == "ST":
                st01 = seg.get(1)
                if st01 == "835":
                    return Route("remit", "835")
                if st01 in _ACK_SETS:
                    return Route("ack", _ACK_SETS[st01])
                if st01 == "837":
                    return Route(
                        None, "837", "an 837 is what we send, not what we receive; not ingested"
                    )
                return Route(None, st01 or "X12", f"X12 transaction set {st01!r} is not ingested")
    except X12Error as exc:
        return Route(None, "X12", f"X12 that cannot be read: {exc.message}")
    return Route(None, "X12", "an X12 interchange with no transaction set or TA1")


# ------------------------------------------------------------------ stage hand-off


@dataclass(frozen=True, slots=True)
class Inbound:
    """One claimed inbound file, as handed to a stage."""

    path: Path
    name: str
    content_hash: str
    route: Route
    ledger: Ledger
    ledger_spec: str  # how to open the same ledger again (a stage that opens its own)
    outbound: Path  # where an outbound run writes what it builds
    now: datetime


@dataclass(frozen=True, slots=True)
class StageOutcome:
    """What a stage did with a file: ``failed`` (a reason) sends it to ``error/``.

    ``problems`` true means the stage finished but reported held/rejected records or an
    unbalanced remit (exit status 1 in ``--once``). ``summary`` holds counts and ids only.
    """

    summary: Mapping[str, Any] = field(default_factory=dict)
    problems: bool = False
    failed: str | None = None


Handler = Callable[[Inbound], StageOutcome]


# ------------------------------------------------------------------ the folder


@dataclass(frozen=True, slots=True)
class DropFolder:
    root: Path

    @property
    def inbound(self) -> Path:
        return self.root / "inbound"

    @property
    def outbound(self) -> Path:
        return self.root / "outbound"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def error(self) -> Path:
        return self.root / "error"

    def ensure(self) -> DropFolder:
        """Create the four folders 0700 (whatever the umask); a missing root is created too."""
        if self.root.exists() and not self.root.is_dir():
            raise SettingsError(f"{self.root} is not a folder")
        for name in ("", *FOLDERS):
            path = self.root / name
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
            with contextlib.suppress(PermissionError):
                if path.stat().st_uid == os.getuid():
                    path.chmod(0o700)
        return self


def is_candidate(name: str) -> bool:
    """Would a file of this name in ``inbound/`` ever be taken?"""
    return not (
        name.startswith(".")
        or name.endswith(DONE_SUFFIX)
        or name.endswith(REASON_SUFFIX)
        or name.lower().endswith(_WRITING_SUFFIXES)
    )


@dataclass(frozen=True, slots=True)
class WatchSettings:
    settle: float = 2.0  # seconds a file's size and mtime must stay unchanged
    poll_interval: float = 1.0  # seconds between scans when no event wakes the watcher
    use_watchdog: bool = True
    lease_seconds: float = LEASE_SECONDS


@dataclass(frozen=True, slots=True)
class FileOutcome:
    name: str
    content_hash: str | None
    status: str  # processed, failed, duplicate, busy, deferred (retried later), vanished, changed
    kind: str | None = None
    detail: str | None = None
    moved_to: str | None = None
    reason: str | None = None
    problems: bool = False
    summary: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class WatchSummary:
    files: list[FileOutcome] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)  # still being written (once mode)
    counts: Counter[str] = field(default_factory=Counter)
    with_problems: int = 0
    keep: int | None = None  # a long-running watcher keeps only the latest outcomes

    def add(self, outcome: FileOutcome) -> None:
        self.counts[outcome.status] += 1
        self.with_problems += outcome.problems
        self.files.append(outcome)
        if self.keep is not None and len(self.files) > self.keep:
            del self.files[: len(self.files) - self.keep]

    def count(self, status: str) -> int:
        return self.counts[status]

    @property
    def exit_code(self) -> int:
        return 1 if (self.counts["failed"] or self.counts["deferred"] or self.with_problems) else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "files": [
                {
                    "name": f.name,
                    "sha256": f.content_hash,
                    "status": f.status,
                    "kind": f.kind,
                    "detail": f.detail,
                    "moved_to": f.moved_to,
                    "reason": f.reason,
                    "problems": f.problems,
                    "summary": dict(f.summary),
                }
                for f in self.files
            ],
            "incomplete": list(self.incomplete),
            "summary": {
                status: self.count(status)
                for status in ("processed", "failed", "duplicate", "busy", "deferred")
            }
            | {"incomplete": len(self.incomplete)},
        }


# ------------------------------------------------------------------ file helpers


def _hash_file(path: Path) -> tuple[str, int, bytes]:
    """sha256, size and the first ``SNIFF_BYTES`` of a file, read once."""
    digest = hashlib.sha256()
    head = b""
    size = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            if len(head) < SNIFF_BYTES:
                head += chunk[: SNIFF_BYTES - len(head)]
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size, head


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _same_content(path: Path, content_hash: str) -> bool:
    try:
        return _hash_file(path)[0] == content_hash
    except OSError:
        return False


def _unique(folder: Path, name: str, content_hash: str) -> Path:
    """Where a file goes in ``folder``: its own name, or (taken by other content) the name with
    the content hash in it. The same content already there is the place itself."""
    stem, dot, suffix = name.partition(".")
    for candidate in (name, f"{stem}.{content_hash[:12]}{dot}{suffix}"):
        target = folder / candidate
        reason = folder / (candidate + REASON_SUFFIX)
        if not target.exists() and not reason.exists():
            return target
        if target.exists() and _same_content(target, content_hash):
            return target
    for n in range(2, 10_000):
        target = folder / f"{stem}.{content_hash[:12]}-{n}{dot}{suffix}"
        if not target.exists():
            return target
    raise SettingsError(f"{folder}: too many files named like {name}")


def _move(path: Path, target: Path) -> Path | None:
    """Move an inbound file to ``target`` (from ``_unique``; 0600, never over other content);
    None if it vanished (another watcher moved it first). Content already there is kept once."""
    try:
        os.link(path, target)
    except FileNotFoundError:
        return None
    except FileExistsError:  # this content is already there
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return target
    except OSError:  # a filesystem without hard links: rename (atomic, may replace)
        try:
            os.replace(path, target)
        except FileNotFoundError:
            return None
    target.chmod(0o600)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    _fsync_dir(target.parent)
    return target


def _write_private(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.part")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)


# ------------------------------------------------------------------ the watcher


class Watcher:
    """Processes complete files of one drop folder, each content exactly once."""

    def __init__(
        self,
        folder: DropFolder,
        ledger: Ledger,
        handlers: Mapping[str, Handler],
        settings: WatchSettings = WatchSettings(),  # frozen, never mutated
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock: Callable[[], float] = time.monotonic,
        owner: str | None = None,
        ledger_spec: str | None = None,
        idle: Callable[[], object] | None = None,  # truthy: it did some work
    ):
        self.folder = folder.ensure()
        self.ledger = ledger
        self.ledger_spec = ledger_spec or ledger.location
        self.handlers = dict(handlers)
        self.settings = settings
        self.now = now
        self.clock = clock
        self.owner = owner or q.new_owner()
        self._stop: threading.Event | None = None  # set while ``run`` runs
        # Work to do when no file is ours to process (building queued claims): after each scan
        # that found none (or only files other workers hold), and once more before ``once``
        # returns.
        self.idle = idle
        # name -> ((size, mtime_ns), monotonic time that signature was first seen)
        self._seen: dict[str, tuple[tuple[int, int], float]] = {}
        self._markers: set[str] = set()
        self._wake = threading.Event()

    # -------------------------------------------------------------- completeness

    def _candidates(self) -> list[os.DirEntry[str]]:
        try:
            entries = list(os.scandir(self.folder.inbound))
        except FileNotFoundError:
            self.folder.ensure()
            return []
        names = {e.name for e in entries}
        found = [e for e in entries if is_candidate(e.name) and e.is_file(follow_symlinks=False)]
        for gone in set(self._seen) - names:
            del self._seen[gone]
        found.sort(key=lambda e: e.name)
        self._markers = {n[: -len(DONE_SUFFIX)] for n in names if n.endswith(DONE_SUFFIX)}
        return found

    def _ready(self, entry: os.DirEntry[str]) -> tuple[bool, float]:
        """Is the file complete? And, if not, how long until it may be."""
        if entry.name in self._markers:
            return True, 0.0
        try:
            st = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            return False, self.settings.poll_interval
        signature = (st.st_size, st.st_mtime_ns)
        now = self.clock()
        previous = self._seen.get(entry.name)
        if previous is None or previous[0] != signature:
            self._seen[entry.name] = (signature, now)
            return False, self.settings.settle
        waited = now - previous[1]
        if waited >= self.settings.settle:
            return True, 0.0
        return False, self.settings.settle - waited

    def scan(self) -> tuple[list[Path], list[str], float]:
        """(complete files, incomplete names, seconds until the next may become complete)."""
        ready, waiting, wait = [], [], self.settings.poll_interval
        for entry in self._candidates():
            ok, remaining = self._ready(entry)
            if ok:
                ready.append(Path(entry.path))
            else:
                waiting.append(entry.name)
                wait = min(wait, remaining)
        return ready, waiting, max(wait, 0.01)

    # -------------------------------------------------------------- one file

    def process(self, path: Path) -> FileOutcome:
        """Claim, route, hand off and file away one complete inbound file."""
        name = path.name
        try:
            before = path.stat()
            content_hash, size, head = _hash_file(path)
            after = path.stat()
        except FileNotFoundError:
            return FileOutcome(name, None, "vanished")
        if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or (
            size != after.st_size
        ):
            self._seen.pop(name, None)
            return FileOutcome(name, content_hash, "changed")
        with structlog.contextvars.bound_contextvars(file=name, sha256=content_hash[:12]):
            claim, row = q.claim_inbound(
                self.ledger,
                content_hash,
                name=name,
                size=size,
                owner=self.owner,
                now=self.now(),
                lease_seconds=self.settings.lease_seconds,
            )
            if claim == "busy":
                log.info("watch.file_busy")
                return FileOutcome(name, content_hash, "busy")
            if claim == "done":
                moved = _move(path, _unique(self.folder.archive, name, content_hash))
                self._forget(name)
                log.info("watch.file_duplicate", first_seen_as=row.name, copies=row.copies)
                return FileOutcome(
                    name,
                    content_hash,
                    "duplicate",
                    kind=row.kind,
                    moved_to=str(moved) if moved else None,
                    reason=f"already processed (first seen as {row.name} at {row.first_seen_at})",
                )
            fault("watch.after_claim")
            return self._handle(path, name, content_hash, head, resumed=row.attempts > 1)

    def _handle(
        self, path: Path, name: str, content_hash: str, head: bytes, *, resumed: bool
    ) -> FileOutcome:
        found = route(head)
        outcome = StageOutcome(failed=found.reason)
        if found.kind is not None:
            handler = self.handlers.get(found.kind)
            inbound = Inbound(
                path,
                name,
                content_hash,
                found,
                self.ledger,
                self.ledger_spec,
                self.folder.outbound,
                self.now(),
            )
            if handler is None:
                outcome = StageOutcome(failed=f"no {found.kind} stage is configured")
            else:
                outcome = self._call(handler, inbound)
        fault("watch.after_handler")
        failed = outcome.failed is not None
        state = "failed" if failed else "done"
        folder = self.folder.error if failed else self.folder.archive
        target = _unique(folder, name, content_hash)
        held = q.finish_inbound(
            self.ledger,
            content_hash,
            owner=self.owner,
            state=state,
            kind=found.kind,
            now=self.now(),
            outcome={"detail": found.detail, **outcome.summary},
            reason=outcome.failed,
            archived_as=str(target),
        )
        if not held:  # our lease expired and another watcher took the file over: leave it
            log.warning("watch.lease_lost", kind=found.kind)
            return FileOutcome(name, content_hash, "busy", kind=found.kind, detail=found.detail)
        fault("watch.after_finish")
        if failed:
            _write_private(
                target.with_name(target.name + REASON_SUFFIX),
                f"{name}\nsha256 {content_hash}\nrouted as: {found.detail}\n"
                f"reason: {outcome.failed}\n",
            )
        moved = _move(path, target)
        self._forget(name)
        event = "watch.file_failed" if failed else "watch.file_processed"
        log.info(
            event,
            kind=found.kind,
            detail=found.detail,
            resumed=resumed,
            problems=outcome.problems,
            **({"reason": outcome.failed} if failed else {}),
        )
        return FileOutcome(
            name,
            content_hash,
            "failed" if failed else "processed",
            kind=found.kind,
            detail=found.detail,
            moved_to=str(moved or target),
            reason=outcome.failed,
            problems=outcome.problems,
            summary=dict(outcome.summary),
        )

    def _call(self, handler: Handler, inbound: Inbound) -> StageOutcome:
        try:
            return handler(inbound)
        except EdiPipelineError as exc:  # known errors carry no PHI in their messages
            return StageOutcome(failed=f"{exc.code}: {exc}")
        except Exception as exc:  # one bad file must not stop the watcher
            log.error("watch.stage_crashed", kind=inbound.route.kind, error=type(exc).__name__)
            return StageOutcome(
                failed=f"the {inbound.route.kind} stage failed unexpectedly "
                f"({type(exc).__name__}, a bug); drop the file again once it is fixed"
            )

    def _forget(self, name: str) -> None:
        self._seen.pop(name, None)
        with contextlib.suppress(FileNotFoundError):
            (self.folder.inbound / (name + DONE_SUFFIX)).unlink()

    # -------------------------------------------------------------- loops

    def tick(
        self,
        summary: WatchSummary,
        stop: threading.Event | None = None,
        skip: set[str] | None = None,
    ) -> float:
        """Process every complete file now present; returns how long to wait for the next.

        Names in ``skip`` are passed over, and a file another watcher holds is added to it
        (``once`` reports such a file once; ``run`` leaves ``skip`` out and retries it)."""
        ready, _waiting, wait = self.scan()
        worked = False
        for path in ready:
            if stop is not None and stop.is_set():
                break
            if skip is not None and path.name in skip:
                continue
            try:
                outcome = self.process(path)
            except (LedgerError, OSError) as exc:  # the ledger is locked, the disk is full …
                reason = exc.strerror if isinstance(exc, OSError) else exc.message
                log.warning("watch.file_deferred", file=path.name, error=type(exc).__name__)
                outcome = FileOutcome(path.name, None, "deferred", reason=reason)
            if outcome.status not in ("vanished", "changed"):
                summary.add(outcome)
            if skip is not None and outcome.status in ("busy", "deferred"):
                skip.add(path.name)
            worked = worked or outcome.status not in ("busy", "deferred", "vanished", "changed")
        if not worked and not (stop is not None and stop.is_set()):
            self._idle()  # nothing of our own to do: help with what is queued
        return wait

    def once(self, *, max_wait: float | None = None) -> WatchSummary:
        """Process what is in ``inbound/`` now, waiting (up to ``max_wait``, default ``settle``
        plus half a second) for files to settle; report those still being written; return."""
        summary = WatchSummary()
        busy: set[str] = set()
        deadline = self.clock() + (self.settings.settle + 0.5 if max_wait is None else max_wait)
        while True:
            self.tick(summary, skip=busy)
            ready, waiting, wait = self.scan()
            ready = [p for p in ready if p.name not in busy]
            if not ready and not waiting:
                break
            if self.clock() >= deadline:
                if ready:
                    self.tick(summary, skip=busy)
                summary.incomplete = self.scan()[1]
                break
            if not ready:
                time.sleep(min(wait, max(deadline - self.clock(), 0.01)))
        self._help(summary)
        self._finish(summary, "once")
        return summary

    def run(self, stop: threading.Event) -> WatchSummary:
        """Watch until ``stop`` is set; the file being processed is finished first."""
        summary = WatchSummary(keep=10_000)
        self._stop = stop
        wake = self._wake
        observer = self._observe(wake) if self.settings.use_watchdog else None
        log.info(
            "watch.started",
            folder=str(self.folder.root),
            mode="events" if observer is not None else "polling",
            settle=self.settings.settle,
        )
        try:
            while not stop.is_set():
                wait = self.tick(summary, stop)
                if stop.is_set():
                    break
                wake.wait(wait)
                wake.clear()
        finally:
            if observer is not None:
                observer.stop()
                observer.join(5)
            q.release_inbound(self.ledger, self.owner)
            self._finish(summary, "watch")
        return summary

    def _help(self, summary: WatchSummary) -> None:
        """Before ``once`` returns: while files it passed over are being processed by other
        live workers, do the idle work (build their queued claims) rather than leave it all to
        them: the reader of a large export queues its claims only once it has scrubbed them
        all. It stops when no such file is left in live hands: done, or held by a worker whose
        lease ran out or who died, which the next round of workers takes over."""
        busy = {f.content_hash for f in summary.files if f.status == "busy" and f.content_hash}
        if self.idle is None:
            return
        while True:
            self._idle()
            now = stamp(self.now())
            busy = {
                h
                for h in busy
                if (row := q.inbound_file(self.ledger, h)) is not None
                and row.state == "processing"
                and not q.lease_free(row.owner, row.lease_until, me=self.owner, now=now)
            }
            if not busy:
                return
            time.sleep(min(self.settings.poll_interval, 0.2))

    def stopping(self) -> bool:
        """Whether a stop was asked for (SIGTERM/SIGINT in ``run``): long idle work checks."""
        return self._stop is not None and self._stop.is_set()

    def _idle(self) -> bool:
        """Run the idle work; whether it did any. A failure there is logged and the watcher
        goes on: its own files come first."""
        if self.idle is None:
            return False
        try:
            return bool(self.idle())
        except (LedgerError, OSError) as exc:  # the ledger is locked, the disk is full …
            log.warning("watch.idle_work_deferred", error=type(exc).__name__)
        except Exception as exc:  # a batch that cannot be built: its rows were released
            log.error("watch.idle_work_failed", error=type(exc).__name__)
        return False

    def wake(self) -> None:
        """Wake the loop now (a signal handler calls this after setting ``stop``)."""
        self._wake.set()

    def _observe(self, wake: threading.Event) -> Any:
        """Start a watchdog observer on ``inbound/`` that wakes the loop; None → polling."""
        try:
            from watchdog.events import FileSystemEventHandler
            from watchdog.observers import Observer
        except ImportError:
            log.warning("watch.polling_fallback", reason="watchdog is not installed")
            return None

        class Wake(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                wake.set()

        observer = Observer()
        try:
            observer.schedule(Wake(), str(self.folder.inbound), recursive=False)
            observer.start()
        except OSError as exc:  # e.g. inotify watch or instance limits reached
            log.warning("watch.polling_fallback", reason=exc.strerror or type(exc).__name__)
            return None
        return observer

    def _finish(self, summary: WatchSummary, mode: str) -> None:
        log.info(
            "watch.finished",
            mode=mode,
            processed=summary.count("processed"),
            failed=summary.count("failed"),
            duplicate=summary.count("duplicate"),
            busy=summary.count("busy"),
            incomplete=len(summary.incomplete),
        )
