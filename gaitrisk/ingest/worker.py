"""The per-file work of an import: read, decode, check, summarise and encode one file.

Pure: no store access, plain picklable values in (:class:`Job`) and out (:class:`Done`), so
that it runs in this process, a local pool or on a Dask cluster alike
(:mod:`gaitrisk.executor`).  No DataFrame crosses back: each run comes back as its record
and its encoded samples, with what the job's leg hook made of the samples while they were
in memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable

from .. import schema as S
from ..plausible import EARLIEST_START, FUTURE_SLACK_S
from ..records import ActivityRecord, DecodedActivity, DecodeResult
from ..store import codec
from .decoders import Decoders
from .sources import Limits, SourceProblem, read_plain
from .sports import sub_sport_of

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

# (record, samples) -> anything picklable; see import_paths.
LegHook = Callable[[ActivityRecord, "pd.DataFrame"], Any]

# Plausibility limits: beyond them the clock or the file is wrong, not the runner.  Such an
# activity fails with a one-line reason instead of entering the load metrics with wrong numbers.
MAX_ACTIVITY_S = 4 * 86400.0  # one recording longer than 4 days (multi-day races stop the watch)


# Seconds of one core a file costs (read, decode, check, encode, the features' run pass): a
# fixed part and a part per byte, by format.  Only the choice between this process and a
# pool uses it (:class:`gaitrisk.executor.WorkAwareExecutor`), so a rough fit will do: CPU
# time over the real files of ../shared/real-data on the 2-core development machine, the FIT
# bytes weighed up because a compact FIT file (a one-hour run at 1 s in 140 kB, 30 ms of work)
# holds three times the records of the real files' average (116 B a record).
FILE_WORK_S = {"fit": 0.003, "gpx": 0.004, "tcx": 0.010}
BYTE_WORK_S = {"fit": 100e-9, "gpx": 65e-9, "tcx": 40e-9}


def estimated_work(fmt: str, size: int) -> float:
    """The seconds of one core a ``size``-byte file of format ``fmt`` is expected to cost."""
    return (FILE_WORK_S.get(fmt, max(FILE_WORK_S.values()))
            + size * BYTE_WORK_S.get(fmt, max(BYTE_WORK_S.values())))


@dataclass(frozen=True)
class Job:
    """One file's work, in plain picklable values so it can run in another process.

    ``data`` is ``None`` when the worker reads ``path`` itself (``ship="paths"``); the worker
    then also computes ``sha256``.
    """

    name: str
    fmt: str
    data: bytes | None
    meta: dict[str, str]
    sha256: str | None
    decoders: Decoders
    athlete: str
    path: str | None = None
    limits: Limits = field(default_factory=Limits)
    leg_hook: LegHook | None = None
    work: float | None = None  # :func:`estimated_work`, for the executor's choice


@dataclass(frozen=True)
class Leg:
    """One activity of a file ready to store (record + encoded samples), or why it was refused."""

    fmt: str
    leg_index: int
    record: ActivityRecord | None = None
    samples: codec.Encoded | None = None
    refused: str | None = None
    hooked: Any = None  # what the job's leg_hook returned (None: no hook, or it failed)


@dataclass(frozen=True)
class Done:
    """A worker's answer for one file: small and picklable (no DataFrame crosses back)."""

    name: str
    sha256: str | None
    size: int
    error: str | None = None
    skipped_reason: str | None = None
    partial: bool = False
    problems: tuple[str, ...] = ()
    legs: tuple[Leg, ...] = ()
    prechecked: bool = True  # the parent already looked these bytes up in the store


@dataclass(frozen=True)
class Decoded:
    job: Job
    result: DecodeResult


def decode_job(job: Job) -> Decoded:
    """Decode one job that carries its bytes: pure, no store access."""
    assert job.data is not None
    return Decoded(job, job.decoders.decode(job.fmt, job.data, job.name))


