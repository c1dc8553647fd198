"""CLI for the risk contract (``gaitrisk risk``): a thin layer over :mod:`gaitrisk.model.risk`."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import click

from .app import DATE, Context, athlete_name, json_option, model_file, model_option, pass_db, tz_option


@click.command("risk")
@click.option("--athlete", callback=athlete_name, default="me", show_default=True, help="Whose risk.")
@click.option("--from", "first", type=DATE, default=None, metavar="YYYY-MM-DD",
              help="First day (default: the same as --to).")
@click.option("--to", "last", type=DATE, default=None, metavar="YYYY-MM-DD",
              help="Last day (default: the athlete's last day with a run or a pain entry).")
@model_option
@tz_option
@json_option
@pass_db
def risk_cmd(obj: Context, athlete: str, first: dt.date | None, last: dt.date | None, model_path: str | None,
             zone: ZoneInfo, as_json: bool) -> None:
    """Probability of a hip or lateral-knee pain onset in the next 7 days, with its interval and drivers.

    The model starts from published effects (docs/model.md, docs/evidence.md): a base rate of
    running injury and, per factor (run spikes, week jumps, a previous pain episode, a return
    after a break, low cadence for speed, downhill, camber), a hazard ratio with its spread.
    It needs no pain history; a model trained on your store (gaitrisk model train) updates it.
    Over several days (--from) the text is a table with each factor's evidence once below it.
    Decision support, not a diagnosis.
    """
    from ..model.risk import risk_for

    if first and last and first > last:
        raise click.ClickException(f"--from {first} is after --to {last}")
    with obj.reader() as store:
        try:
            report = risk_for(store, athlete, zone, first, last, model_path=model_file(obj, model_path))
        except LookupError as exc:
            hint = f". Try: gaitrisk import PATH --athlete {athlete}" if str(exc).startswith("no runs") else ""
            raise click.ClickException(f"{exc}{hint}") from None
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
        return
    from ..model.factors import base_rate_text

    click.echo(f"Risk of {athlete} ({report.model}; decision support, not a diagnosis)")
    if len(report.days) == 1:
        day = report.days[0]
        click.echo(f"{day.date}  {report.line(day)}")
        for line in day.factor_lines():
            click.echo(f"    {line}")
    else:
        for line in report.table_lines():
            click.echo(line)
    click.echo(base_rate_text(report.horizon_days))
    click.echo(f"label: {report.label}")
