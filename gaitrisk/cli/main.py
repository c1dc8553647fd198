"""``gaitrisk`` command group.  Heavy libraries are imported inside commands so
that ``gaitrisk --help`` starts fast."""

from __future__ import annotations

import errno
import json
import logging
import sqlite3
import sys
from pathlib import Path

import click

from ..version import VERSION


class Context:
    def __init__(self, db: str | None, verbose: int, quiet: bool) -> None:
        self.db = db
        self.verbose = verbose
        self.quiet = quiet

    def store(self):
        from ..store import Store, StoreError

        try:
            return Store(self.db)
        except StoreError as exc:
            raise click.ClickException(str(exc)) from exc

    def reader(self):
        """The store opened for reading only: works on a read-only file or folder and while another
        program writes.  A store that does not exist is refused in one line naming the path (a
        mistyped ``--db`` must not leave folders and an empty store behind); one that needs
        migrating is opened as by :meth:`store` (migrated, or the reason it cannot be, in one line)."""
        from ..store import Store, StoreError

        path = self.db_path()
        if not path.exists():
            raise click.ClickException(no_store_message(path))
        if path.is_file():
            try:
                return Store(path, read_only=True)
            except StoreError:
                pass
        return self.store()

    def db_path(self) -> Path:
        from ..store.sqlite import default_db_path

        return Path(self.db) if self.db else default_db_path()


def no_store_message(path: Path) -> str:
    """The line for a reading command given a store that does not exist, with the command that makes one."""
    import shlex

    return f"no store at {path} (nothing imported yet? gaitrisk import PATH --db {shlex.quote(str(path))})"


def athlete_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """The ``--athlete`` callback: a blank name would be stored, and reports would speak of nobody."""
    if value is not None and not value.strip():
        raise click.ClickException(f"{param.opts[0]}: an athlete's name cannot be empty")
    return value


def name_store(store) -> None:
    """One line on stderr naming the store a destructive command changes: ``--db`` and
    ``GAITRISK_DB`` both choose one, and the user must be able to see which was used."""
    click.echo(f"store: {store.path.resolve()}", err=True)


def db_file(ctx: click.Context | None, param: click.Parameter | None, value: str | None) -> str | None:
    """The ``--db`` callback: a folder given as the database is refused in one line (exit 1), not as
    a usage error; every other unusable path is named by the store when it opens."""
    if value is not None and Path(value).is_dir():
        raise click.ClickException(f"{value}: a folder, not a database file (give a file path, e.g. "
                                   f"{Path(value) / 'gaitrisk.db'})")
    return value


db_option = click.option(
    "--db", "db", callback=db_file, envvar="GAITRISK_DB", default=None, metavar="PATH",
    help="SQLite database to use (default: gaitrisk.db in your data folder; env GAITRISK_DB).")


class OneLineErrors(click.Group):
    """The command group whose usage errors are one line (``Error: ... (see --help)``), like every
    other error of gaitrisk, instead of click's usage block, hint and error on four lines."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)
        except click.UsageError as exc:
            if exc.ctx is not None and type(exc).__name__ == "NoArgsIsHelpError":
                exc.show()   # a group without its command: click prints the group's help
                sys.exit(exc.exit_code)
            path = exc.ctx.command_path if exc.ctx is not None else "gaitrisk"
            click.echo(f"Error: {exc.format_message()} (see {path} --help)", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        except OSError as exc:
            if exc.errno == errno.EPIPE:   # the reader of a pipe went away (| head): not an error of ours
                sys.exit(1)
            raise
        sys.exit(rv if isinstance(rv, int) else 0)


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@db_option
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@click.version_option(VERSION, prog_name="gaitrisk")
@click.pass_context
def cli(ctx: click.Context, db: str | None, verbose: int, quiet: bool) -> None:
    """gaitrisk: connect your watch data with how your hip feels.

    Import FIT, GPX and TCX exports (files, folders, .gz, Garmin and Strava
    export zips) into a private local store, then look at your runs.
    Decision support, not a diagnosis.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    ctx.obj = Context(db, verbose, quiet)


# After the command, ``--db`` reads no environment: ``GAITRISK_DB`` is the group's fallback, and an
# explicit ``--db`` before the command must not be overridden by it.
command_db_option = click.option(
    "--db", "db", callback=db_file, default=None, metavar="PATH",
    help="SQLite database to use (overrides GAITRISK_DB and a --db before the command).")
command_verbose_option = click.option("-v", "--verbose", "command_verbose", count=True,
                                      help="More log output (-vv for debug).")
command_quiet_option = click.option("-q", "--quiet", "command_quiet", is_flag=True, help="No progress output.")


