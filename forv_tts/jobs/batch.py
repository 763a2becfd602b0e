"""`forv-tts batch`: many utterances, all cores, one manifest record per input line, resumable.

Why it is shaped this way:

- The manifest is the source of truth. Every input line gets one JSON Lines record (`ok`, `failed` or
  `skipped`), appended as items finish, flushed and fsynced, so a crash loses at most the items in
  flight; a torn last line (kill -9 mid-write) is ignored when the manifest is read back.
- Resume needs stable names. A clip's uuid, when the input does not give one, is uuid5(input sha256,
  line number); its default `created_at` is the run's date, kept in the manifest (`run_date`); and without
  `--seed` each item's seed is derived from its uuid. So a redone item is written to the same path with
  the same bytes, and its upload (generation precondition, idempotent on identical bytes) cannot clash.
- `--resume` keeps the records whose file is present with the recorded sha256, rewrites the manifest
  atomically with only those, and redoes every other line. A plain rerun on an existing manifest is
  refused (`ManifestExistsError`): it would otherwise mix two runs in one manifest.
- Workers are spawned (torch and fork do not mix), ignore SIGINT (the parent decides: stop dispatching,
  let in-flight items finish), load each member's voice once on first need (`load_voice` caches per
  process) and size torch's thread pool so jobs × threads matches the cores. Workers exit on their own
  when the parent dies. `jobs == 1` runs in-process.
- This module never prints: progress goes to a callback, messages to `logging`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forv_tts._process.startup import want_synthesis_threads
from forv_tts.config import SynthesisConfig
from forv_tts.errors import (
    EXIT_OK,
    BatchFailedError,
    BatchInterruptedError,
    BatchTerminatedError,
    DiskFullError,
    ForvError,
    ManifestExistsError,
    ManifestMismatchError,
    exit_code,
)
from forv_tts.jobs.input import BatchInput, derived_seed, derived_uuid
from forv_tts.jobs.item import UploadSpec
from forv_tts.jobs.manifest import (
    MANIFEST_NAME,
    STATUS_FAILED,
    STATUS_OK,
    STATUS_SKIPPED,
    ManifestWriter,
    file_sha256,
    read_manifest,
)
from forv_tts.jobs.worker import Task, init_worker, process_task, worker_task
from forv_tts.storage import naming
from forv_tts.storage.naming import ClipName
from forv_tts.voices.base import VoiceInfo

log = logging.getLogger(__name__)

_MAX_POOL_RESTARTS = 3
_TICK_S = 0.25
_MAX_FAILURES_LISTED = 50

__all__ = [
    "BatchFailedError",
    "BatchInterruptedError",
    "BatchOptions",
    "BatchRun",
    "BatchSummary",
    "ManifestExistsError",
    "ManifestMismatchError",
    "run_batch",
]


# --- options, progress, summary ---------------------------------------------------------------------


@dataclass(frozen=True)
class BatchOptions:
    """Everything a run needs besides the input."""

    out_dir: Path = Path(".")
    manifest: Path | None = None
    member: str | None = None
    voice_dir: Path | None = None
    step: int | None = None
    jobs: int | None = None
    config: SynthesisConfig = field(default_factory=SynthesisConfig)
    upload: UploadSpec | None = None
    resume: bool = False
    fail_fast: bool = False
    #: The clips' audio format (`forv_tts.encoding.FORMATS`): `<uuid>_<created_at>_voice.<ext>`.
    audio_format: str = "wav"
    #: "srt" or "vtt": a caption file beside each clip (same name, that extension).
    captions: str | None = None

    @property
    def manifest_path(self) -> Path:
        """`--manifest`, else `<out-dir>/manifest.jsonl`."""
        return self.manifest if self.manifest is not None else self.out_dir / MANIFEST_NAME


@dataclass(frozen=True)
class BatchProgress:
    """A snapshot handed to the progress callback after each record (and on a timer)."""

    total: int
    done: int
    ok: int
    failed: int
    skipped: int
    resumed: int
    audio_seconds: float
    elapsed: float
    stopping: bool
    since_last: float = 0.0  # seconds since the last record: a long item shows as time passing


@dataclass
class WorkerStats:
    """What one process did: items and peak resident memory (ru_maxrss)."""

    pid: int
    items: int = 0
    peak_rss_kb: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {"pid": self.pid, "items": self.items, "peak_rss_mb": round(self.peak_rss_kb / 1024, 1)}


@dataclass
class BatchSummary:
    """The outcome of a run; `to_dict` is `--json`, `exit_code` what the CLI exits with."""

    manifest: Path
    input: str
    format: str
    lines: int
    jobs: int
    threads_per_worker: int
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    resumed: int = 0
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0
    interrupted: bool = False
    terminated: bool = False  # the stop was a SIGTERM (exit 143, `terminated`), not a Ctrl-C
    disk_full: str | None = None  # where space ran out (the run stopped there)
    warned: int = 0
    workers: list[WorkerStats] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pending(self) -> int:
        """Lines with no record yet (interrupted, --fail-fast, or a crashed worker pool)."""
        return self.lines - self.ok - self.failed - self.skipped - self.resumed

    @property
    def processed(self) -> int:
        """Items this run attempted (ok + failed)."""
        return self.ok + self.failed

    def error(self) -> ForvError | None:
        """The error a CLI should end with (message + exit code), or None when every line is done."""
        fields = {"manifest": str(self.manifest), "pending": self.pending, "lines": self.lines}
        if self.disk_full is not None:
            return DiskFullError(
                f"stopped: {self.disk_full}; {self.pending} of {self.lines} lines not done. Free space "
                f"there, then rerun with --resume to continue ({self.manifest})"
            )
        if self.interrupted:
            message = f"interrupted with {self.pending} of {self.lines} lines not done ({self.manifest})"
            if self.terminated:
                return BatchTerminatedError(f"terminated (SIGTERM): {message}", **fields)
            return BatchInterruptedError(message, **fields)
        if self.failed or self.pending:
            first = self.failures[0] if self.failures else None
            detail = f" (first: line {first['line']}: {first['error']})" if first else ""
            return BatchFailedError(
                f"{self.failed} of {self.lines} lines failed, {self.pending} not reached{detail}; "
                f"see {self.manifest}",
                failed=self.failed,
                **fields,
            )
        return None

    @property
    def exit_code(self) -> int:
        """What the process exits with: the library's table for `error()`'s code (0 when all is done;
        `--json` reports it, so it is the process's own: 143 after a SIGTERM, 130 after Ctrl-C)."""
        error = self.error()
        return EXIT_OK if error is None else exit_code(error)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        wall = max(self.wall_seconds, 1e-9)
        return {
            "manifest": str(self.manifest),
            "input": self.input,
            "format": self.format,
            "lines": self.lines,
            "ok": self.ok,
            "failed": self.failed,
            "skipped": self.skipped,
            "resumed": self.resumed,
            "pending": self.pending,
            "audio_seconds": round(self.audio_seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "items_per_s": round(self.processed / wall, 3),
            "audio_s_per_wall_s": round(self.audio_seconds / wall, 3),
            "jobs": self.jobs,
            "threads_per_worker": self.threads_per_worker,
            "workers": [w.to_dict() for w in self.workers],
            "peak_rss_mb": max((w.to_dict()["peak_rss_mb"] for w in self.workers), default=0.0),
            "with_warnings": self.warned,
            "interrupted": self.interrupted,
            "disk_full": self.disk_full,
            "exit_code": self.exit_code,
            "failures": self.failures,
        }


ProgressCallback = Callable[[BatchProgress], None]


def available_cores() -> int:
    """Cores this process may run on (the cpuset, not the machine)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def threads_for(jobs: int, cores: int | None = None, *, seeded: bool = False) -> int:
    """torch threads per worker: jobs × threads fills the cores without oversubscribing them.

    With a seed the answer is 1: oneDNN's convolutions give results that depend on the thread count (last
    bits, enough to change the 16-bit wav), so one thread per item is what makes `--jobs 2` write the same
    bytes as `--jobs 1`, and a rerun on another machine the same bytes as this one (same CPU family).
    """
    if seeded:
        return 1
    cores = cores or available_cores()
    return max(1, cores // max(1, jobs))


# --- planning ---------------------------------------------------------------------------------------


@dataclass
class _Entry:
    """An item's fate in this run: a record to write now, a task to run, or already done."""

    line: int
    record: dict[str, Any] | None = None
    task: Task | None = None
    done: dict[str, Any] | None = None


def _same_settings(old: dict[str, Any], new: dict[str, Any]) -> bool:
    keys = ("member", "uuid", "created_at", "text", "seed", "length_scale", "normalize")  # + config fields
    return all(old.get(k) == new.get(k) for k in keys)


class BatchRun:
    """One `forv-tts batch` run. `request_stop()` (e.g. from a SIGINT handler) stops dispatching."""

    def __init__(self, source: BatchInput, options: BatchOptions, progress: ProgressCallback | None = None):
        self.source = source
        self.options = options
        self.progress = progress
        self._stopping = False
        self._interrupted = False
        self._terminated = False
        self._t0 = time.perf_counter()
        self._voices: dict[str | None, VoiceInfo | str] = {}
        self._max_chars = 0
        self._last_record_t = time.perf_counter()

    @property
    def stopping(self) -> bool:
        """True once a stop was requested."""
        return self._stopping

    def request_stop(self, *, terminated: bool = False) -> None:
        """Dispatch nothing more; items in flight finish and are recorded. Safe in a signal handler.
        `terminated`: the stop is a SIGTERM's (the run ends `terminated`, exit 143)."""
        self._stopping = True
        self._interrupted = True
        self._terminated = self._terminated or terminated

    # -- planning

    def _voice(self, member: str | None) -> VoiceInfo | str:
        """The voice for a member id (cached), or the error message that fails its lines."""
        if member not in self._voices:
            from forv_tts.synthesis import resolve_voice

            try:
                self._voices[member] = resolve_voice(member, self.options.voice_dir, self.options.step)
            except ForvError as err:
                self._voices[member] = str(err)
        return self._voices[member]

    def _plan(self, previous: dict[int, dict[str, Any]], run_date: str) -> list[_Entry]:
        opts = self.options
        base = {"input_sha256": self.source.sha256, "run_date": run_date}
        claimed: dict[str, int] = {}
        entries: list[_Entry] = []
        for item in self.source.items:
            old = previous.get(item.line)
            if item.blank:
                if old is not None and old.get("status") == STATUS_SKIPPED:
                    entries.append(_Entry(item.line, done=old))
                else:
                    entries.append(
                        _Entry(item.line, record={"line": item.line, "status": STATUS_SKIPPED, **base})
                    )
                continue
            record: dict[str, Any] = {"line": item.line, "status": STATUS_FAILED, "text": item.text}
            if self._max_chars and len(item.text) > self._max_chars and item.error is None:
                from forv_tts.synthesis import check_text_length

                try:
                    check_text_length(item.text)
                except ForvError as err:
                    # The record keeps the start of the text only: the manifest stays readable.
                    record["text"] = item.text[:200] + "…"
                    failed = {**record, "error": str(err), "error_code": err.code, **base}
                    entries.append(_Entry(item.line, record=failed))
                    continue
            if item.error is not None:
                entries.append(_Entry(item.line, record={**record, "error": item.error, **base}))
                continue
            voice = self._voice(item.member if item.member is not None else opts.member)
            if isinstance(voice, str):
                entries.append(_Entry(item.line, record={**record, "error": voice, **base}))
                continue
            uuid = item.uuid or derived_uuid(self.source.sha256, item.line)
            clip = ClipName(voice.id, uuid, item.created_at or run_date)
            name = clip.object_name
            path = clip.path_under(opts.out_dir)
            if opts.audio_format != "wav":
                from forv_tts.encoding import EXTENSIONS

                path = path.with_suffix(EXTENSIONS[opts.audio_format])
            seed = opts.config.seed if opts.config.seed is not None else derived_seed(clip.uuid)
            config = dataclasses.replace(opts.config, seed=seed)
            record.update(
                member=voice.id,
                uuid=clip.uuid,
                created_at=clip.created_at,
                seed=seed,
                length_scale=config.length_scale,
                normalize=config.normalize,
                path=str(path),
            )
            if name in claimed:
                record["error"] = (
                    f"same clip name as line {claimed[name]} ({name}): give each request its own uuid"
                )
                entries.append(_Entry(item.line, record={**record, **base}))
                continue
            claimed[name] = item.line
            reuse: dict[str, Any] | None = None
            # A clip on disk with the recorded sha256 is reused: done if nothing else is owed, else only
            # uploaded (an earlier upload failed, or this run adds --upload).
            clip_ok = (
                old is not None
                and old.get("status") in (STATUS_OK, STATUS_FAILED)
                and _same_settings(old, record)
                and bool(old.get("sha256"))
                and file_sha256(path) == old["sha256"]
                and (opts.captions is None or path.with_suffix("." + opts.captions).is_file())
            )
            if clip_ok and old is not None:
                if old["status"] == STATUS_OK and (opts.upload is None or old.get("uri")):
                    entries.append(_Entry(item.line, done=old))
                    continue
                reuse = old
            task = Task(
                record={**record, **base, "status": None, "error": None},
                info=voice,
                text=item.text,
                path=str(path),
                name=clip,
                config=config,
                upload=opts.upload,
                previous=reuse,
                audio_format=opts.audio_format,
                captions=opts.captions,
                # A uuid names one clip: run_item refuses a different request for a clip already there,
                # unless this manifest's record for the line made it (resume repairs its own clips).
                out_dir=None if old is not None and old.get("path") == str(path) else str(opts.out_dir),
            )
            entries.append(_Entry(item.line, task=task))
        return entries

    def _previous(self, path: Path) -> tuple[dict[int, dict[str, Any]], str | None]:
        """Last record per line of an existing manifest, and the run date it used."""
        previous: dict[int, dict[str, Any]] = {}
        run_date: str | None = None
        for record in read_manifest(path):
            sha = record.get("input_sha256")
            if sha is not None and sha != self.source.sha256:
                raise ManifestMismatchError(
                    f"{path} was written for different input (sha256 {str(sha)[:12]}…, this input "
                    f"{self.source.sha256[:12]}…)",
                    manifest=str(path),
                    recorded_sha256=str(sha),
                    input_sha256=self.source.sha256,
                )
            previous[record["line"]] = record
            run_date = run_date or record.get("run_date")
        return previous, run_date

    def _remove_stale_parts(self, entries: list[_Entry]) -> None:
        """Drop `.part` files a killed writer left for clips this run will write."""
        by_dir: dict[Path, set[str]] = {}
        for entry in entries:
            if entry.task is not None:
                p = Path(entry.task.path)
                by_dir.setdefault(p.parent, set()).add(p.name)
        for directory, names in by_dir.items():
            if not directory.is_dir():
                continue
            for leftover in directory.glob(".*.part"):
                match = re.fullmatch(r"\.(.+_voice\.[a-z0-9]+)\.[^.]+\.part", leftover.name)
                if match and match.group(1) in names:
                    log.info("removing %s left by an interrupted write", leftover)
                    with contextlib.suppress(OSError):
                        leftover.unlink()

    # -- running

    def _check_upload(self) -> None:
        """A bad bucket or missing credentials fail the run before any work, not every line."""
        spec = self.options.upload
        if spec is None:
            return
        from forv_tts.jobs.item import check_upload_ready

        check_upload_ready(spec)

    def run(self) -> BatchSummary:
        """Run to the end (or to a stop request); the manifest is consistent whenever this returns."""
        opts = self.options
        self._t0 = time.perf_counter()
        manifest_path = opts.manifest_path
        from forv_tts.synthesis import max_text_chars

        self._max_chars = max_text_chars()
        exists = manifest_path.exists()
        if exists and not opts.resume:
            raise ManifestExistsError(
                f"{manifest_path} exists from an earlier run", manifest=str(manifest_path)
            )
        self._check_upload()
        previous, run_date = self._previous(manifest_path) if exists else ({}, None)
        entries = self._plan(previous, run_date or naming.today())
        keep = [e.done for e in entries if e.done is not None]
        writer = ManifestWriter(manifest_path, keep=keep if exists else None)
        n_tasks = sum(1 for e in entries if e.task is not None)
        cores = available_cores()
        jobs = max(1, min(opts.jobs or cores, n_tasks or 1))
        threads = threads_for(jobs, cores, seeded=opts.config.seed is not None)
        summary = BatchSummary(
            manifest=manifest_path,
            input=self.source.name,
            format=self.source.format,
            lines=len(self.source.items),
            jobs=jobs,
            threads_per_worker=threads,
        )
        for record in keep:
            if record.get("status") == STATUS_SKIPPED:
                summary.skipped += 1
            else:
                summary.resumed += 1
        if keep:
            log.info("resuming: %d of %d lines already done", len(keep), summary.lines)
        self._remove_stale_parts(entries)
        try:
            pending = deque(e for e in entries if e.done is None)
            if jobs == 1:
                self._run_inline(pending, writer, summary, threads)
            else:
                self._run_pool(pending, writer, summary, jobs, threads)
        finally:
            writer.close()
            summary.wall_seconds = time.perf_counter() - self._t0
        if self._interrupted and summary.pending:
            summary.interrupted = True
            summary.terminated = self._terminated
        self._report(summary)
        return summary

    def _report(self, summary: BatchSummary) -> None:
        if self.progress is None:
            return
        self.progress(
            BatchProgress(
                total=summary.lines,
                done=summary.lines - summary.pending,
                ok=summary.ok,
                failed=summary.failed,
                skipped=summary.skipped,
                resumed=summary.resumed,
                audio_seconds=summary.audio_seconds,
                elapsed=time.perf_counter() - self._t0,
                stopping=self._stopping,
                since_last=time.perf_counter() - self._last_record_t,
            )
        )

    def _out_of_space(self, summary: BatchSummary, message: str) -> None:
        """Disk full: not a line's failure. Stop dispatching; the line stays unrecorded for --resume."""
        if summary.disk_full is None:
            summary.disk_full = message
            log.error("%s; stopping after the items in flight", message)
        self._stopping = True

    def _record(self, writer: ManifestWriter, summary: BatchSummary, record: dict[str, Any]) -> None:
        if record.get("disk_full"):
            self._out_of_space(summary, str(record["disk_full"]))
            self._report(summary)
            return
        self._last_record_t = time.perf_counter()
        try:
            writer.write(record)
        except DiskFullError as err:
            self._out_of_space(summary, str(err))
            self._report(summary)
            return
        if record.get("warnings"):
            summary.warned += 1
        status = record.get("status")
        if status == STATUS_OK:
            summary.ok += 1
            summary.audio_seconds += float(record.get("duration") or 0.0)
        elif status == STATUS_SKIPPED:
            summary.skipped += 1
        else:
            summary.failed += 1
            if len(summary.failures) < _MAX_FAILURES_LISTED:
                summary.failures.append({"line": record["line"], "error": record.get("error")})
            log.warning("line %d failed: %s", record["line"], record.get("error"))
            if self.options.fail_fast and not self._stopping:
                log.warning("fail fast: stopping after the items in flight")
                self._stopping = True
        self._report(summary)

    def _count(self, result: dict[str, Any], summary: BatchSummary, stats: dict[int, WorkerStats]) -> None:
        pid = int(result["pid"])
        if pid not in stats:
            stats[pid] = WorkerStats(pid)
            summary.workers.append(stats[pid])
        stats[pid].items += 1
        stats[pid].peak_rss_kb = max(stats[pid].peak_rss_kb, int(result["maxrss_kb"]))

    def _run_inline(
        self, pending: deque[_Entry], writer: ManifestWriter, summary: BatchSummary, threads: int
    ) -> None:
        want_synthesis_threads(threads)
        stats: dict[int, WorkerStats] = {}
        # Progress keeps ticking while one long item runs in this thread (the pool path ticks in its wait).
        idle = threading.Event()
        ticker = threading.Thread(target=self._tick, args=(summary, idle), daemon=True, name="batch-tick")
        ticker.start()
        try:
            while pending and not self._stopping:
                entry = pending.popleft()
                if entry.task is None:
                    assert entry.record is not None
                    self._record(writer, summary, entry.record)
                    continue
                # Libraries that print (coqui) must not reach stdout, which carries the manifest path.
                with contextlib.redirect_stdout(sys.stderr):
                    result = process_task(entry.task)
                self._count(result, summary, stats)
                self._record(writer, summary, result["record"])
        except KeyboardInterrupt:
            self._interrupted = True
            log.warning("interrupted: the item in progress was abandoned")
        finally:
            idle.set()
            ticker.join(2)

    def _tick(self, summary: BatchSummary, done: threading.Event) -> None:
        while not done.wait(_TICK_S):
            self._report(summary)

    def _start_pool(self, jobs: int, threads: int) -> ProcessPoolExecutor:
        ctx = multiprocessing.get_context("spawn")
        level = logging.getLogger("forv_tts").getEffectiveLevel()
        return ProcessPoolExecutor(
            max_workers=jobs, mp_context=ctx, initializer=init_worker, initargs=(threads, level, os.getpid())
        )

    @staticmethod
    def _submit(pool: ProcessPoolExecutor, task: Task) -> Future[dict[str, Any]]:
        # Children are spawned inside submit(); with SIGINT blocked they start life deaf to the Ctrl-C a
        # terminal sends to the whole process group, before their initializer has even run.
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            return pool.submit(worker_task, task)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def _run_pool(
        self, pending: deque[_Entry], writer: ManifestWriter, summary: BatchSummary, jobs: int, threads: int
    ) -> None:
        stats: dict[int, WorkerStats] = {}
        before = {p.pid for p in multiprocessing.active_children()}
        pool = self._start_pool(jobs, threads)
        in_flight: dict[Future[dict[str, Any]], _Entry] = {}
        restarts = 0
        broken = False
        abandoned = False
        cancelled = 0
        try:
            while True:
                while pending and not broken and not self._stopping and len(in_flight) < 2 * jobs:
                    entry = pending[0]
                    if entry.task is None:
                        assert entry.record is not None
                        pending.popleft()
                        self._record(writer, summary, entry.record)
                        continue
                    try:
                        in_flight[self._submit(pool, entry.task)] = entry
                    except BrokenProcessPool:
                        broken = True
                        break
                    pending.popleft()
                if broken and not in_flight:
                    pool.shutdown(wait=True, cancel_futures=True)
                    restarts += 1
                    if restarts > _MAX_POOL_RESTARTS or self._stopping:
                        log.error("worker processes keep dying; stopping (resume the run to finish)")
                        break
                    log.warning("a worker process died; starting new workers")
                    pool = self._start_pool(jobs, threads)
                    broken = False
                    continue
                if not in_flight:
                    break
                if self._stopping and not cancelled:
                    # Items still queued (not started by a worker) are dropped, not waited for.
                    cancelled = sum(fut.cancel() for fut in in_flight)
                finished, _ = wait(in_flight, timeout=_TICK_S, return_when=FIRST_COMPLETED)
                for fut in finished:
                    entry = in_flight.pop(fut)
                    assert entry.task is not None
                    if fut.cancelled():
                        continue
                    try:
                        result = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        record = {**entry.task.record, "status": STATUS_FAILED}
                        record["error"] = "its worker process died (out of memory? see stderr)"
                        record["error_code"] = "worker_died"
                        self._record(writer, summary, record)
                        continue
                    except Exception as err:  # e.g. a result that could not be sent back
                        record = {**entry.task.record, "status": STATUS_FAILED}
                        record["error"] = f"unexpected {type(err).__name__} from a worker: {err}"
                        record["error_code"] = "internal"
                        self._record(writer, summary, record)
                        continue
                    self._count(result, summary, stats)
                    self._record(writer, summary, result["record"])
                if not finished:
                    self._report(summary)
        except KeyboardInterrupt:
            # A second Ctrl-C: abandon the items in flight. Their clips may be written (atomically) but are
            # not recorded, so --resume redoes them under the same name with the same bytes.
            self._interrupted = True
            abandoned = True
            for child in multiprocessing.active_children():
                if child.pid not in before:
                    child.kill()
            log.warning("interrupted: abandoned %d item(s) in flight", len(in_flight))
        finally:
            pool.shutdown(wait=not abandoned, cancel_futures=True)


def run_batch(
    source: BatchInput, options: BatchOptions, progress: ProgressCallback | None = None
) -> BatchSummary:
    """Run a batch to the end; see `BatchRun` for stopping it from a signal handler."""
    return BatchRun(source, options, progress).run()
