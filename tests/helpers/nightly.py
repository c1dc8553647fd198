"""The nightly job's test inputs: a small seeded cohort, an inbox dropped from it, and a stand-in report renderer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path


def json_report_renderer(store, athlete, *, zone, model_path=None, formats=("html", "json"), generated_at=None):
    """Stands in for gaitrisk.nightly.analysis.render_reports (injected): what the worker's store holds.

    ``model_sha256`` is read from the model the worker loaded (read_model checks it against its card).
    """
    from gaitrisk.model.persist import read_model

    body = {"athlete": athlete, "runs": len(store.activities(athlete)), "pain": len(store.pain_entries(athlete)),
            "model": Path(model_path).name if model_path else None,
            "model_sha256": read_model(model_path)[1]["model_sha256"] if model_path else None}
    return [(f"{athlete}.{fmt}", json.dumps(body) if fmt == "json" else f"<html><body>{athlete}</body></html>")
            for fmt in formats]


def nightly_cohort(out: Path) -> tuple[Path, dict]:
    """Three athletes, 6 weeks of runs each (~50 runs, 2 pain onsets), their pain diaries and the truth."""
    from gaitrisk.synth.cohort import CohortConfig, write_cohort

    truth = write_cohort(CohortConfig(seed=10, athletes=3, weeks=6, warmup_weeks=4, sample_interval_s=60), out)
    assert sum(len(t["onsets"]) for t in truth["athletes"].values()) >= 2  # the model can be trained
    return out, truth


def drop_inbox(cohort, root: Path, *, pain: bool = True, athletes: int | None = None) -> Path:
    """inbox/<athlete>/runs/* and inbox/<athlete>/diary.pain.csv, as a person would drop them."""
    src, truth = cohort
    inbox = root / "inbox"
    for name in sorted(truth["athletes"])[:athletes]:
        shutil.copytree(src / name / "runs", inbox / name / "runs")
        if pain:
            shutil.copy(src / name / "pain.csv", inbox / name / "diary.pain.csv")
    return inbox


def night_pain_csv(cohort, name: str) -> str:
    last_day = max(p.name[:10] for p in (cohort[0] / name / "runs").iterdir())
    return f"date,score,region,side,when\n{last_day},4,lateral_hip,R,at_night\n"
