"""CLI for the risk contract (``gaitrisk risk``): a thin layer over :mod:`gaitrisk.model.risk`."""

from __future__ import annotations

import json

import click

from .main import Context, _pass_db, athlete_name, cli
from .days import option_day, zone_of
from .model import _model_path, json_option, model_option, tz_option


@cli.command("risk")
@click.option("--athlete", callback=athlete_name, default="me", show_default=True, help="Whose risk.")
@click.option("--from", "first", default=None, metavar="YYYY-MM-DD",
              help="First day (default: the same as --to).")
@click.option("--to", "last", default=None, metavar="YYYY-MM-DD",
              help="Last day (default: the athlete's last day with a run or a pain entry).")
@model_option
@tz_option
@json_option
@_pass_db
def risk_cmd(obj: Context, athlete: str, first: str | None, last: str | None, model_path: str | None,
             tz: str | None, as_json: bool) -> None:
    """Probability of a hip or lateral-knee pain onset in the next 7 days, with its interval and drivers.

    The model starts from published effects (docs/model.md, docs/evidence.md): a base rate of
    running injury and, per factor (run spikes, week jumps, a previous pain episode, a return
    after a break, low cadence for speed, downhill, camber), a hazard ratio with its spread.
    It needs no pain history; a model trained on your store (gaitrisk model train) updates it.
    Over several days (--from) the text is a table with each factor's evidence once below it.
    Decision support, not a diagnosis.
    """
    from ..model.risk import risk_for

    zone = zone_of(tz)
    d_first, d_last = option_day(first, "--from"), option_day(last, "--to")
    if d_first and d_last and d_first > d_last:
        raise click.ClickException(f"--from {d_first} is after --to {d_last}")
    with obj.reader() as store:
        try:
            report = risk_for(store, athlete, zone, d_first, d_last, model_path=_model_path(obj, model_path))
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
