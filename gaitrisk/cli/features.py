"""CLI for athlete profiles and per-run features (``gaitrisk athlete``, ``gaitrisk features``).

A thin layer: parsing and printing only; the work is in :mod:`gaitrisk.features`.
pandas/numpy are imported inside the commands so that ``gaitrisk --help`` stays fast.
"""

from __future__ import annotations

import json
import sys

import click

from .app import athlete_name, make_executor, name_store, pass_db, recompute, scheduler_option, workers_option


@click.group("athlete")
def athlete_group() -> None:
    """Athlete profile: height, leg length, mass, birth year, driving side, road-side habit.

    Features that need a value you have not set use a documented default and say so
    (``gaitrisk athlete show``, and the ``profile_notes`` of every feature record).
    """


@athlete_group.command("set")
@click.option("--athlete", callback=athlete_name, default="me", show_default=True, help="Whose profile.")
@click.option("--height-cm", "--height", "height_cm", type=float, default=None, help="Body height in cm.")
@click.option("--leg-length-cm", type=float, default=None,
              help="Leg length (greater trochanter to floor) in cm; default 0.53 x height.")
@click.option("--mass-kg", type=float, default=None, help="Body mass in kg.")
@click.option("--birth-year", type=int, default=None, help="Year of birth.")
@click.option("--driving-side", type=click.Choice(["right", "left"]), default=None,
              help="Which side traffic drives on where you run (default right).")
@click.option("--road-side", type=click.Choice(["facing", "with", "left", "right", "mixed"]), default=None,
              help="Which side of the road you usually keep to: facing or with traffic (with --driving-side), "
                   "or left, right or mixed as seen in your direction of running.  Unset: facing traffic, "
                   "taken as an assumption (camber exposure shown as assumed, never flagged).")
@click.option("--hr-max", "--max-hr", "hr_max", type=float, default=None,
              help="Maximum heart rate, beats/min (the HR zones' reference; unset: from the data or the age).")
@click.option("--hr-threshold", type=float, default=None, help="Threshold heart rate, beats/min.")
@click.option("--threshold-pace", callback=lambda _c, _p, v: pace_mps(v), default=None, metavar="M:SS",
              help="Threshold pace per km (the pace zones' reference; unset: the best 20 min of the data).")
@pass_db
def athlete_set(obj, athlete: str, height_cm, leg_length_cm, mass_kg, birth_year, driving_side, road_side,
                hr_max, hr_threshold, threshold_pace) -> None:
    """Set profile values (only those given change).  The athlete's feature records are
    computed again under the new profile."""
    from ..features.profile import PLAUSIBLE, AthleteProfile

    given = {"height_m": height_cm, "leg_length_m": leg_length_cm, "mass_kg": mass_kg, "hr_max_bpm": hr_max,
             "hr_threshold_bpm": hr_threshold}
    for name, value in given.items():
        problem = out_of_range(name, value)
        if problem:
            raise click.BadParameter(problem)
    slow, fast = PLAUSIBLE["threshold_speed_mps"]
    if threshold_pace is not None and not slow <= threshold_pace <= fast:
        raise click.BadParameter(f"--threshold-pace {_pace(threshold_pace)} is outside {_pace(fast)}-{_pace(slow)} "
                                 "per km")
    with obj.store() as store:
        name_store(store)
        current = AthleteProfile.from_dict(store.profile(athlete))
        try:
            new = current.updated(height_m=height_cm / 100 if height_cm is not None else None,
                                  leg_length_m=leg_length_cm / 100 if leg_length_cm is not None else None,
                                  mass_kg=mass_kg, birth_year=birth_year, driving_side=driving_side,
                                  road_side=road_side, hr_max_bpm=hr_max, hr_threshold_bpm=hr_threshold,
                                  threshold_speed_mps=threshold_pace)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from exc
        store.set_profile(athlete, new.as_dict())
        n = recompute(store, athlete)
    click.echo(f"profile of {athlete} saved; {n} feature record(s) computed again")


# The options given in the user's units: profile field -> (option, user units per profile unit, unit).
USER_UNITS = {"height_m": ("--height-cm", 100, "cm"), "leg_length_m": ("--leg-length-cm", 100, "cm"),
              "mass_kg": ("--mass-kg", 1, "kg"), "hr_max_bpm": ("--hr-max", 1, "beats/min"),
              "hr_threshold_bpm": ("--hr-threshold", 1, "beats/min")}


