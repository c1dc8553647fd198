"""What the import and feature workflows did, printed the CLI's way (``import``, ``demo``, ``activity``,
``athlete set``): one line per problem, file names and reasons made plain for the terminal."""

from __future__ import annotations

import click


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


def recompute(store, athlete: str) -> int:
    """Compute the athlete's stale feature records; how many were computed (failures on stderr)."""
    from ..features.compute import compute_and_store_features
    from ..textsafe import plain

    report = compute_and_store_features(store, athlete)
    for f in report.failed:
        click.echo(plain(f"  features not computed for {f['activity_id']}: {f['reason']}"), err=True)
    return report.computed