def set_log_level(verbose: int) -> None:
    logging.getLogger().setLevel(logging.WARNING - 10 * min(verbose, 2))


def _pass_db(f):
    """The global options after the subcommand too (``gaitrisk import --db x.db -q ...``): ``--db``,
    ``-v`` and ``-q`` mean the same on every command, before or after its name."""

    @command_db_option
    @command_verbose_option
    @command_quiet_option
    @click.pass_obj
    def wrapper(obj: Context, db: str | None, command_verbose: int, command_quiet: bool, *args, **kwargs):
        if db is not None:
            obj.db = db
        if command_verbose:
            obj.verbose += command_verbose
            set_log_level(obj.verbose)
        obj.quiet = obj.quiet or command_quiet
        from ..store import StoreError

        try:
            return f(obj, *args, **kwargs)
        except sqlite3.Error as exc:
            # Disk full, a read-only file or folder, a lock held too long: the transaction was
            # rolled back; say so in one line instead of a traceback.
            raise click.ClickException(f"{obj.db_path()}: {exc} (an unfinished change was rolled back)") from exc
        except StoreError as exc:
            raise click.ClickException(str(exc)) from exc

    wrapper.__name__ = f.__name__
    wrapper.__doc__ = f.__doc__
    return wrapper


scheduler_option = click.option(
    "--scheduler", default=None, envvar="GAITRISK_SCHEDULER", metavar="URL",
    help="Run the per-file and per-athlete work on a Dask scheduler (tcp://host:port; env GAITRISK_SCHEDULER).")
workers_option = click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True,
                              help="Work in N processes (0 = all cores when the work is worth it; "
                                   "a small batch is done in-process).")


def make_executor(workers: int, scheduler: str | None):
    """The executor of ``--workers``/``--scheduler`` (``import`` and ``nightly``).

    ``workers=0`` (the default) means all cores once the work waiting is worth a process pool,
    in-process until then (:class:`gaitrisk.executor.WorkAwareExecutor`).
    """
    from .. import executor

    try:
        return executor.make_executor(workers, scheduler)
    except (ValueError, OSError, RuntimeError) as exc:  # the executor's errors name the scheduler
        raise click.ClickException(str(exc)) from exc


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--athlete", callback=athlete_name, default="me", show_default=True, help="Whose runs these are.")
@workers_option
@scheduler_option
@click.option("--decoder", type=click.Choice(["fast", "fitparse"]), default="fast", show_default=True,
              help="fast: the vectorised FIT/GPX readers; fitparse: the reference readers (fitparse, gpxpy), slower.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (a stable contract).")
@_pass_db
def import_cmd(obj: Context, paths: tuple[str, ...], athlete: str, workers: int, scheduler: str | None,
               decoder: str, as_json: bool) -> None:
    """Import activity files, folders, .gz and export zips.

    Re-importing the same file, or the same run in another format, adds
    nothing.  A damaged file is imported up to the damage and reported; it
    never stops the batch.  Files of other kinds inside folders (photos, PDFs)
    are ignored and counted.  Exit status is non-zero when nothing could be
    imported and something failed, and when the paths held no activity file at
    all (the wrong folder, most likely).
    """
    from ..ingest.decoders import BY_NAME
    from ..ingest.sources import describe_ignored, estimate_count, ignored_files
    from ..workflow import import_files

    show = not (obj.quiet or as_json) and sys.stderr.isatty()
    n_files = estimate_count(paths)
    executor = make_executor(workers, scheduler)
    progress = _ImportBars(show, n_files)
    try:
        with obj.store() as store:
            outcome = import_files(store, paths, athlete, decoders=BY_NAME[decoder], executor=executor,
                                   progress=progress)
    except KeyboardInterrupt:
        # The batch under way was rolled back; what was committed stays, and a second run skips it.
        n = progress.files
        click.echo(f"\ninterrupted: {n} of {max(n_files, n)} files stored"
                   + ("; the features of some runs are not computed yet" if progress.in_features else "")
                   + "; run the same command again to finish", err=True)
        sys.exit(130)
    finally:
        progress.close()
        getattr(executor, "close", lambda: None)()
    report = outcome.imported
    print_feature_problems(outcome.features)
    ignored = ignored_files(paths)
    nothing_done = report.imported == 0 and report.duplicates == 0 and report.skipped == 0
    nothing_found = nothing_done and not report.failed
    if as_json:
        click.echo(json.dumps(report.as_json() | {"ignored": ignored}, indent=2))
    elif not nothing_found:
        print_import_summary(report)
        if ignored:
            click.echo(describe_ignored(ignored))
    if report.failed and nothing_done:
        sys.exit(1)
    if nothing_found:  # the wrong folder, most likely: exit 1 so that a script notices
        from ..textsafe import plain

        raise click.ClickException(plain(f"nothing imported: no FIT, GPX or TCX file in {', '.join(paths)}"
                                         + (f"; {describe_ignored(ignored)}" if ignored else "")))


