"""CLI for one activity (``gaitrisk activity exclude|include|set|delete ID``).

A thin layer: parsing and printing only.  Every change drops the feature records of the
runs it touches (the activity and the athlete's later runs, whose history it is part of)
and computes them again before the command ends, so baselines, zones and load agree
with it at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sys

import click

from .app import name_store, pass_db, recompute

if TYPE_CHECKING:
    from ..store import Store

# --sport choices -> (sport, sub_sport) as the readers store them (gaitrisk.ingest.sports).
SPORTS = {"run": ("running", None), "trail": ("running", "trail"), "treadmill": ("running", "treadmill"),
          "walk": ("walking", None), "ride": ("cycling", None)}


@click.group("activity")
def activity_group() -> None:
    """Manage one activity: exclude or include it, correct its sport, delete it.

    An activity the import screened as "not a run?" (see ``gaitrisk activities``) stays out
    of baselines, thresholds and load until you confirm it with ``gaitrisk activity include ID``.
    IDs may be abbreviated.
    """


def _one(store: Store, activity_id: str):
    found = store.find(activity_id)
    if not found:
        raise click.ClickException(f"no activity with id {activity_id!r}")
    if len(found) > 1:
        raise click.ClickException(f"id {activity_id!r} is ambiguous ({len(found)} activities); give more characters")
    return found[0]


def _review(obj, activity_id: str, status: str, reason: str) -> None:
    from ..records import Review

    with obj.store() as store:
        name_store(store)
        rec = _one(store, activity_id)
        if status == "included":
            from ..ingest.sports import is_running

            if not is_running(rec.sport):
                raise click.ClickException(f"{rec.id} is a {rec.sport} activity; to count it as a run, set its "
                                           f"sport: gaitrisk activity set {rec.id[:12]} --sport run")
        store.set_review(rec.id, Review(status, reason))
        n = recompute(store, rec.athlete)
    what = "counts again" if status == "included" else "is out of baselines, thresholds and load"
    click.echo(f"{rec.id[:12]} {what}; {n} feature record(s) computed again")


@activity_group.command("exclude")
@click.argument("activity_id")
@click.option("--reason", default="excluded by the user", show_default=True, help="Why (shown with the activity).")
@pass_db
def activity_exclude(obj, activity_id: str, reason: str) -> None:
    """Keep one activity out of baselines, thresholds and load (it stays stored)."""
    _review(obj, activity_id, "excluded", reason)


@activity_group.command("include")
@click.argument("activity_id")
@pass_db
def activity_include(obj, activity_id: str) -> None:
    """Count one activity as a run: confirms a "not a run?" activity, undoes an exclude."""
    _review(obj, activity_id, "included", "confirmed by the user")


@activity_group.command("set")
@click.argument("activity_id")
@click.option("--sport", type=click.Choice(list(SPORTS)), default=None,
              help="What the activity was; walk and ride do not count as runs.")
@click.option("--road-side", type=click.Choice(["left", "right", "mixed"]), default=None,
              help="The side of the road you kept to on this run, seen in your direction of running "
                   "(mixed: no one side).  Camber exposure from it counts as observed.")
@pass_db
def activity_set(obj, activity_id: str, sport: str | None, road_side: str | None) -> None:
    """Correct one activity's sport (trail and treadmill set its surface), or declare the road side of one run."""
    if sport is None and road_side is None:
        raise click.UsageError("give --sport and/or --road-side")
    with obj.store() as store:
        name_store(store)
        rec = _one(store, activity_id)
        if sport is not None:
            store.set_sport(rec.id, *SPORTS[sport])
        if road_side is not None:
            store.set_road_side(rec.id, road_side)
        n = recompute(store, rec.athlete)
    what = " and ".join(p for p in (f"is now {sport}" if sport else "",
                                    f"ran on the {road_side} side of the road" if road_side else "") if p)
    click.echo(f"{rec.id[:12]} {what}; {n} feature record(s) computed again")


@activity_group.command("delete")
@click.argument("activity_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_db
def activity_delete(obj, activity_id: str, yes: bool) -> None:
    """Delete one activity and its samples from the store (importing its file again stores it again)."""
    with obj.store() as store:
        name_store(store)
        rec = _one(store, activity_id)
        if not yes:
            if not sys.stdin.isatty():
                raise click.ClickException("refusing to delete without confirmation; add --yes")
            click.confirm(f"Delete activity {rec.id} ({rec.start_time:%Y-%m-%d %H:%M} UTC) from {store.path}? "
                          "This cannot be undone", abort=True)
        store.delete_activity(rec.id)
        n = recompute(store, rec.athlete)
    click.echo(f"deleted activity {rec.id[:12]}; {n} feature record(s) computed again")
