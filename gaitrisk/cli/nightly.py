"""``gaitrisk nightly``: the scheduled run over an inbox folder (a thin layer over :mod:`gaitrisk.nightly`)."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager

import click

from .app import Context, athlete_name, make_executor, pass_db, scheduler_option, tz_option, workers_option

# Exit codes (docs/nightly.md); 2 is click's usage error.
EXIT_FAILURE = 1        # something could not be done (it is retried by the next run)
EXIT_NEW_ALERT = 3      # --fail-on-new-high: a new high or see_a_clinician flag
EXIT_LOCKED = 75        # EX_TEMPFAIL: another nightly run holds the lock; try again later

class ClickProgress:
    """One click progress bar per long step, on stderr; drawn only on a terminal and without --quiet."""

    def __init__(self, show: bool) -> None:
        self.show = show

    @contextmanager
    def step(self, label: str, total: int):
        with click.progressbar(length=total if self.show else 0, label=f"{label:<10}", file=sys.stderr,
                               hidden=not self.show or total == 0, show_pos=True,
                               item_show_func=lambda name: name and name[-40:]) as bar:
            yield lambda item="": bar.update(1, item)


@click.command("nightly")
@click.option("--inbox", required=True, type=click.Path(file_okay=False),
              help="Folder to take new files from: <inbox>/<athlete>/... (files at the top: --athlete).")
@click.option("--archive", type=click.Path(file_okay=False), default=None,
              help="Where imported files go, same layout (default: 'archive' beside the inbox).")
@click.option("--quarantine", type=click.Path(file_okay=False), default=None,
              help="Where files that failed go, each with <name>.reason.txt (default: 'quarantine' beside the archive).")
@click.option("--report-dir", type=click.Path(file_okay=False), default=None,
              help="Write each athlete's report (HTML and JSON) here; no reports without it.")
@click.option("--athlete", callback=athlete_name, default="me", show_default=True,
              help="Athlete of the files directly in the inbox (sub-folders name their athlete).")
@click.option("--flat", is_flag=True, help="Sub-folders are not athletes: every file is --athlete's.")
@click.option("--fail-on-new-high", is_flag=True,
              help=f"Exit with {EXIT_NEW_ALERT} when a high or see_a_clinician flag is new since the last run.")
@click.option("--wait", "wait_s", type=click.FloatRange(0), default=0, show_default=True,
              help=f"Seconds to wait for another nightly run on this database; then exit {EXIT_LOCKED}.")
@click.option("--min-age", "min_age_s", type=click.FloatRange(0), default=60, show_default=True,
              help="Leave files modified less than this many seconds ago (still being copied) for the next run.")
@click.option("--model-kind", type=click.Choice(["prior", "auto", "logistic", "boosting"]), default="prior",
              show_default=True,
              help="Model to update when new pain onsets arrived (as gaitrisk model train): prior, the population "
                   "prior updated with the onsets; auto, logistic, boosting: the older feature classifier.")
@tz_option
@workers_option
@scheduler_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_db
def nightly_cmd(obj: Context, inbox, archive, quarantine, report_dir, athlete, flat, fail_on_new_high, wait_s,
                min_age_s, model_kind, zone, workers, scheduler, as_json) -> None:
    """Import what is new in an inbox folder, then update features, model, flags and reports.

    Imported files move to the archive (same layout, never overwritten), failed
    ones to the quarantine with a one-line reason file.  Pain diaries
    (*.pain.csv, or *.csv in a pain/ folder) are imported too.  The risk model
    (the population prior) is updated only when new pain onsets arrived; without
    any onset the population prior stands.  One summary line per athlete, with the
    risk of its last day.

    Safe to run twice at once (a lock beside the database) and to kill at any
    point: the next run completes the work exactly once.  Exit status: 0 done
    (quarantined files included), 1 something failed and is retried next run,
    3 a new high/see_a_clinician flag (with --fail-on-new-high), 75 locked.
    """
    from ..nightly import LockBusy, LockUnavailable, run_nightly
    from ..store.sqlite import StoreError, default_db_path
    show = not (obj.quiet or as_json) and sys.stderr.isatty()
    executor = make_executor(workers, scheduler)
    try:
        summary = run_nightly(obj.db or default_db_path(), inbox, archive=archive, quarantine=quarantine,
                              report_dir=report_dir, default_athlete=athlete, flat=flat, zone=zone,
                              executor=executor, model_kind=model_kind, min_age_s=min_age_s, wait_s=wait_s,
                              progress=ClickProgress(show), deliver=lambda s: _deliver(s, as_json))
    except LockBusy as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    except (FileNotFoundError, StoreError, LockUnavailable) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        getattr(executor, "close", lambda: None)()
    if summary.failed:
        sys.exit(EXIT_FAILURE)
    if fail_on_new_high and summary.new_alerts:
        sys.exit(EXIT_NEW_ALERT)


def _deliver(summary, as_json: bool) -> None:
    """Print the summary: its new alerts count as delivered once this returns (the exit code follows from it)."""
    if as_json:
        click.echo(json.dumps(summary.as_json(), indent=2))
    else:
        _print_summary(summary)


def _print_summary(summary) -> None:
    from ..textsafe import plain  # inbox file names and reasons come from the files

    if summary.young:
        click.echo(summary.waiting_line)
    elif summary.nothing_new:
        click.echo("nothing new: the inbox held no new file and no athlete's data changed")
    for a in summary.athletes:
        click.echo(plain(a.line()))
        for q in a.quarantined:
            click.echo(plain(f"  quarantined: {q['file']}: {q['reason']}"), err=True)
        for m in a.member_failures:
            click.echo(plain(f"  failed:      {m['file']}: {m['reason']}"), err=True)
        for x in a.left_in_inbox:
            click.echo(plain(f"  left:        {x['file']}: {x['reason']}"), err=True)
    if summary.model == "trained" or summary.model_note and summary.model != "unchanged":
        click.echo(f"model: {summary.model_note}")
    for e in summary.errors:
        click.echo(f"error: {e}", err=True)
    for a in summary.new_alerts:
        click.echo(f"NEW ALERT {a['athlete']}: {a['code']} ({a['severity']}) on {a['date']}", err=True)
