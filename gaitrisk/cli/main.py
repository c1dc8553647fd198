"""The ``gaitrisk`` command: the group of :mod:`gaitrisk.cli.app` with every command registered on it."""

from __future__ import annotations

from . import activities, activity, demo, features, imports, load, model, nightly, ostrc, privacy, report, risk
from .app import cli

for command in (imports.import_cmd, activities.activities_cmd, activities.show_cmd, features.athlete_group,
                features.features_cmd, load.load_cmd, load.pain_group, load.gap_group, model.model_group,
                model.flags_cmd, nightly.nightly_cmd, privacy.export_cmd, privacy.delete_cmd, report.report_cmd,
                demo.demo_cmd, activity.activity_group, risk.risk_cmd):
    cli.add_command(command)
for command in (ostrc.pain_week, ostrc.pain_weeks, ostrc.pain_week_import):
    load.pain_group.add_command(command)


def main() -> None:  # pragma: no cover - console-script entry
    cli()
