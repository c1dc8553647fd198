"""The CLI's commands, and arguments that make each one reach its store."""

from __future__ import annotations

from pathlib import Path

import click

from .paths import FIXTURES


def command_args(tmp_path: Path) -> dict[tuple[str, ...], list[str]]:
    """Arguments that make each command reach its store (whether it then succeeds does not matter)."""
    csv, inbox = tmp_path / "pain.csv", tmp_path / "inbox"
    return {
        ("import",): [str(FIXTURES / "truth" / "hill.fit"), "--athlete", "ann"],
        ("activities",): [],
        ("show",): ["abc"],
        ("athlete", "set"): ["--athlete", "ann", "--height-cm", "180"],
        ("athlete", "show"): ["--athlete", "ann"],
        ("features",): ["--update"],
        ("load",): ["--athlete", "ann", "--tz", "UTC"],
        ("pain", "add"): ["--athlete", "ann", "--score", "2", "--region", "foot", "--side", "L",
                          "--when", "at_rest", "--tz", "UTC"],
        ("pain", "list"): ["--athlete", "ann", "--tz", "UTC"],
        ("pain", "edit"): ["1", "--athlete", "ann", "--score", "5"],
        ("pain", "delete"): ["1", "--athlete", "ann"],
        ("pain", "import"): [str(csv), "--athlete", "ann", "--tz", "UTC"],
        ("pain", "week"): ["--athlete", "ann", "--area", "lateral_hip", "--week", "2024-05-06",
                           "--participation", "0", "--tz", "UTC"],
        ("pain", "weeks"): ["--athlete", "ann"],
        ("pain", "week-import"): [str(tmp_path / "weeks.csv"), "--athlete", "ann"],
        ("gap", "add"): ["--athlete", "ann", "--from", "2024-05-01", "--to", "2024-05-03"],
        ("gap", "list"): ["--athlete", "ann"],
        ("gap", "delete"): ["1", "--athlete", "ann"],
        ("model", "train"): ["--tz", "UTC"],
        ("model", "evaluate"): ["--tz", "UTC"],
        ("model", "info"): [],
        ("flags",): ["--athlete", "ann", "--tz", "UTC"],
        ("risk",): ["--athlete", "ann", "--tz", "UTC"],
        ("nightly",): ["--inbox", str(inbox), "--min-age", "0", "--tz", "UTC", "--athlete", "ann"],
        ("export",): ["--athlete", "ann"],
        ("delete",): ["--athlete", "ann", "--yes"],
        ("report",): ["--athlete", "ann", "--tz", "UTC"],
        ("activity", "exclude"): ["abc"],
        ("activity", "include"): ["abc"],
        ("activity", "set"): ["abc", "--sport", "run"],
        ("activity", "delete"): ["abc", "--yes"],
    }


def leaf_commands(group: click.Group, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            out |= leaf_commands(cmd, path + (name,))
        else:
            out.add(path + (name,))
    return out
