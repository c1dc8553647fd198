"""CLI for the weekly OSTRC questionnaire: ``gaitrisk pain week``, ``pain weeks``, ``pain week-import``.

A thin layer over :mod:`gaitrisk.pain.ostrc`: ask or read the four answers, store,
print.  Registered on the ``pain`` group.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from ..vocab import REGIONS
from .app import DATE, Context, json_option, log_athlete_option, pass_db, tz_option

_AREA_HELP = f"Body area, a pain-log region: {', '.join(REGIONS)} (labels such as 'lateral knee/ITB' work too)."






def week_json(w) -> dict:
    return {"id": w.id, "athlete": w.athlete, "week_start": w.week.isoformat(), "area": w.area,
            "participation": w.participation, "training": w.training, "performance": w.performance,
            "symptoms": w.symptoms, "severity": w.severity, "substantial": w.substantial,
            "entered_at": w.entered_at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "note": w.note}


def _ask(area_label: str) -> dict[str, int | None]:
    """The four questions as numbered prompts; questions 2-4 only when question 1 does not end it."""
    from ..pain import ostrc
    from ..records import skips_rest

    answers: dict[str, int | None] = dict.fromkeys(ostrc.NAMES)
    for i, (name, stem, options) in enumerate(ostrc.QUESTIONS):
        click.echo(f"\n{i + 1}. {stem.format(area=area_label)}")
        for k, text in enumerate(options):
            click.echo(f"   {k}  {text.format(area=area_label)}")
        answers[name] = click.prompt("answer", type=click.IntRange(0, 3))
        if i == 0 and skips_rest(answers[name]):  # type: ignore[arg-type]
            break
    return answers


_ANSWER_HELP = "Option 0-3 of question {n} ({what}); asked interactively when no answer option is given."


@click.command("week")
@click.option("--area", required=True, help=_AREA_HELP)
@click.option("--week", "week_day", type=DATE, default=None, metavar="YYYY-MM-DD",
              help="Any day of the week the answers describe (default: this week); stored as its Monday.")
@click.option("--participation", default=None, help=_ANSWER_HELP.format(n=1, what="participation"))
@click.option("--training", default=None, help=_ANSWER_HELP.format(n=2, what="training modified") +
              " Not asked when participation is 0 or 3.")
@click.option("--performance", default=None, help=_ANSWER_HELP.format(n=3, what="performance affected"))
@click.option("--symptoms", default=None, help=_ANSWER_HELP.format(n=4, what="pain"))
@click.option("--note", default=None, help="Free text.")
@log_athlete_option
@tz_option
@json_option
@pass_db
def pain_week(obj: Context, area, week_day, participation, training, performance, symptoms, note, athlete, zone,
              as_json) -> None:
    """Answer the weekly OSTRC overuse-injury questionnaire (OSTRC-O2) for one body area.

    Four questions about the past 7 days, each with options 0-3; the severity score
    is 0-100 and a "substantial problem" is one that stopped you or reduced training
    or performance to a moderate or major extent (Clarsen 2020).  Without answer
    options the questions are asked one by one.  A new answer for the same week and
    area replaces the old one.

    Example: gaitrisk pain week --area "lateral hip" --participation 1 --training 2 --performance 1 --symptoms 2
    """
    from ..pain import ostrc, vocab

    day = week_day or dt.datetime.now(zone).date()
    try:
        code = vocab.region(area)
    except ValueError as exc:
        raise click.ClickException(f"--area: {exc}".replace("region", "area", 1)) from exc
    given = {"participation": participation, "training": training, "performance": performance,
             "symptoms": symptoms}
    if all(v is None for v in given.values()):
        click.echo(f"OSTRC weekly questionnaire, {vocab.REGIONS[code]}, week of {ostrc.week_start(day)}")
        given = _ask(vocab.REGIONS[code])  # type: ignore[assignment]
    try:
        week = ostrc.build_week(athlete, day=day, area=code, note=note, **given)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    with obj.store() as store:
        (replaced,) = store.put_ostrc_weeks([week])
        (week,) = [w for w in store.ostrc_weeks(athlete, since=week.week, until=week.week) if w.area == code]
    if as_json:
        click.echo(json.dumps(week_json(week) | {"replaced": replaced}, indent=2))
        return
    click.echo(f"{'replaced' if replaced else 'saved'} the week of {week.week}, {vocab.REGIONS[code]}: "
               f"severity {week.severity}/100, substantial problem: {'yes' if week.substantial else 'no'}")


@click.command("weeks")
@click.option("--since", type=DATE, default=None, metavar="YYYY-MM-DD", help="Only weeks starting on or after this day.")
@log_athlete_option
@json_option
@pass_db
def pain_weeks(obj: Context, since, athlete, as_json) -> None:
    """List the weekly OSTRC answers, oldest week first, with severity and substantial problems."""
    from ..pain import vocab
    from ..textsafe import plain

    with obj.reader() as store:
        weeks = store.ostrc_weeks(athlete, since=since)
    if as_json:
        click.echo(json.dumps([week_json(w) for w in weeks], indent=2))
        return
    if not weeks:
        click.echo(f"No weekly OSTRC answers for {athlete}. Try: gaitrisk pain week --help")
        return
    click.echo(f"{'week of':<10}  {'area':<17} {'answers':<7} {'severity':>8}  substantial  note")
    for w in weeks:
        answers = " ".join("-" if a is None else str(a) for a in w.answers)
        click.echo(f"{w.week.isoformat():<10}  {vocab.REGIONS[w.area]:<17} {answers:<7} {w.severity:>4}/100  "
                   f"{'YES' if w.substantial else 'no':<11}  {plain(w.note or '')}".rstrip())


@click.command("week-import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--strict", is_flag=True, help="All or nothing: store no row when any row is bad.")
@log_athlete_option
@json_option
@pass_db
def pain_week_import(obj: Context, file, strict, athlete, as_json) -> None:
    """Import weekly OSTRC answers from a CSV file (columns: see docs/pain_csv.md).

    Required columns: week, area, participation; optional: training, performance,
    symptoms, note.  Each bad row is reported with its line number and reason; the
    good rows are stored in one transaction (with --strict: nothing is stored when any
    row is bad).  An answer for a week and area already stored replaces it.
    """
    from ..pain.ostrc_csv import read_ostrc_file
    from ..textsafe import plain

    path = Path(file)
    try:
        parsed = read_ostrc_file(path, athlete)
    except OSError as exc:
        raise click.ClickException(f"{path.name}: cannot read ({exc.strerror or exc}); nothing imported") from exc
    if parsed.fatal:
        raise click.ClickException(plain(f"{path.name}: {parsed.fatal}; nothing imported"))
    replaced: list[bool] = []
    if not (strict and parsed.errors):
        with obj.store() as store:
            replaced = store.put_ostrc_weeks([w for _, w in parsed.weeks])
    result = {"imported": len(replaced), "replaced": sum(replaced),
              "rejected": [{"line": e.line, "reason": e.reason} for e in parsed.errors]}
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(f"{len(replaced)} imported ({sum(replaced)} replacing earlier answers), "
                   f"{len(parsed.errors)} rejected")
        for e in parsed.errors:
            click.echo(plain(f"  {path.name}, line {e.line}: {e.reason}"), err=True)
    if strict and parsed.errors:
        raise click.ClickException(f"{len(parsed.errors)} bad row(s) and --strict: nothing imported")
    if parsed.errors and not replaced:
        raise click.ClickException("no row could be imported")
