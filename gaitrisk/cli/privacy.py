"""``gaitrisk export`` and ``gaitrisk delete``: an athlete's data out of the store, and gone from it.

Pain logs and watch data are health data: a person may ask for all of theirs, and ask
for it to be erased.  The export is one JSON document (written user-only); the delete
removes every row of the athlete and rebuilds the database file so that nothing of it
remains on disk, then removes what the nightly run keeps of them beside the store
(:mod:`gaitrisk.nightly.forget`) and drops the model trained on their data.
"""

from __future__ import annotations

import json
import os
import sys

import click

from .app import Context, athlete_name, name_store, pass_db


@click.command("export")
@click.option("--athlete", callback=athlete_name, default="me", show_default=True, help="Whose data to export.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, allow_dash=True), default="-", show_default=True,
              help="Write the JSON here (created readable by you only); '-' is standard output.")
@pass_db
def export_cmd(obj: Context, athlete: str, output: str) -> None:
    """Export everything stored for an athlete as one JSON document.

    Activities (sources, laps, the device's summary, every sample), per-run
    features, pain entries, weekly OSTRC answers, data gaps, the profile and the
    files remembered as skipped.  Samples are columns of values; missing values
    are null and times are ISO 8601 UTC.
    """
    with obj.reader() as store:
        data = store.export_athlete(athlete)
    if data is None:
        raise click.ClickException(f"no athlete {athlete!r} in {obj.db or 'the store'}; nothing exported")
    text = json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    if output == "-":
        click.echo(text, nl=False)
        return
    try:
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        os.fchmod(f.fileno(), 0o600)  # an existing file keeps its mode through O_CREAT: tighten it
        f.write(text)
    click.echo(f"exported {counted(len(data['activities']), 'activity', 'activities')}, "
               f"{counted(len(data['pain']), 'pain entry', 'pain entries')}, "
               f"{counted(len(data['ostrc']), 'OSTRC answer', 'OSTRC answers')} and "
               f"{counted(len(data['gaps']), 'gap', 'gaps')} of {athlete!r} to {output}", err=True)


def counted(n: int, one: str, many: str) -> str:
    """``n`` with the noun in the number it takes (1 gap, 2 gaps, 0 gaps)."""
    return f"{n} {one if n == 1 else many}"


@click.command("delete")
@click.option("--athlete", callback=athlete_name, required=True,
              help="Whose data to delete (required: there is no default here).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_db
def delete_cmd(obj: Context, athlete: str, yes: bool) -> None:
    """Delete an athlete and everything stored for them, for good.

    Activities and their samples, features, pain entries, weekly OSTRC answers,
    gaps, the profile and the remembered skipped files.  The database file is then rebuilt (VACUUM) so
    the data does not linger in free pages or the write-ahead log.  What the
    nightly run kept of them goes too: their entry in its state file, their
    reports, their files in the archive and the quarantine; and the model, when
    it was trained on their data (the next nightly run trains a new one).  Export
    first if you want a copy: gaitrisk export --athlete NAME --output FILE.
    """
    from ..model.persist import default_model_path
    from ..nightly.forget import forget_athlete
    from ..nightly.lock import LockBusy, LockUnavailable, lock_path, nightly_lock
    db = obj.db_path()
    if not db.exists():   # a mistyped --db: create nothing (no store, no lock file, no folder)
        left = forget_athlete(db, athlete, default_model_path(db))
        if not left.found:
            raise click.ClickException(f"no store at {db}; nothing deleted")
        counts = None
    else:
        try:
            with nightly_lock(db):  # a nightly run must not write the athlete back meanwhile
                with obj.store() as store:
                    name_store(store)
                    known = store.athlete_id(athlete, create=False) is not None
                    n = len(store.activities(athlete)) if known else 0
                    if known and not yes:
                        if not sys.stdin.isatty():
                            raise click.ClickException("refusing to delete without confirmation; add --yes")
                        click.confirm(f"Delete athlete {athlete!r} and all their data ({n} activities) from "
                                      f"{store.path}? This cannot be undone", abort=True)
                    counts = (store.delete_athlete(athlete) or {}) if known else None
                # Also when the store no longer knows them: an earlier delete may have left these behind.
                left = forget_athlete(db, athlete, default_model_path(db))
        except LockBusy as exc:
            raise click.ClickException(f"{exc}; nothing deleted, try again when it is done") from None
        except LockUnavailable as exc:
            raise click.ClickException(f"{exc}; nothing deleted") from None
    if counts is None and not left.found:
        raise click.ClickException(f"no athlete {athlete!r} in {db}; nothing deleted")
    if counts is not None:
        click.echo(f"deleted athlete {athlete!r}: "
                   f"{counted(counts.get('activities', 0), 'activity', 'activities')}, "
                   f"{counted(counts.get('pain_entries', 0), 'pain entry', 'pain entries')}, "
                   f"{counted(counts.get('ostrc_weeks', 0), 'OSTRC answer', 'OSTRC answers')}, "
                   f"{counted(counts.get('data_gaps', 0), 'gap', 'gaps')} and all related records; "
                   "the store was compacted")
    if left.removed:
        click.echo(f"removed {len(left.removed)} file(s) the nightly run kept of {athlete!r}: reports, archived and "
                   "quarantined files, its state entry")
    if left.model_dropped:
        click.echo(f"removed the model {left.model_dropped} and its card: it was trained on the data of {athlete!r} "
                   "(the next nightly run, or gaitrisk model train, trains a new one)")
    for k in left.kept:
        click.echo(f"remains: {k}", err=True)
    # Unlinking a lock file another run may have open would let two nightly runs lock different files.
    if lock_path(db).exists():
        click.echo(f"remains: {lock_path(db)}: the nightly run's lock file, empty; it holds no athlete data and stays "
                   "so that two nightly runs never work on the store at once", err=True)
    click.echo(f"not tracked, remove them yourself if you made any: reports written with gaitrisk report "
               f"--output, models saved with gaitrisk model train --out, exports of {athlete!r}", err=True)
