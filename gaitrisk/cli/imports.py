"""``gaitrisk import``: activity files, folders, .gz and export zips into the store, then their features."""

from __future__ import annotations

import json
import sys

import click

from .app import (Context, athlete_name, make_executor, pass_db, print_feature_problems, print_import_summary,
                   scheduler_option, workers_option)


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--athlete", callback=athlete_name, default="me", show_default=True, help="Whose runs these are.")
@workers_option
@scheduler_option
@click.option("--decoder", type=click.Choice(["fast", "fitparse"]), default="fast", show_default=True,
              help="fast: the vectorised FIT/GPX readers; fitparse: the reference readers (fitparse, gpxpy), slower.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (a stable contract).")
@pass_db
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

    def features_start(self, stale) -> None:
        self._bar.__exit__(None, None, None)
        self.in_features = True
        self._bar = click.progressbar(length=stale() if self.show else 0, label="Features ", file=sys.stderr,
                                      hidden=not self.show, show_pos=True)
        self._bar.__enter__()

    def run_done(self, activity_id: str) -> None:
        self._bar.update(1)

    def close(self) -> None:
        self._bar.__exit__(None, None, None)
