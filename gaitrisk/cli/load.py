"""CLI for the training-load table, the pain log and data gaps (``gaitrisk load``, ``pain``, ``gap``).

A thin layer: parse, call :mod:`gaitrisk.load` / :mod:`gaitrisk.pain` / the store,
print.  pandas is imported only inside the ``load`` command so that
``gaitrisk --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import datetime as dt
import json
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from .app import (DATE, Context, athlete_name, json_option, log_athlete_option, name_store, pass_db, tz_given_option,
                  tz_option)

if TYPE_CHECKING:
    from ..store import Store

# Ids are store-wide: on a command naming one, --athlete only checks whose it is.
owner_option = click.option("--athlete", callback=athlete_name, default=None,
                            help="Whose entry it must be (default: whoever's it is).")


def _owner(store: Store, what: str, table: str, row_id: int, athlete: str | None) -> str:
    """The athlete row ``row_id`` of ``table`` belongs to; refused in one line when there is no such
    row, or when it belongs to someone other than ``athlete``."""
    owner = store.row_owner(table, row_id)
    if owner is None:
        raise click.ClickException(f"no {what} {row_id} in {store.path}")
    if athlete is not None and owner != athlete:
        raise click.ClickException(f"{what} {row_id} belongs to athlete {owner!r}, not {athlete!r}")
    return owner






# -- load ------------------------------------------------------------------------
@click.command("load")
@log_athlete_option
@click.option("--weeks", type=click.IntRange(1, 520), default=12, show_default=True, help="How many weeks to show.")
@click.option("--until", type=DATE, default=None, metavar="YYYY-MM-DD",
              help="Last day of the table (default: the athlete's last day with a run or a pain entry).")
@tz_option
@json_option
@pass_db
def load_cmd(obj: Context, athlete: str, weeks: int, until: dt.date | None, zone: ZoneInfo, as_json: bool) -> None:
    """Weekly training load: distance, change, longest run, spikes, ACWR, monotony, pain.

    Weeks are the 7-day blocks ending on --until (by default the last day with
    a run or a pain entry), counted in local calendar days.  Single-run spikes compare each run with the longest run
    of the 30 days before it (Frandsen 2025): small > 10 %, moderate > 30 %,
    large > 100 %.  The week-to-week change flag is > 30 % (Nielsen 2014).
    ACWR is shown for information only: its evidence for runners is weak.
    A dash means not enough history yet, no data (a gap) or not measured.

    --json prints {"weeks": [...], "runs": [{"id", "start_time", "distance_m",
    "longest_prev_30d_m", "spike_pct", "spike_tier"}, ...]}.
    """
    from ..load.weekly import load_report
    from .app import data_days

    with obj.reader() as store:
        days = data_days(store, athlete, zone)
        report = load_report(store, athlete, zone, days.end(until), weeks)
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
        return
    _print_load(report, days.header_note())


def _fmt(v, spec: str, scale: float = 1.0) -> str:
    return "-" if v is None else format(v / scale if scale != 1.0 else v, spec)


def _print_load(report, header_note: str = "") -> None:
    if not report.weeks:
        click.echo(f"No runs for {report.athlete} up to {report.end}. Try: gaitrisk import PATH --athlete "
                   f"{report.athlete}")
        return
    click.echo(f"Training load of {report.athlete}, weeks ending {report.end} ({report.zone} calendar days)"
               + (f"; {header_note}" if header_note else ""))
    click.echo(f"{'week':<23} {'km':>6} {'chg %':>6} {'jump':>4} {'long km':>7} {'runs':>4} {'spikes':<12} "
               f"{'ACWR':>5} {'EWMA':>5} {'mono':>5} {'pain':>4}  note")
    for w in report.weeks:
        spikes = "-" if not w.spikes else f"{w.spikes} {w.spike_tier_max}"
        if w.spike_tier_max == "insufficient_history" and not w.spikes:
            spikes = "n/h"
        notes = []
        if w.no_data_days:
            notes.append(f"{w.no_data_days}d no data")
        if w.return_to_run:
            notes.append("return to run")
        click.echo(f"{w.week_start} – {w.week_end} {_fmt(w.distance_m, '6.1f', 1000):>6} "
                   f"{_fmt(w.change_pct, '+6.0f'):>6} {'yes' if w.week_jump else ('-' if w.week_jump is None else ''):>4} "
                   f"{_fmt(w.longest_run_m, '7.1f', 1000):>7} {w.runs:>4} {spikes:<12} "
                   f"{_fmt(w.acwr_7_21, '5.2f'):>5} {_fmt(w.acwr_ewma_7_28, '5.2f'):>5} "
                   f"{_fmt(w.monotony, '5.2f'):>5} {_fmt(w.pain_max, '4d'):>4}  {', '.join(notes)}".rstrip())
    click.echo("")
    click.echo("spikes: runs > 10 % longer than the longest run of the previous 30 days (Frandsen 2025); "
               "n/h = not enough history (30 days).")
    click.echo("jump: 7-day distance > 30 % above the reference week, the larger of the previous 7 days and "
               "the 14-day mean week, from 10 km (Nielsen 2014; the mileage_jump flag). "
               "mono: Foster monotony (7 days).")
    for note in report.notes:
        click.echo(f"note: {note}.")


# -- pain --------------------------------------------------------------------------
def _entry_json(e) -> dict:
    from ..times import iso

    local = e.local_time()
    return {"id": e.id, "athlete": e.athlete, "time_utc": iso(e.time_utc),
            "local_date": local.date().isoformat(),
            "local_time": None if e.date_only else local.strftime("%H:%M"), "zone": e.zone,
            "date_only": e.date_only, "score": e.score, "region": e.region, "side": e.side, "when": e.when,
            "behaviour": e.behaviour, "note": e.note}


_REGION_HELP = ("lateral_hip, groin_front_hip, buttock, lateral_knee_itb, knee_front, shin, foot, lower_back, "
                "other (labels such as 'lateral knee/ITB' work too)")
_WHEN_HELP = "during_run, after_run, next_morning, at_rest, at_night"
_BEHAVIOUR_HELP = "how it behaves during a run: warms_up, constant, worsens"


@click.group("pain")
def pain_group() -> None:
    """The pain log: 0-10 scores by region and side, in your local time.

    Scores are the 11-point numeric rating scale (0 = no pain, 10 = worst
    imaginable).  Entries are stored in UTC and shown in your time zone.
    """


@pain_group.command("add")
@click.option("--score", required=True, help="Pain 0-10.")
@click.option("--region", required=True, help=_REGION_HELP)
@click.option("--side", required=True, help="L, R or both.")
@click.option("--when", "when", required=True, help=f"When it hurts: {_WHEN_HELP}.")
@click.option("--behaviour", default=None, help=_BEHAVIOUR_HELP)
@click.option("--note", default=None, help="Free text.")
@click.option("--date", default=None, metavar="YYYY-MM-DD", help="Local date (default: today).")
@click.option("--time", "time_", default=None, metavar="HH:MM",
              help="Local time, optionally with an offset (07:30+02:00). Default: now when --date is not given; "
                   "a --date without --time records the day only.")
@log_athlete_option
@tz_option
@json_option
@pass_db
def pain_add(obj: Context, score, region, side, when, behaviour, note, date, time_, athlete, zone, as_json) -> None:
    """Log how it hurts.

    Example: gaitrisk pain add --score 4 --region "lateral hip" --side R --when after_run
    """
    from ..pain.entry_input import build_entry

    if date is None and time_ is None:
        now = dt.datetime.now(zone)
        date, time_ = now.date().isoformat(), now.strftime("%H:%M")
    elif date is None:
        date = dt.datetime.now(zone).date().isoformat()
    try:
        entry = build_entry(athlete, zone, date=date, time=time_, score=score, region=region, side=side, when=when,
                            behaviour=behaviour, note=note)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    with obj.store() as store:
        (new_id,) = store.add_pain_entries([entry])
    if new_id is None:
        raise click.ClickException("the same entry (time, region, side, when) is already in the log")
    entry = entry.with_id(new_id)
    click.echo(json.dumps(_entry_json(entry), indent=2) if as_json else f"logged pain entry {new_id}")


@pain_group.command("list")
@click.option("--since", type=DATE, default=None, metavar="YYYY-MM-DD", help="Only entries on or after this local day.")
@log_athlete_option
@tz_option
@json_option
@pass_db
def pain_list(obj: Context, since, athlete, zone, as_json) -> None:
    """List pain entries, oldest first."""
    # Local midnight of that day (an aware combine: never ambiguous at midnight in practice).
    lower = None if since is None else dt.datetime.combine(since, dt.time(0, 0), tzinfo=zone).astimezone(dt.timezone.utc)
    with obj.reader() as store:
        entries = store.pain_entries(athlete, since=lower)
    if as_json:
        click.echo(json.dumps([_entry_json(e) for e in entries], indent=2))
        return
    if not entries:
        click.echo(f"No pain entries for {athlete}. Try: gaitrisk pain add --help")
        return
    from ..pain import vocab
    from ..textsafe import plain  # notes come from CSV files and the command line

    click.echo(f"{'id':>5} {'local time':<16} {'score':>5} {'region':<17} {'side':<5} {'when':<13} "
               f"{'behaviour':<9} note")
    for e in entries:
        local = e.time_utc.astimezone(zone)
        # isoformat: strftime("%Y") does not zero-pad a year below 1000
        when = local.date().isoformat() + ("" if e.date_only else local.strftime(" %H:%M"))
        click.echo(f"{e.id:>5} {when:<16} {e.score:>5} {vocab.REGIONS[e.region]:<17} {e.side:<5} "
                   f"{vocab.WHENS[e.when]:<13} {vocab.BEHAVIOURS.get(e.behaviour or '', '-'):<9} "
                   f"{plain(e.note or '')}".rstrip())


@pain_group.command("edit")
@click.argument("entry_id", type=int)
@click.option("--score", default=None, help="Pain 0-10.")
@click.option("--region", default=None, help=_REGION_HELP)
@click.option("--side", default=None, help="L, R or both.")
@click.option("--when", "when", default=None, help=f"When it hurts: {_WHEN_HELP}.")
@click.option("--behaviour", default=None, help=_BEHAVIOUR_HELP + " ('' clears it)")
@click.option("--note", default=None, help="Free text ('' clears it).")
@click.option("--date", default=None, metavar="YYYY-MM-DD", help="New local date.")
@click.option("--time", "time_", default=None, metavar="HH:MM", help="New local time ('' makes it a date-only entry).")
@owner_option
@tz_given_option
@json_option
@pass_db
def pain_edit(obj: Context, entry_id, score, region, side, when, behaviour, note, date, time_, athlete, zone,
              as_json) -> None:
    """Change fields of entry ENTRY_ID (see `gaitrisk pain list`); other fields stay."""
    from ..times import resolve_zone
    from ..pain.entry_input import build_entry

    with obj.store() as store:
        name_store(store)
        athlete = _owner(store, "pain entry", "pain_entries", entry_id, athlete)
        old = store.pain_entry(athlete, entry_id)
        # Re-enter the time in the zone it was logged in, unless the user names another.
        zone = zone or resolve_zone(old.zone)
        local = old.time_utc.astimezone(zone)
        keep_time = None if old.date_only else local.strftime("%H:%M:%S")
        try:
            entry = build_entry(
                athlete, zone, date=date if date is not None else local.date().isoformat(),
                time=time_ if time_ is not None else keep_time,
                score=score if score is not None else old.score, region=region or old.region,
                side=side or old.side, when=when or old.when,
                behaviour=behaviour if behaviour is not None else old.behaviour,
                note=note if note is not None else old.note).with_id(entry_id)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        try:
            store.update_pain_entry(entry)
        except sqlite3.IntegrityError as exc:
            raise click.ClickException("another entry already has this time, region, side and when") from exc
    click.echo(json.dumps(_entry_json(entry), indent=2) if as_json else f"updated pain entry {entry_id}")


@pain_group.command("delete")
@click.argument("entry_id", type=int)
@owner_option
@pass_db
def pain_delete(obj: Context, entry_id, athlete) -> None:
    """Delete entry ENTRY_ID (see `gaitrisk pain list`)."""
    with obj.store() as store:
        name_store(store)
        athlete = _owner(store, "pain entry", "pain_entries", entry_id, athlete)
        if not store.delete_pain_entry(athlete, entry_id):
            raise click.ClickException(f"no pain entry {entry_id} for {athlete}")
    click.echo(f"deleted pain entry {entry_id}")



@pain_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--strict", is_flag=True, help="All or nothing: store no row when any row is bad.")
@log_athlete_option
@tz_option
@json_option
@pass_db
def pain_import(obj: Context, file, strict, athlete, zone, as_json) -> None:
    """Import pain entries from a CSV file (columns: see docs/pain_csv.md).

    Required columns: date, score, region, side, when; optional: time, behaviour,
    note.  Each bad row is reported with its line number and reason; the good rows
    are stored (with --strict: nothing is stored when any row is bad).  Rows already
    in the log count as duplicates.  Times are local (--tz).
    """
    from ..pain.csvio import read_pain_file

    path = Path(file)
    parsed = read_pain_file(path, athlete, zone)
    if parsed.fatal:
        raise click.ClickException(f"{path.name}: {parsed.fatal}; nothing imported")
    stored: list[int | None] = []
    if not (strict and parsed.errors):
        with obj.store() as store:
            stored = store.add_pain_entries([e for _, e in parsed.entries])
    imported = sum(1 for i in stored if i is not None)
    result = {"imported": imported, "duplicates": len(stored) - imported,
              "rejected": [{"line": e.line, "reason": e.reason} for e in parsed.errors]}
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(f"{imported} imported, {result['duplicates']} duplicate, {len(parsed.errors)} rejected")
        from ..textsafe import plain

        for e in parsed.errors:
            click.echo(plain(f"  {path.name}, line {e.line}: {e.reason}"), err=True)
    if strict and parsed.errors:
        raise click.ClickException(f"{len(parsed.errors)} bad row(s) and --strict: nothing imported")
    if parsed.errors and not stored:
        raise click.ClickException("no row could be imported")


# -- gaps --------------------------------------------------------------------------
@click.group("gap")
def gap_group() -> None:
    """Spans without data (watch not worn, nothing uploaded).

    Days inside a gap count as "no data" in the load metrics instead of rest
    days with 0 km, so a forgotten watch does not look like a week off.
    """


def _gap_json(g) -> dict:
    return {"id": g.id, "athlete": g.athlete, "from": g.first_day.isoformat(), "to": g.last_day.isoformat(),
            "days": g.days, "reason": g.reason}


@gap_group.command("add")
@click.option("--from", "first", type=DATE, required=True, metavar="YYYY-MM-DD", help="First day without data (local).")
@click.option("--to", "last", type=DATE, required=True, metavar="YYYY-MM-DD", help="Last day without data (inclusive).")
@click.option("--reason", default=None, help="Why, e.g. 'watch broken'.")
@log_athlete_option
@json_option
@pass_db
def gap_add(obj: Context, first, last, reason, athlete, as_json) -> None:
    """Declare local calendar days --from .. --to (inclusive) as having no data."""
    from ..records import DataGap

    try:
        gap = DataGap(athlete=athlete, first_day=first, last_day=last, reason=reason)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    with obj.store() as store:
        gap_id = store.add_gap(gap)
    gap = DataGap(athlete, gap.first_day, gap.last_day, reason, gap_id)
    click.echo(json.dumps(_gap_json(gap), indent=2) if as_json else
               f"gap {gap_id}: {gap.first_day} to {gap.last_day} ({gap.days} days) marked as no data")


@gap_group.command("list")
@log_athlete_option
@json_option
@pass_db
def gap_list(obj: Context, athlete, as_json) -> None:
    """List declared gaps."""
    with obj.reader() as store:
        gaps = store.gaps(athlete)
    if as_json:
        click.echo(json.dumps([_gap_json(g) for g in gaps], indent=2))
        return
    if not gaps:
        click.echo(f"No gaps declared for {athlete}.")
        return
    for g in gaps:
        click.echo(f"{g.id:>4}  {g.first_day} to {g.last_day}  {g.days:>3} days  {g.reason or ''}".rstrip())


@gap_group.command("delete")
@click.argument("gap_id", type=int)
@owner_option
@pass_db
def gap_delete(obj: Context, gap_id, athlete) -> None:
    """Delete gap GAP_ID (see `gaitrisk gap list`)."""
    with obj.store() as store:
        name_store(store)
        athlete = _owner(store, "gap", "data_gaps", gap_id, athlete)
        if not store.delete_gap(athlete, gap_id):
            raise click.ClickException(f"no gap {gap_id} for {athlete}")
    click.echo(f"deleted gap {gap_id}")