class _ImportBars:
    """The import's two progress bars on stderr (files, then feature records); hidden unless ``show``."""

    def __init__(self, show: bool, n_files: int) -> None:
        self.show, self.files, self.in_features = show, 0, False
        self._bar = click.progressbar(length=n_files if show else 0, label="Importing", file=sys.stderr,
                                      hidden=not show, show_pos=True, item_show_func=lambda name: name and name[-40:])
        self._bar.__enter__()

    def file_done(self, outcome) -> None:
        self.files += 1
        self._bar.update(1, outcome.file)

    def features_start(self, total: int) -> None:
        self._bar.__exit__(None, None, None)
        self.in_features = True
        self._bar = click.progressbar(length=total if self.show else 0, label="Features ", file=sys.stderr,
                                      hidden=not self.show, show_pos=True)
        self._bar.__enter__()

    def run_done(self, activity_id: str) -> None:
        self._bar.update(1)

    def close(self) -> None:
        self._bar.__exit__(None, None, None)


def print_feature_problems(feats) -> None:
    """The runs whose features failed, and the runs screened out as not a run, on stderr."""
    from ..textsafe import plain

    for f in feats.failed:
        click.echo(plain(f"  features not computed for {f.get('activity_id', '?')}: {f.get('reason', '')}"),
                   err=True)
    for f in feats.not_a_run:
        click.echo(plain(f"  not a run?: {f['activity_id'][:12]}: {f['reason']} (out of baselines and load; "
                         f"to count it: gaitrisk activity include {f['activity_id'][:12]})"), err=True)


def print_import_summary(report) -> None:
    from ..textsafe import plain  # file names and reasons come from the files: no escape sequences reach the terminal

    click.echo(f"{report.imported} imported, {report.duplicates} duplicate, {report.skipped} skipped "
               f"(not a run or nothing to import), {report.partial} partial, {len(report.failed)} failed")
    for o in report.outcomes:
        if o.partial and o.status == "imported":
            click.echo(plain(f"  partial: {o.file}: {'; '.join(o.problems)}"))
    for o in report.outcomes:
        if o.status == "skipped":
            click.echo(plain(f"  skipped: {o.file}: {o.reason}"))
    for f in report.failed:
        click.echo(plain(f"  failed:  {f['file']}: {f['reason']}"), err=True)


def _fmt_duration(s: float | None) -> str:
    if s is None:
        return "-"
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _num(v: float | None, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def activity_json(rec, review=None) -> dict:
    """The ``activities --json`` contract (one object per activity); ``review``: its
    :class:`~gaitrisk.review.Review` (``null`` status: not screened yet)."""
    from ..times import iso

    return {
        "id": rec.id, "athlete": rec.athlete, "sport": rec.sport, "sub_sport": rec.sub_sport,
        "name": rec.name, "device": rec.device, "format": rec.fmt,
        "start_time": iso(rec.start_time), "duration_s": rec.duration_s, "moving_time_s": rec.moving_time_s,
        "distance_m": rec.distance_m, "avg_cadence_spm": rec.avg_cadence_spm,
        "avg_stance_time_ms": rec.avg_stance_time_ms, "sources": list(rec.sources), "partial": rec.partial,
        "review": review.status if review else None, "review_reason": review.reason if review else None,
    }


@cli.command("activities")
@click.option("--athlete", callback=athlete_name, default=None, help="Only this athlete's activities.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list (a stable contract).")
@_pass_db
def activities_cmd(obj: Context, athlete: str | None, as_json: bool) -> None:
    """List stored activities, oldest first."""
    with obj.reader() as store:
        recs = store.activities(athlete)
        reviews = store.reviews(athlete)
    if athlete is not None and not recs:
        from .days import no_runs_message

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


@cli.command("show")
@click.argument("activity_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_pass_db
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


# Command groups that live in their own modules register here.
from . import features as _features  # noqa: E402,F401
from . import load as _load  # noqa: E402,F401
from . import ostrc as _ostrc  # noqa: E402,F401
from . import model as _model  # noqa: E402,F401
from . import nightly as _nightly  # noqa: E402,F401
from . import privacy as _privacy  # noqa: E402,F401
from . import report as _report  # noqa: E402,F401
from . import demo as _demo  # noqa: E402,F401
from . import activity as _activity  # noqa: E402,F401
from . import risk as _risk  # noqa: E402,F401


def main() -> None:  # pragma: no cover - console-script entry
    cli()