def process_job(job: Job) -> Done:
    """Runs in a worker: read (``ship="paths"``), decode, check, summarise and encode; no store access."""
    prechecked = job.sha256 is not None
    if job.data is None:
        read = read_plain(job.path or job.name, job.limits)
        if isinstance(read, SourceProblem):
            return Done(job.name, None, 0, error=read.reason, prechecked=False)
        job = replace(job, data=read, sha256=hashlib.sha256(read).hexdigest())
    data, sha = job.data, job.sha256
    assert data is not None and sha is not None
    res = decode_job(job).result
    legs: list[Leg] = []
    if not res.error:
        for act in res.activities:
            why = _implausible(act)
            if why:
                legs.append(Leg(act.fmt, act.leg_index, refused=why))
                continue
            rec = record_of(job.athlete, act, sha, job.name, res, job.meta.get("activity_name"),
                          job.meta.get("activity_type"))
            legs.append(Leg(act.fmt, act.leg_index, rec, codec.encoded(act.samples), hooked=_hooked(job, rec, act)))
    return Done(job.name, sha, len(data), res.error, res.skipped_reason, res.partial, tuple(res.problems),
                tuple(legs), prechecked)


def _hooked(job: Job, rec: ActivityRecord, act: DecodedActivity) -> Any:
    """``job.leg_hook`` on the leg while its samples are in memory; ``None`` if it raises (the
    caller then does that work from the store, where the same failure is reported)."""
    if job.leg_hook is None:
        return None
    try:
        return job.leg_hook(rec, act.samples)
    except Exception:  # noqa: BLE001 - the hook's work is redone, and its failure reported, from the store
        log.debug("leg hook failed for %s", rec.id, exc_info=True)
        return None


def activity_id(athlete: str, sha256: str, leg_index: int) -> str:
    """Stable id: the same file imported for the same athlete always gets the same id."""
    return hashlib.sha256(f"{athlete}\0{sha256}\0{leg_index}".encode()).hexdigest()[:16]


def _implausible(act: DecodedActivity) -> str | None:
    """A one-line reason when an activity's times cannot be true, else ``None``."""
    ts = act.samples[S.TIMESTAMP]
    if ts.empty:
        return None
    first, last = ts.iloc[0], ts.iloc[-1]  # pandas Timestamps, UTC
    span = (last - first).total_seconds()
    if first < EARLIEST_START:
        return (f"starts {first:%Y-%m-%d %H:%M} UTC, before {EARLIEST_START:%Y} (the watch's clock was "
                f"not set?); not imported")
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=FUTURE_SLACK_S)
    if last > future:
        which, when = ("starts", first) if first > future else ("ends", last)
        return f"{which} {when:%Y-%m-%d %H:%M} UTC, in the future (the watch's clock is wrong?); not imported"
    if span > MAX_ACTIVITY_S:
        return (f"one recording spans {span / 86400:.1f} days ({first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC), "
                f"over the {MAX_ACTIVITY_S / 86400:g}-day limit for an activity (a clock error?); not imported")
    return None


def record_of(athlete: str, act: DecodedActivity, sha256: str, name: str, res: DecodeResult,
              strava_name: str | None = None, strava_type: str | None = None) -> ActivityRecord:
    """The record the store keeps of one decoded activity (its totals from its samples)."""
    from .frame import totals  # numpy/pandas: only where files are decoded

    t = totals(act.samples)
    # A file's own sub-sport wins; Strava's "Trail Run" says trail where the file says nothing.
    sub_sport = act.sub_sport if act.sub_sport not in (None, "generic") else sub_sport_of(strava_type) or act.sub_sport
    return ActivityRecord(
        id=activity_id(athlete, sha256, act.leg_index), athlete=athlete, fmt=act.fmt, sport=act.sport,
        sub_sport=sub_sport, device=act.device, name=strava_name or act.name, start_time=act.start_time,
        duration_s=t["duration_s"], moving_time_s=t["moving_time_s"], distance_m=t["distance_m"],
        avg_cadence_spm=t["avg_cadence_spm"], avg_stance_time_ms=t["avg_stance_time_ms"], partial=res.partial,
        sources=(name,), laps=act.laps, summary=act.summary, problems=tuple(res.problems))
