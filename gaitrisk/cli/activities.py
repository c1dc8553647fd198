"""``gaitrisk activities`` and ``gaitrisk show``: the stored activities, as a list and one by one."""

from __future__ import annotations

import json

import click

from .app import Context, athlete_name, pass_db


def _fmt_duration(s: float | None) -> str:
    if s is None:
        return "-"
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _num(v: float | None, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def activity_json(rec, review=None) -> dict:
    """The ``activities --json`` contract (one object per activity); ``review``: its
    :class:`~gaitrisk.records.Review` (``null`` status: not screened yet)."""
    from ..times import iso

    return {
        "id": rec.id, "athlete": rec.athlete, "sport": rec.sport, "sub_sport": rec.sub_sport,
        "name": rec.name, "device": rec.device, "format": rec.fmt,
        "start_time": iso(rec.start_time), "duration_s": rec.duration_s, "moving_time_s": rec.moving_time_s,
        "distance_m": rec.distance_m, "avg_cadence_spm": rec.avg_cadence_spm,
        "avg_stance_time_ms": rec.avg_stance_time_ms, "sources": list(rec.sources), "partial": rec.partial,
        "review": review.status if review else None, "review_reason": review.reason if review else None,
    }


@click.command("activities")
@click.option("--athlete", callback=athlete_name, default=None, help="Only this athlete's activities.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list (a stable contract).")
@pass_db
def activities_cmd(obj: Context, athlete: str | None, as_json: bool) -> None:
    """List stored activities, oldest first."""
    with obj.reader() as store:
        recs = store.activities(athlete)
        reviews = store.reviews(athlete)
    if athlete is not None and not recs:
        from .app import no_runs_message

        raise click.ClickException(no_runs_message(athlete, obj.db_path()))
    if as_json:
        click.echo(json.dumps([activity_json(r, reviews.get(r.id)) for r in recs], indent=2))
        return
    if not recs:
        click.echo("No activities stored yet. Try: gaitrisk import PATH")
        return
    from ..textsafe import plain

    header = f"{'id':<12} {'athlete':<10} {'start (UTC)':<16} {'km':>6} {'time':>8} {'timer':>8} {'spm':>5} {'GCT ms':>6} fmt  note"
    click.echo(header)
    for r in recs:
        note = ("partial " if r.partial else "") + (f"{len(r.sources)} sources " if len(r.sources) > 1 else "")
        note += reviews[r.id].label if r.id in reviews else ""
        click.echo(f"{r.id[:12]:<12} {plain(r.athlete)[:10]:<10} {r.start_time:%Y-%m-%d %H:%M} "
                   f"{_num(r.distance_m and r.distance_m / 1000, '6.2f'):>6} {_fmt_duration(r.duration_s):>8} "
                   f"{_fmt_duration(r.moving_time_s):>8} {_num(r.avg_cadence_spm, '5.0f'):>5} "
                   f"{_num(r.avg_stance_time_ms, '6.0f'):>6} {plain(r.fmt):<4} {note}".rstrip())


@click.command("show")
@click.argument("activity_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_db
def show_cmd(obj: Context, activity_id: str, as_json: bool) -> None:
    """Show one activity (ID may be abbreviated): totals, the device's summary, laps and problems."""
    with obj.reader() as store:
        found = store.find(activity_id)
        if not found:
            raise click.ClickException(f"no activity with id {activity_id!r}")
        if len(found) > 1:
            raise click.ClickException(f"id {activity_id!r} is ambiguous ({len(found)} activities); give more characters")
        rec = found[0]
        samples = store.samples(rec.id)
        review = store.reviews(rec.athlete).get(rec.id)
    from ..features.splits import km_splits, lap_splits

    out = activity_json(rec, review)
    out["device_summary"] = rec.summary.as_dict() if rec.summary else None
    out["laps"] = len(rec.laps)
    out["problems"] = list(rec.problems)
    out["samples"] = {"rows": len(samples), "columns": [c for c in samples.columns]}
    splits, laps = km_splits(samples), lap_splits(samples, rec.laps)
    out["splits"] = [x.as_json() for x in splits]
    out["lap_splits"] = [x.as_json() for x in laps]
    if as_json:
        click.echo(json.dumps(out, indent=2, default=str))
        return
    _print_activity(rec, review, splits, laps, samples)


def _print_activity(rec, review, splits, laps, samples) -> None:
    """``show`` for a person: labels, rounded values with units, splits as a table."""
    from .. import units
    from ..textsafe import plain  # names, devices, sources and problems come from the files

    pace = units.pace(rec.moving_time_s / (rec.distance_m / 1000)) if rec.distance_m and rec.moving_time_s else "-"
    sport = rec.sport + (f" ({rec.sub_sport})" if rec.sub_sport not in (None, "generic") else "")
    click.echo(plain(f"activity {rec.id[:12]} of {rec.athlete}"))
    click.echo(plain(f"  name: {rec.name or '-'}"))
    click.echo(plain(f"  {sport}, {rec.start_time:%Y-%m-%d %H:%M} UTC, {units.device_label(rec.device)}, "
                     f"{rec.fmt.upper()}"))
    # The activity's moving time is the timer-running time; the features' (and the report's) also
    # leave out stops, so the words differ (docs/conventions.md).
    click.echo(f"  {units.quantity('distance_m', rec.distance_m)} in {units.duration(rec.duration_s)} "
               f"(timer {units.duration(rec.moving_time_s)}), {pace} on the timer")
    click.echo(f"  cadence {units.quantity('x_spm', rec.avg_cadence_spm)}, "
               f"ground contact {units.quantity('x_ms', rec.avg_stance_time_ms)}")
    status = (review.label or "counts as a run") if review and review.status else "not screened yet"
    reason = f" ({review.reason})" if review and review.reason and review.label else ""
    click.echo(plain(f"  review: {status}{reason}" + ("; partial (damaged file)" if rec.partial else "")))
    for src in rec.sources:
        click.echo(plain(f"  source: {src}"))
    if rec.summary:
        values = [(k, v) for k, v in rec.summary.as_dict().items() if v is not None and k not in ("sport", "sub_sport")]
        click.echo("the device's summary: " + "; ".join(
            plain(f"{units.label(k)} {v if k == 'start_time' else units.quantity(k, v)}") for k, v in values))
    for problem in rec.problems:
        click.echo(plain(f"problem: {problem}"))
    click.echo(plain(f"samples: {len(samples)} rows ({', '.join(samples.columns)})"))
    for title, rows in (("kilometre splits", splits), ("laps (as the device recorded them)", laps)):
        if not rows:
            continue
        click.echo(f"{title}:")
        click.echo(f"  {'#':>3} {'km':>6} {'time':>8} {'pace':>10} {'HR':>4} {'spm':>4} {'elev m':>7}")
        for x in rows:
            elev = "-" if x.elevation_change_m is None else f"{int(round(x.elevation_change_m)):+d}"
            click.echo(f"  {x.index:>3} {x.distance_m / 1000:>6.2f} {units.duration(x.time_s):>8} "
                       f"{units.pace(x.pace_s_per_km):>10} {_num(x.heart_rate_bpm, '.0f'):>4} "
                       f"{_num(x.cadence_spm, '.0f'):>4} {elev:>7}")
