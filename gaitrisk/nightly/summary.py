"""What one nightly run did: per athlete (:class:`AthleteSummary`) and in all (:class:`NightlySummary`),
as one line per athlete for a person and as JSON (the ``gaitrisk nightly --json`` contract)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..ingest.sources import describe_ignored

# Inbox files modified less than this many seconds ago may still be being written: left for the next run.
DEFAULT_MIN_AGE_S = 60.0


@dataclass
class AthleteSummary:
    """What one nightly run did for one athlete (counts follow ``gaitrisk import --json``)."""

    athlete: str
    imported: int = 0
    duplicates: int = 0
    skipped: int = 0
    partial: int = 0
    archived: int = 0
    quarantined: list[dict[str, str]] = field(default_factory=list)  # {"file", "reason"}
    member_failures: list[dict[str, str]] = field(default_factory=list)  # inside archived zips
    pain_added: int = 0
    pain_duplicates: int = 0
    pain_rejected: int = 0
    features_computed: int = 0
    analysed: bool = False
    flags: dict[str, int] = field(default_factory=dict)  # severity -> count
    risk: dict | None = None  # DayRisk.as_json() of the last analysis (this run's or an earlier one's)
    risk_text: str = ""
    new_alerts: list[dict[str, str]] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    note: str = ""
    errors: list[str] = field(default_factory=list)
    left_in_inbox: list[dict[str, str]] = field(default_factory=list)  # {"file", "reason"}: links and the like
    ignored: dict[str, int] = field(default_factory=dict)  # extension -> quarantined files of no activity kind
    # Where this run put the athlete's files: (archive or quarantine root, path below it).
    moved: list[tuple[str, str]] = field(default_factory=list, repr=False)

    @property
    def changed(self) -> bool:
        return bool(self.imported or self.archived or self.quarantined or self.pain_added
                    or self.features_computed or self.analysed or self.errors or self.new_alerts)

    def line(self) -> str:
        """The one summary line of this athlete."""
        left = f"{len(self.left_in_inbox)} entr{'y' if len(self.left_in_inbox) == 1 else 'ies'} left in the " \
            "inbox (links or special files, not followed)" if self.left_in_inbox else ""
        if not self.changed:
            return f"{self.athlete}: nothing new" + (f"; {left}" if left else "")
        parts = []
        files = self.archived + len(self.quarantined)
        if self.ignored:
            parts.append(f"{describe_ignored(self.ignored)}, moved to the quarantine")
        if files:
            imp = f"{self.imported} run(s) imported" + (f" ({self.partial} partial)" if self.partial else "")
            parts.append(f"{files} file(s): {imp}, {self.duplicates} duplicate, {self.skipped} skipped, "
                         f"{self.pain_added} pain entr{'y' if self.pain_added == 1 else 'ies'} added; "
                         f"{self.archived} archived, {len(self.quarantined)} quarantined")
        if self.features_computed:
            parts.append(f"features for {self.features_computed} run(s)")
        new = f"{len(self.new_alerts)} new alert(s): " + ", ".join(
            f"{a['code']} {a['severity']} {a['date']}" for a in self.new_alerts) if self.new_alerts else ""
        if self.analysed:
            counts = ", ".join(f"{n} {sev}" for sev, n in sorted(self.flags.items())) or "none"
            parts.append(f"flags: {counts}" + (f" ({new})" if new else ""))
            if self.risk_text:
                parts.append(self.risk_text)
            if self.reports:
                parts.append("report: " + ", ".join(Path(p).name for p in self.reports))
        elif new:  # found by a run that ended before it could deliver them
            parts.append(new)
        if left:
            parts.append(left)
        if self.note:
            parts.append(self.note)
        parts += [f"ERROR {e}" for e in self.errors]
        return f"{self.athlete}: " + "; ".join(parts)

    def as_json(self) -> dict:
        return {"athlete": self.athlete, "changed": self.changed, "imported": self.imported,
                "duplicates": self.duplicates, "skipped": self.skipped, "partial": self.partial,
                "archived": self.archived, "quarantined": self.quarantined, "member_failures": self.member_failures,
                "pain": {"added": self.pain_added, "duplicates": self.pain_duplicates,
                         "rejected": self.pain_rejected},
                "features_computed": self.features_computed, "analysed": self.analysed, "flags": self.flags,
                "risk": self.risk,
                "new_alerts": self.new_alerts, "reports": self.reports, "note": self.note or None,
                "errors": self.errors, "left_in_inbox": self.left_in_inbox, "ignored": self.ignored}


@dataclass
class NightlySummary:
    athletes: list[AthleteSummary] = field(default_factory=list)
    model: str = "unchanged"  # trained | unchanged | not_trained | failed
    model_note: str = ""
    errors: list[str] = field(default_factory=list)  # failures outside one athlete's work
    young: int = 0  # inbox files modified less than min_age_s ago, left for the next run
    min_age_s: float = DEFAULT_MIN_AGE_S

    @property
    def waiting_line(self) -> str:
        """Why files still in the inbox were not taken ("" when none were left for their age)."""
        if not self.young:
            return ""
        return (f"{self.young} file{'' if self.young == 1 else 's'} left for the next run: modified less than "
                f"{self.min_age_s:g} s ago (--min-age)")

    @property
    def nothing_new(self) -> bool:
        return self.model != "trained" and not self.errors and not any(a.changed for a in self.athletes)

    @property
    def new_alerts(self) -> list[dict[str, str]]:
        return [{"athlete": a.athlete, **x} for a in self.athletes for x in a.new_alerts]

    @property
    def failed(self) -> bool:
        """A real failure: something could not be done and will be retried (not a quarantined file)."""
        return bool(self.errors or any(a.errors for a in self.athletes))

    def as_json(self) -> dict:
        return {"nothing_new": self.nothing_new, "failed": self.failed,
                "model": {"status": self.model, "note": self.model_note or None},
                "new_alerts": self.new_alerts, "errors": self.errors,
                "left_for_next_run": self.young, "athletes": [a.as_json() for a in self.athletes]}
