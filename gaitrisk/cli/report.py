"""``gaitrisk report``: the risk report of one athlete or all, as text, JSON, HTML or Markdown.

A thin layer over :mod:`gaitrisk.report`; pandas, rich and matplotlib are imported
inside the command so that ``gaitrisk --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import sys
from zoneinfo import ZoneInfo

import click

from .app import DATE, Context, athlete_name, model_file, model_option, pass_db, tz_option


@click.command("report")
@click.option("--athlete", callback=athlete_name, default=None, help="Whose report (default: me).")
@click.option("--all", "all_athletes", is_flag=True, help="Every athlete in the store, one after the other.")
@click.option("--since", type=DATE, default=None, metavar="YYYY-MM-DD",
              help="First day shown (default: 8 weeks before the report day).")
@click.option("--until", type=DATE, default=None, metavar="YYYY-MM-DD",
              help="Report day (default: today; capped at the athlete's last day with data).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html", "markdown"]), default="text",
              show_default=True, help="text: terminal tables; json: the versioned contract "
              "(gaitrisk/report/report.schema.json); html: one self-contained file with plots; markdown.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file (created readable by you only) instead of standard output.")
@click.option("--with-maps", is_flag=True,
              help="Include route sketches (HTML, JSON); the first and last 500 m of each route are cut off. "
                   "Without it the report holds no positions at all.")
@tz_option
@model_option
@pass_db
def report_cmd(obj: Context, athlete: str | None, all_athletes: bool, since: dt.date | None, until: dt.date | None,
               fmt: str, output: str | None, with_maps: bool, zone: ZoneInfo, model_path: str | None) -> None:
    """An athlete's risk report: current flags (red flags first), the last 8 weeks of load
    with spikes marked, gait trends, camber/track exposure and the pain timeline.

    Decision support, not a diagnosis.  Colour only on a terminal.
    """
    from ..report import build_athlete_report, render, write_private

    if athlete and all_athletes:
        raise click.UsageError("give --athlete NAME or --all, not both")
    path = model_file(obj, model_path)
    reports = []
    with obj.reader() as store:
        names = store.athletes() if all_athletes else [athlete or "me"]
        for name in names:
            try:
                reports.append(build_athlete_report(store, name, zone, since=since, today=until, model_path=path,
                                                    with_maps=with_maps))
            except LookupError as exc:
                if not all_athletes:
                    from .app import no_runs_message

                    raise click.ClickException(no_runs_message(name, store.path)) from exc
                click.echo(f"skipped {name}: {exc}", err=True)
            except ValueError as exc:
                raise click.ClickException(str(exc)) from exc
    if not reports:
        raise click.ClickException("no athlete with runs in the store (import some: gaitrisk import PATH)")
    generated = dt.datetime.now(dt.UTC)
    colour = fmt == "text" and output is None and sys.stdout.isatty()
    text = render(reports, fmt, with_maps=with_maps, generated_at=generated, color=colour)
    if output is None:
        click.echo(text, nl=False, color=colour)
        return
    try:
        write_private(output, text)
    except OSError as exc:
        raise click.ClickException(f"{output}: cannot write the report ({exc.strerror or exc})") from exc
    click.echo(f"wrote {output}", err=True)
