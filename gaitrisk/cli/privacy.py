"""``gaitrisk export`` and ``gaitrisk delete``: an athlete's data out of the store, and gone from it.

Pain logs and watch data are health data: a person may ask for all of theirs, and ask
for it to be erased.  The export is one JSON document (written user-only); the delete
removes every row of the athlete and rebuilds the database file so that nothing of it
remains on disk.
"""

from __future__ import annotations

import json
import os
import sys

import click

from .main import Context, _pass_db, athlete_name, cli, name_store


@cli.command("export")
@click.option("--athlete", callback=athlete_name, default="me", show_default=True, help="Whose data to export.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, allow_dash=True), default="-", show_default=True,
              help="Write the JSON here (created readable by you only); '-' is standard output.")
@_pass_db
def export_cmd(obj: Context, athlete: str, output: str) -> None:
    """Export everything stored for an athlete as one JSON document.

    Activities (sources, laps, the device's summary, every sample), per-run
    features, pain entries, data gaps, the profile and the files remembered as
    skipped.  Samples are columns of values; missing values are null and times
    are ISO 8601 UTC.
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
    click.echo(f"exported {len(data['activities'])} activities, {len(data['pain'])} pain entries and "
               f"{len(data['gaps'])} gaps of {athlete!r} to {output}", err=True)


@cli.command("delete")
@click.option("--athlete", callback=athlete_name, required=True,
              help="Whose data to delete (required: there is no default here).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_pass_db
def delete_cmd(obj: Context, athlete: str, yes: bool) -> None:
    """Delete an athlete and everything stored for them, for good.

    Activities and their samples, features, pain entries, gaps, the profile and
    the remembered skipped files.  The database file is then rebuilt (VACUUM) so
    the data does not linger in free pages or the write-ahead log.  Export first
    if you want a copy: gaitrisk export --athlete NAME --output FILE.
    """
    with obj.store() as store:
        name_store(store)
        if store.athlete_id(athlete, create=False) is None:
            raise click.ClickException(f"no athlete {athlete!r} in {store.path}; nothing deleted")
        n = len(store.activities(athlete))
        if not yes:
            if not sys.stdin.isatty():
                raise click.ClickException("refusing to delete without confirmation; add --yes")
            click.confirm(f"Delete athlete {athlete!r} and all their data ({n} activities) from "
                          f"{store.path}? This cannot be undone", abort=True)
        counts = store.delete_athlete(athlete) or {}
    pain = counts.get("pain_entries", 0)
    click.echo(f"deleted athlete {athlete!r}: {counts.get('activities', 0)} activities, {pain} pain entries, "
               f"{counts.get('data_gaps', 0)} gaps and all related records; the store was compacted")
