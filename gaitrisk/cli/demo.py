"""``gaitrisk demo``: the whole main job on the bundled synthetic season, in a throw-away store.

import runs -> per-run features -> pain log -> weekly load -> risk model (the population
prior, updated with the pain log) and rule flags -> the text report.  Each step prints one line, then the
report follows: what a morning report looks like, without any of your own data.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .app import (command_quiet_option, command_verbose_option, print_feature_problems, print_import_summary,
                   set_log_level)

if TYPE_CHECKING:
    from ..records import DataGap

DEMO_ATHLETE = "demo"
DEMO_WEEKS = 15      # the season's span, 2024-04-01 .. 2024-07-14, gap weeks included
DEMO_ZONE = "UTC"   # the pain log's zone (fixtures/pain/demo_pain.csv); fixed so the demo prints the same days


def bundled_data() -> Path:
    """The demo data folder: inside an installed package, or the repo's ``fixtures/`` in a checkout."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "_fixtures", package.parent / "fixtures"):
        if (candidate / "runs").is_dir() and (candidate / "pain").is_dir():
            return candidate
    raise click.ClickException("the bundled demo data are missing from this installation; reinstall gaitrisk")


def read_demo_gaps(path: Path) -> list[DataGap]:
    """The demo athlete's declared data gaps: a CSV of ``from,to,reason`` (ISO days, inclusive)."""
    from ..records import DataGap

    try:
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
        return [DataGap(DEMO_ATHLETE, dt.date.fromisoformat(r["from"]), dt.date.fromisoformat(r["to"]),
                        r.get("reason") or None) for r in rows]
    except (OSError, KeyError, TypeError, ValueError) as exc:  # a broken installation, not a user error
        raise click.ClickException(f"{path.name}: {exc}") from None


@click.command("demo")
@click.option("--keep", type=click.Path(file_okay=False), default=None,
              help="Keep the demo store (and model) in this folder instead of a throw-away one.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown"]), default="text", show_default=True,
              help="How to print the report at the end.")
@command_verbose_option
@command_quiet_option
@click.pass_obj
def demo_cmd(obj, keep: str | None, fmt: str, command_verbose: int, command_quiet: bool) -> None:
    """Run the whole job on the bundled synthetic season and print the report.

    Imports a season of runs spanning 15 weeks (FIT, GPX, TCX; one run twice;
    a three-week declared gap with the watch at home), computes their features,
    imports a pain log with entries in 12 of those 15 weeks and weekly OSTRC
    answers, updates the population
    risk model with them, applies the rules and prints the report.  Nothing
    touches your own store (so it takes no --db); -q prints the report alone.
    """
    import tempfile
    from zoneinfo import ZoneInfo

    from ..load.weekly import load_report
    from ..model.persist import default_model_path, save_model
    from ..model.update import NothingToLearn, train_prior
    from ..pain.csvio import read_pain_csv
    from ..pain.ostrc_csv import read_ostrc_csv
    from ..report import build_athlete_report, render, write_private
    from ..store import Store
    from ..workflow import import_files

    data = bundled_data()
    zone = ZoneInfo(DEMO_ZONE)
    with tempfile.TemporaryDirectory(prefix="gaitrisk-demo-") as tmp:
        folder = Path(keep) if keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        db = folder / "demo.db"
        model_path = default_model_path(db)
        if command_verbose:
            obj.verbose += command_verbose
            set_log_level(obj.verbose)
        quiet = obj.quiet or command_quiet
        say = (lambda text: None) if quiet else (lambda text: click.echo(text, err=False))
        say(f"1. import   {data / 'runs'} -> {db}")
        with Store(db) as store:
            outcome = import_files(store, [str(data / "runs")], DEMO_ATHLETE)  # as `gaitrisk import` does
            if not quiet:
                print_import_summary(outcome.imported)
            print_feature_problems(outcome.features)
            n_feat = len(store.feature_versions(DEMO_ATHLETE))
            say(f"2. features {n_feat} runs: cadence vs speed, contact time, grade, camber and track exposure")
            pain_file = data / "pain" / "demo_pain.csv"
            parsed = read_pain_csv(pain_file.read_bytes(), DEMO_ATHLETE, zone)
            if parsed.fatal or parsed.errors:  # a broken installation, not a user error
                raise click.ClickException(f"{pain_file.name}: {parsed.fatal or parsed.errors[0].reason}")
            stored = store.add_pain_entries([e for _, e in parsed.entries])
            gaps_file = data / "pain" / "demo_gaps.csv"
            gaps = read_demo_gaps(gaps_file)
            for gap in gaps:
                store.add_gap(gap)
            ostrc_file = data / "pain" / "demo_ostrc.csv"
            weekly = read_ostrc_csv(ostrc_file.read_bytes(), DEMO_ATHLETE)
            if weekly.fatal or weekly.errors:  # a broken installation, not a user error
                raise click.ClickException(f"{ostrc_file.name}: {weekly.fatal or weekly.errors[0].reason}")
            n_weeks = len(store.put_ostrc_weeks([w for _, w in weekly.weeks]))
            say(f"3. pain     {sum(i is not None for i in stored)} entries from {pain_file.name}; "
                f"{len(gaps)} declared data gap(s) from {gaps_file.name} (gaitrisk gap add)")
            say(f"           {n_weeks} weekly OSTRC answers from {ostrc_file.name} (gaitrisk pain week-import)")
            last_run = max(a.start_time for a in store.activities(DEMO_ATHLETE)).astimezone(zone).date()
            weeks = load_report(store, DEMO_ATHLETE, zone, last_run, DEMO_WEEKS).weeks
            say(f"4. load     {sum(w.runs for w in weeks)} runs in {len([w for w in weeks if w.runs])} weeks "
                "(spikes, week-to-week change, ACWR)")
            try:   # as `gaitrisk model train` does (kind prior): the population prior, updated with the pain log
                est, card, _ = train_prior(store, zone)
                save_model(est, card, model_path)
                say(f"5. model    risk model: the population prior (published effects), updated with the pain log: "
                    f"{card['model']['summary']}; rules apply in any case")
            except NothingToLearn as exc:
                say(f"5. model    risk model: the population prior (published effects) as is: {exc}")
            rep = build_athlete_report(store, DEMO_ATHLETE, zone, today=last_run, model_path=model_path)
        say("6. report   (gaitrisk report --athlete demo; --format html for plots)")
        say("")
        colour = fmt == "text" and sys.stdout.isatty()
        click.echo(render([rep], fmt, color=colour), nl=False, color=colour)
        if keep:
            write_private(folder / "demo.html", render([rep], "html"))
            say(f"\nKept the store in {db} and the HTML report in {folder / 'demo.html'}")