def out_of_range(name: str, value: float | None) -> str | None:
    """What is wrong with ``value`` (in the unit of its option) for profile field ``name``, in that
    unit; None when it is unset or plausible."""
    from ..features.profile import PLAUSIBLE

    if value is None:
        return None
    option, factor, unit = USER_UNITS[name]
    lo, hi = (v * factor for v in PLAUSIBLE[name])
    if lo <= value <= hi:
        return None
    return f"{option} {value:g} is outside {lo:g}-{hi:g} {unit}"


def _pace(mps: float) -> str:
    seconds = round(1000.0 / mps)
    return f"{seconds // 60}:{seconds % 60:02d}"


def pace_mps(value: str | None) -> float | None:
    """``M:SS`` per km as m/s (``None`` stays ``None``)."""
    if value is None:
        return None
    m, sep, sec = value.strip().partition(":")
    try:
        seconds = int(m) * 60 + float(sec) if sep else float("nan")
    except ValueError:
        seconds = float("nan")
    if not seconds > 0 or not 0 <= float(sec) < 60:
        raise click.BadParameter(f"{value!r} is not a pace per km as M:SS (e.g. 4:30)")
    return 1000.0 / seconds


@athlete_group.command("show")
@click.option("--athlete", callback=athlete_name, default="me", show_default=True, help="Whose profile.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: the stored values, the resolved ones and notes.")
@pass_db
def athlete_show(obj, athlete: str, as_json: bool) -> None:
    """Show the profile, the values features will use and which defaults fill the gaps."""
    from ..features.profile import AthleteProfile, resolve

    with obj.reader() as store:
        stored = store.profile(athlete)
    prof = AthleteProfile.from_dict(stored)
    res = resolve(prof)
    out = {"athlete": athlete, "stored": prof.as_dict(),
           "resolved": {k: v for k, v in res.__dict__.items() if k != "notes"} | {"low_side_foot": res.low_side_foot},
           "notes": list(res.notes)}
    if as_json:
        click.echo(json.dumps(out, indent=2))
        return
    click.echo(f"athlete: {athlete}")
    for k, v in out["resolved"].items():
        set_ = out["stored"].get(k) is not None
        derived = k in ('age_years', 'low_side_foot', 'road_side_declared')
        click.echo(f"  {setting_label(k)}: {setting_value(v)}{'' if set_ or derived else '  (default)'}")
    for n in res.notes:
        key, sep, rest = n.partition(": ")
        click.echo(f"  note: {setting_label(key)}{sep}{rest}" if sep and " " not in key else f"  note: {n}")


# Profile keys end in their unit; the text names the unit in words (JSON keeps the keys).
UNIT_WORDS = (("_s_per_km", "s/km"), ("_bpm", "beats/min"), ("_years", "years"), ("_kg", "kg"), ("_m", "m"))


def setting_label(key: str) -> str:
    """A profile key as words with its unit: ``leg_length_m`` -> "leg length (m)"."""
    for suffix, unit in UNIT_WORDS:
        if key.endswith(suffix):
            return f"{key[:-len(suffix)].replace('_', ' ')} ({unit})"
    return key.replace("_", " ")


