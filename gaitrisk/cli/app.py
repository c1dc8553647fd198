"""The ``gaitrisk`` command group and what its commands share: the context object, the global
options (``--db``, ``-v``, ``-q``, before or after the command's name), the options several commands
take (``--tz``, ``--model``, ``--json``, ``--workers``, ``--scheduler``) and the parameter types of
days and time zones; which days the reading commands show; how the import's outcomes are printed.

Command modules import this module (and packages below the CLI), never each other;
:mod:`gaitrisk.cli.main` registers them on :data:`cli`.  Heavy libraries are imported inside
the commands so that ``gaitrisk --help`` starts fast.
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import sqlite3
import sys
from pathlib import Path
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from ..version import VERSION

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from ..store import Store


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


def name_store(store: Store) -> None:
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


def pass_db(f):
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


def zone_named(name: str | None) -> ZoneInfo:
    """The IANA zone ``name`` (None: $TZ or this machine's), or one line naming the bad value (exit 1)."""
    from ..times import TimeZoneError, resolve_zone

    try:
        return resolve_zone(name)
    except TimeZoneError as exc:
        raise click.ClickException(str(exc)) from exc


class ZoneType(click.ParamType):
    """An IANA time zone name, as a :class:`~zoneinfo.ZoneInfo`.

    A bad name is one line and exit status 1 (``gaitrisk``'s way for every bad value), not
    click's usage error."""

    name = "zone"

    def convert(self, value, param, ctx):
        return value if not isinstance(value, str) else zone_named(value)


class DateType(click.ParamType):
    """A calendar day ``YYYY-MM-DD`` on which data can fall, as a :class:`datetime.date`; anything
    else (a typo'd year would overflow later) is one line naming the option, exit status 1."""

    name = "date"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        from ..pain.entry_input import parse_date
        from ..plausible import day_problem

        what = param.opts[0] if param is not None else "date"
        try:
            day = parse_date(value)
        except ValueError as exc:
            raise click.ClickException(f"{what}: {exc}") from exc
        if (why := day_problem(day)) is not None:
            raise click.ClickException(f"{what}: {why}")
        return day


ZONE = ZoneType()
DATE = DateType()
TZ_HELP = "IANA time zone whose calendar days count, e.g. Europe/Berlin (default: $TZ or this machine's zone)."


def _local_zone_unless_given(ctx: click.Context, param: click.Parameter, value: ZoneInfo | None) -> ZoneInfo:
    return value if value is not None else zone_named(None)


# ``--tz``: the zone whose calendar days count; the command receives a ZoneInfo, $TZ's or the
# machine's when the option is not given.
tz_option = click.option("--tz", "zone", type=ZONE, default=None, metavar="ZONE", callback=_local_zone_unless_given,
                         help=TZ_HELP)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (a stable contract).")
model_option = click.option("--model", "model_path", type=click.Path(dir_okay=False), default=None,
                            help="Model file (default: <database>.model.skops beside the database).")
# ``--tz`` where not giving it means something else than the local zone (``pain edit``: the entry's own).
tz_given_option = click.option("--tz", "zone", type=ZONE, default=None, metavar="ZONE", help=TZ_HELP)
log_athlete_option = click.option("--athlete", callback=athlete_name, default="me", show_default=True,
                                  help="Whose log this is.")


def model_file(obj: Context, given: str | None) -> Path:
    """The ``--model`` file: the one given, else ``<database>.model.skops`` beside the store."""
    from ..model.persist import default_model_path

    if given:
        return Path(given)
    return default_model_path(obj.db_path())


# -- which days the reading commands show ---------------------------------------------------
# One rule for ``load``, ``flags``, ``report`` and ``activities``: they end on the athlete's last day
# with data (a run or a pain entry) unless ``--until`` says otherwise, so an old export shows its data
# instead of empty weeks up to today; the header says "latest run: DATE" when that run is not recent;
# and an athlete without runs is one line and exit status 1 everywhere.

# A latest run older than this many days is named in the header (a week: a runner's usual cycle).
RECENT_DAYS = 7


@dataclass(frozen=True)
class DataDays:
    """An athlete's data in local calendar days."""

    athlete: str
    latest_run: dt.date
    latest: dt.date       # the last day with a run or a pain entry
    today: dt.date

    def end(self, until: dt.date | None) -> dt.date:
        """The last day to show: ``--until`` when given, else the last day with data."""
        return until if until is not None else self.latest

    @property
    def stale(self) -> bool:
        return (self.today - self.latest_run).days > RECENT_DAYS

    def header_note(self) -> str:
        """"latest run: DATE" when the latest run is not recent, else ""."""
        return f"latest run: {self.latest_run}" if self.stale else ""


def no_runs_message(athlete: str, store_path) -> str:
    return f"no runs stored for athlete {athlete!r} in {store_path}. Try: gaitrisk import PATH --athlete {athlete}"


def data_days(store: Store, athlete: str, zone: ZoneInfo, today: dt.date | None = None) -> DataDays:
    """The athlete's :class:`DataDays`; an athlete without runs is refused in one line (exit 1)."""
    from ..load.daily import latest_days

    days = latest_days(store, athlete, zone)
    if days is None:
        raise click.ClickException(no_runs_message(athlete, store.path))
    today = today or dt.datetime.now(zone).date()
    return DataDays(athlete, *days, today)


# -- what the import and feature workflows did, printed the CLI's way --------------------------
# One line per problem; file names and reasons made plain for the terminal.

def print_feature_failures(feats) -> None:
    """The runs whose features failed, one line each on stderr."""
    from ..textsafe import plain

    for f in feats.failed:
        click.echo(plain(f"  features not computed for {f.get('activity_id', '?')}: {f.get('reason', '')}"),
                   err=True)


def print_feature_problems(feats) -> None:
    """The runs whose features failed, and the runs screened out as not a run, on stderr."""
    from ..textsafe import plain

    print_feature_failures(feats)
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


def recompute(store: Store, athlete: str) -> int:
    """Compute the athlete's stale feature records; how many were computed (failures on stderr)."""
    from ..workflow import update_features

    report = update_features(store, athlete)
    print_feature_failures(report)
    return report.computed