def setting_value(v) -> str:
    """A resolved profile value as text: yes/no, 3 significant digits, "-" for unknown."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def _fmt(v, spec: str = ".1f") -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return format(v, spec)
    return str(v)


@click.command("features")
@click.argument("activity_id", required=False)
@click.option("--update", is_flag=True, help="Compute features for runs that have none or stale ones.")
@click.option("--force", is_flag=True, help="With --update: recompute every run.")
@click.option("--athlete", callback=athlete_name, default=None, help="With --update: only this athlete.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the feature record; a stable contract).")
@workers_option
@scheduler_option
@pass_db
def features_cmd(obj, activity_id: str | None, update: bool, force: bool, athlete: str | None, as_json: bool,
                 workers: int, scheduler: str | None) -> None:
    """Per-run gait, terrain, camber and intensity features.

    ``gaitrisk features --update`` computes them for every stored run (again
    when gaitrisk's feature version or your profile changed);
    ``gaitrisk features ID`` prints one run's record (ID may be abbreviated).
    Values that cannot be computed from a file are null / "-".
    """
    if not update and not activity_id:
        raise click.UsageError("give an ACTIVITY_ID or --update")
    with (obj.store() if update else obj.reader()) as store:
        if update:
            from ..features.compute import compute_and_store_features
            from ..features.status import stale_count

            show = not (obj.quiet or as_json) and sys.stderr.isatty()
            names = [athlete] if athlete else store.athletes()
            total = (sum(len(store.activities(a)) for a in names) if force
                     else sum(stale_count(store, a) for a in names))
            executor = make_executor(workers, scheduler)
            try:
                with click.progressbar(length=total if show else 0, label="Features", file=sys.stderr,
                                       hidden=not show, show_pos=True) as bar:
                    report = compute_and_store_features(store, athlete, force=force, executor=executor,
                                                        on_run=lambda _id: bar.update(1))
            finally:
                getattr(executor, "close", lambda: None)()
            if as_json and not activity_id:
                click.echo(json.dumps(report.as_json(), indent=2))
            elif not as_json:
                click.echo(f"{report.computed} computed, {report.up_to_date} up to date, {len(report.failed)} failed")
                for f in report.failed:
                    click.echo(f"  failed: {f['activity_id']}: {f['reason']}", err=True)
        if not activity_id:
            return
        found = store.find(activity_id)
        if not found:
            raise click.ClickException(f"no activity with id {activity_id!r}")
        if len(found) > 1:
            raise click.ClickException(
                f"id {activity_id!r} is ambiguous ({len(found)} activities); give more characters")
        row = store.features(found[0].id)
    if row is None:
        raise click.ClickException(f"no features for {found[0].id} yet; run: gaitrisk features --update")
    rec = {k: v for k, v in row[1].items() if not k.startswith("_")}  # "_" keys: the feature code's cache
    if as_json:
        click.echo(json.dumps(rec, indent=2, sort_keys=True))
        return
    from ..units import duration, pace, quantity

    reps = rec.get("speed_work_reps")
    lines = [
        ("distance / moving", f"{quantity('distance_m', rec['distance_m'])} in {duration(rec['moving_time_s'])} "
                              f"(paused {duration(rec['pause_s'])}, stopped {duration(rec['stopped_s'])})"),
        ("cadence", f"{_fmt(rec['cadence_spm'])} spm; level residual {_fmt(rec['cadence_residual_pct'])} % "
                    f"vs {rec['cadence_baseline'] or '-'} model"),
        ("step length", f"{_fmt(rec['step_length_m'], '.2f')} m ({rec['step_length_source'] or '-'})"),
        ("GCT", f"{_fmt(rec['gct_ms'], '.0f')} ms ({rec['gct_source'] or '-'}); "
                f"balance {_fmt(rec['gct_balance_pct'])} %"),
        ("overstride score", f"{_fmt(rec['overstride_score'], '.2f')} {'; '.join(rec['overstride_flags'])}"),
        ("ascent / descent", f"{_fmt(rec['ascent_m'], '.0f')} / {_fmt(rec['descent_m'], '.0f')} m; "
                             f"<= -5 %: {_fmt(rec['distance_m_grade_le_minus5'], '.0f')} m"),
        ("GAP", f"{pace(rec['gap_pace_s_per_km'])} "
                f"({quantity('gap_distance_m', rec['gap_distance_m'])} grade-adjusted)"),
        ("track CCW / CW", f"{_fmt(rec['track_ccw_m'], '.0f')} / {_fmt(rec['track_cw_m'], '.0f')} m"),
        ("road left / right low", f"{_fmt(rec['road_left_low_m'], '.0f')} / {_fmt(rec['road_right_low_m'], '.0f')} m "
                                  f"({rec['road_low_side_source'] or '-'})"),
        ("surface", f"{rec['surface']} ({rec['surface_reason']}); long run: {'yes' if rec['long_run'] else 'no'}; "
                    f"speed work {duration(rec['speed_work_s']) if reps else 'none'}"
                    + (f" in {reps} reps" if reps else "")),
        ("HR zones 1-5", ", ".join(duration(v) for v in rec["hr_zone_s"]) if rec["hr_zone_s"] else "-"),
        ("pace zones 1-5", ", ".join(duration(v) for v in rec["pace_zone_s"]) if rec.get("pace_zone_s") else "-"),
    ]
    for k, v in lines:
        click.echo(f"{k + ':':<22} {v}")
    for n in rec["profile_notes"]:
        click.echo(f"note: {n}")
