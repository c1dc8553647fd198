"""The evidence table: the sources, grade, effect and threshold behind every flag and model factor.

The table is ``evidence.toml`` beside this module (shipped as package data).  :func:`load` reads
and validates it into frozen dataclasses; :func:`render_markdown` writes ``docs/evidence.md`` from
it (``python -m gaitrisk.model.evidence > docs/evidence.md``), so the doc cannot drift from the
table.  Flags, reports and ``--help`` cite a factor by its sources' short keys ("Frandsen 2025").

Severity follows the evidence through one mapping, :func:`allowed_severity`, built from the
constants below; the doc renders the same constants as its mapping table.
"""

from __future__ import annotations

import functools
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

Grade = Literal["A", "B", "C", "hypothesis"]
Kind = Literal["rule", "red_flag", "model_factor"]
EvidenceSeverity = Literal["high", "warn", "info", "none"]

GRADES: dict[str, str] = {
    "A": "prospective runner cohort with an injury outcome",
    "B": "lab or indirect: a mechanism or surrogate without an injury endpoint, or an injury "
         "association that is not statistically certain",
    "C": "expert or mechanism: clinical guidance, convention, population percentiles",
    "hypothesis": "a plausible mechanism that no study has tested against injury",
}
KINDS: dict[str, str] = {
    "rule": "a risk rule: one flag code",
    "red_flag": "a trigger of the clinical red flag",
    "model_factor": "an input of the risk model, never a flag on its own",
}
THRESHOLD_ORIGINS = ("study", "design choice")
RED_FLAG_CODE = "see_a_clinician"
# Ratio measures: an interval that excludes 1 shows an effect.
RATIO_MEASURES = frozenset({"HRR", "HR", "OR", "RR"})

# The grade -> severity mapping.  "high" belongs to the red flag alone, so a long run never reads
# like a possible stress fracture; grade A earns "warn" only when an effect's interval excludes no
# effect (a null cohort is no stronger than indirect evidence).
RED_FLAG_SEVERITY: EvidenceSeverity = "high"
GRADE_SEVERITY: dict[str, EvidenceSeverity] = {"A": "warn", "B": "info", "C": "info", "hypothesis": "none"}
# A hypothesis rule may opt in (``on_observed_data = true``) to fire from the runner's own observed
# data alone (never from an assumption): then it shows as info, still graded "hypothesis".
OBSERVED_HYPOTHESIS_SEVERITY: EvidenceSeverity = "info"
A_WITHOUT_EFFECT_SEVERITY: EvidenceSeverity = "info"
MODEL_FACTOR_SEVERITY: EvidenceSeverity = "none"

DEFAULT_PATH = "gaitrisk/model/evidence.toml"   # how the shipped table is named in messages


def _sentence(text: str) -> str:
    return text if text.rstrip("*").endswith((".", "?", "!")) else text + "."


class EvidenceError(ValueError):
    """The evidence table is unreadable or breaks a rule; the message names the file and the problem."""


@dataclass(frozen=True)
class Effect:
    """One effect size: a ratio with its 95 % CI, or a descriptive number with its unit."""

    label: str
    measure: str | None = None
    estimate: float | None = None
    unit: str = ""
    ci_low: float | None = None
    ci_high: float | None = None
    p: str | None = None

    @property
    def excludes_no_effect(self) -> bool:
        """True for a ratio whose 95 % CI lies wholly above or below 1."""
        if self.measure not in RATIO_MEASURES or self.ci_low is None or self.ci_high is None:
            return False
        return self.ci_low > 1.0 or self.ci_high < 1.0

    def text(self) -> str:
        parts = [self.label]
        if self.estimate is not None:
            if self.measure in RATIO_MEASURES:
                value = f"{self.measure} {self.estimate:g}{self.unit}"
            else:  # a change reads with its sign: "+54 %"
                value = f"{self.estimate:{'+g' if self.measure == 'change' else 'g'}}{self.unit}"
            if self.ci_low is not None and self.ci_high is not None:
                value += f" (95 % CI {self.ci_low:g}–{self.ci_high:g})"
            if self.p is not None:
                value += f", p = {self.p}"
            parts.append(value)
        return ": ".join(parts)


@dataclass(frozen=True)
class Source:
    """One study or document, cited by its short key."""

    key: str
    design: str
    population: str
    outcome: str
    read_at: str
    authors: str | None = None
    year: int | None = None
    title: str | None = None
    venue: str | None = None
    volume_pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    n: int | None = None

    def citation(self) -> str:
        """The full citation from the fields that are known."""
        head = " ".join(p for p in (self.authors, f"({self.year})" if self.year else None) if p)
        title = f"*{self.title}*" if self.title else ""
        venue = " ".join(p for p in (self.venue, self.volume_pages) if p)
        text = " ".join(_sentence(p) for p in (head, title, venue) if p)
        ids = [f"doi:{self.doi}" if self.doi else "", f"PMID {self.pmid}" if self.pmid else "",
               self.pmcid or ""]
        return " · ".join(p for p in (text, *ids) if p)

    def absent(self) -> tuple[str, ...]:
        """The bibliographic fields no page that was read gave."""
        names = {"authors": "authors", "year": "year", "title": "title", "venue": "journal",
                 "volume_pages": "volume/pages", "doi": "DOI", "pmid": "PMID"}
        return tuple(label for name, label in names.items() if getattr(self, name) is None)


@dataclass(frozen=True)
class Factor:
    """One rule, red-flag trigger or model factor with the evidence behind it."""

    id: str
    title: str
    kind: Kind
    flag: str | None
    sources: tuple[str, ...]
    grade: Grade
    threshold: str
    threshold_origin: str
    severity: EvidenceSeverity
    wording: str
    effects: tuple[Effect, ...] = field(default_factory=tuple)
    note: str | None = None
    on_observed_data: bool = False   # a hypothesis rule that fires from the runner's own observed data only

    @property
    def cite(self) -> str:
        """The short readable citation: the sources' keys."""
        return "; ".join(self.sources)

    def flag_evidence(self) -> FlagEvidence:
        """What a flag of this entry carries in JSON: grade, source, effect, threshold origin."""
        effect = "; ".join(e.text() for e in self.effects) or None
        return FlagEvidence(grade=self.grade, source=self.cite, effect=effect,
                            threshold_origin=self.threshold_origin)


@dataclass(frozen=True)
class FlagEvidence:
    """The evidence a flag carries: its grade, readable source keys, effect (None without one), threshold origin."""

    grade: Grade
    source: str
    effect: str | None
    threshold_origin: str

    def as_json(self) -> dict:
        return {"grade": self.grade, "source": self.source, "effect": self.effect,
                "threshold_origin": self.threshold_origin}


@dataclass(frozen=True)
class EvidenceTable:
    sources: tuple[Source, ...]
    factors: tuple[Factor, ...]

    def source(self, key: str) -> Source:
        for s in self.sources:
            if s.key == key:
                return s
        raise KeyError(key)

    def for_flag(self, code: str) -> tuple[Factor, ...]:
        return tuple(f for f in self.factors if f.flag == code)


def allowed_severity(kind: str, grade: str, effects: tuple[Effect, ...] = (),
                     on_observed_data: bool = False) -> EvidenceSeverity:
    """The severity the evidence allows a factor of this kind, grade and effects; ``on_observed_data``:
    a hypothesis rule that fires from the runner's own observed data only."""
    if kind == "red_flag":
        return RED_FLAG_SEVERITY
    if kind == "model_factor":
        return MODEL_FACTOR_SEVERITY
    if grade == "hypothesis" and on_observed_data:
        return OBSERVED_HYPOTHESIS_SEVERITY
    if grade == "A" and not any(e.excludes_no_effect for e in effects):
        return A_WITHOUT_EFFECT_SEVERITY
    return GRADE_SEVERITY[grade]


def severity_mapping() -> tuple[tuple[str, EvidenceSeverity], ...]:
    """The mapping as (evidence, severity) rows, for the doc; built from the same constants."""
    return (
        (f"clinical red flag (`{RED_FLAG_CODE}`), whatever its grade", RED_FLAG_SEVERITY),
        ("grade A with an effect whose 95 % CI excludes no effect", GRADE_SEVERITY["A"]),
        ("grade A without such an effect", A_WITHOUT_EFFECT_SEVERITY),
        ("grade B", GRADE_SEVERITY["B"]),
        ("grade C", GRADE_SEVERITY["C"]),
        ("hypothesis: shown as exposure, never as a flag", GRADE_SEVERITY["hypothesis"]),
        ("hypothesis rule that opts in to the runner's own observed data (`on_observed_data`): a flag only "
         "when that data supports it, never from an assumed value", OBSERVED_HYPOTHESIS_SEVERITY),
        ("model factor: an input of the risk model, never a flag on its own", MODEL_FACTOR_SEVERITY),
    )


# -- parsing and validation ---------------------------------------------------------------------

_SOURCE_TEXT = ("design", "population", "outcome", "read_at")
_SOURCE_OPTIONAL_TEXT = ("authors", "title", "venue", "volume_pages", "doi", "pmid", "pmcid")
_FACTOR_TEXT = ("title", "kind", "grade", "threshold", "threshold_origin", "severity", "wording")
_EFFECT_FIELDS = {"label", "measure", "estimate", "unit", "ci_low", "ci_high", "p"}


def _text(entry: Mapping[str, Any], name: str, where: str, problems: list[str], required: bool) -> str | None:
    value = entry.get(name)
    if value is None:
        if required:
            problems.append(f"{where} has no {name}")
        return None
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: {name} must be non-empty text")
        return None
    return value


def _int(entry: Mapping[str, Any], name: str, where: str, problems: list[str]) -> int | None:
    value = entry.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        problems.append(f"{where}: {name} must be a positive whole number")
        return None
    return value


def _unknown(entry: Mapping[str, Any], allowed: set[str], where: str, problems: list[str]) -> None:
    extra = sorted(set(entry) - allowed)
    if extra:
        problems.append(f"{where}: unknown field(s) {', '.join(extra)}")


def _parse_source(key: str, entry: Any, problems: list[str]) -> Source | None:
    where = f"source {key!r}"
    if not isinstance(entry, Mapping):
        problems.append(f"{where} is not a table")
        return None
    _unknown(entry, {*_SOURCE_TEXT, *_SOURCE_OPTIONAL_TEXT, "year", "n"}, where, problems)
    before = len(problems)
    text = {name: _text(entry, name, where, problems, True) for name in _SOURCE_TEXT}
    optional = {name: _text(entry, name, where, problems, False) for name in _SOURCE_OPTIONAL_TEXT}
    year, n = _int(entry, "year", where, problems), _int(entry, "n", where, problems)
    if len(problems) > before:
        return None
    return Source(key=key, year=year, n=n, **text, **optional)  # type: ignore[arg-type]


def _parse_effect(entry: Any, where: str, problems: list[str]) -> Effect | None:
    if not isinstance(entry, Mapping):
        problems.append(f"{where}: an effect is not a table")
        return None
    _unknown(entry, _EFFECT_FIELDS, where, problems)
    before = len(problems)
    label = _text(entry, "label", where, problems, True)
    measure = _text(entry, "measure", where, problems, False)
    numbers: dict[str, float | None] = {}
    for name in ("estimate", "ci_low", "ci_high"):
        value = entry.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            problems.append(f"{where}: {name} must be a number")
        numbers[name] = None if value is None or isinstance(value, bool) else float(value)
    low, high, est = numbers["ci_low"], numbers["ci_high"], numbers["estimate"]
    if (low is None) != (high is None):
        problems.append(f"{where}: a 95 % CI needs both ci_low and ci_high")
    elif low is not None and high is not None and not (low <= (est if est is not None else low) <= high):
        problems.append(f"{where}: the estimate lies outside its 95 % CI")
    unit = entry.get("unit", "")
    p = entry.get("p")
    if not isinstance(unit, str) or (p is not None and not isinstance(p, str)):
        problems.append(f"{where}: unit and p must be text")
    if len(problems) > before:
        return None
    return Effect(label=label or "", measure=measure, estimate=est, unit=unit, ci_low=low, ci_high=high, p=p)


def _parse_factor(fid: str, entry: Any, source_keys: set[str], problems: list[str]) -> Factor | None:
    where = f"factor {fid!r}"
    if not isinstance(entry, Mapping):
        problems.append(f"{where} is not a table")
        return None
    _unknown(entry, {*_FACTOR_TEXT, "flag", "sources", "effects", "note", "on_observed_data"}, where, problems)
    before = len(problems)
    text = {name: _text(entry, name, where, problems, True) for name in _FACTOR_TEXT}
    note = _text(entry, "note", where, problems, False)
    flag = _text(entry, "flag", where, problems, False)
    kind, grade, severity = text["kind"], text["grade"], text["severity"]
    if kind is not None and kind not in KINDS:
        problems.append(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    if grade is not None and grade not in GRADES:
        problems.append(f"{where}: grade {grade!r} is not one of {', '.join(GRADES)}")
    origin = text["threshold_origin"]
    if origin is not None and origin not in THRESHOLD_ORIGINS:
        problems.append(f"{where}: threshold_origin {origin!r} is not one of {', '.join(THRESHOLD_ORIGINS)}")
    if kind == "model_factor" and flag is not None:
        problems.append(f"{where}: a model factor has no flag")
    if kind in ("rule", "red_flag") and flag is None:
        problems.append(f"{where}: a {kind} names its flag")
    if kind == "red_flag" and flag is not None and flag != RED_FLAG_CODE:
        problems.append(f"{where}: a red-flag trigger belongs to {RED_FLAG_CODE}, not {flag!r}")
    if kind == "rule" and flag == RED_FLAG_CODE:
        problems.append(f"{where}: {RED_FLAG_CODE} is the red flag; its triggers have kind red_flag")
    observed = entry.get("on_observed_data", False)
    if not isinstance(observed, bool):
        problems.append(f"{where}: on_observed_data must be true or false")
        observed = False
    elif observed and (kind != "rule" or grade != "hypothesis"):
        problems.append(f"{where}: on_observed_data is for a rule graded hypothesis")
    sources = entry.get("sources")
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) for s in sources):
        problems.append(f"{where}: sources must be a non-empty list of source keys")
        sources = []
    for key in sources:
        if key not in source_keys:
            problems.append(f"{where} cites {key!r}, which is not in the sources")
    raw_effects = entry.get("effects", [])
    if not isinstance(raw_effects, list):
        problems.append(f"{where}: effects must be a list of tables")
        raw_effects = []
    effects = tuple(e for e in (_parse_effect(r, where, problems) for r in raw_effects) if e is not None)
    if len(problems) > before:
        return None
    allowed = allowed_severity(kind or "", grade or "", effects, observed)
    if severity != allowed:
        problems.append(f"{where}: severity {severity!r} does not follow the evidence "
                        f"({kind}, grade {grade} allows {allowed!r})")
        return None
    return Factor(id=fid, title=text["title"] or "", kind=kind, flag=flag,  # type: ignore[arg-type]
                  sources=tuple(sources), grade=grade, threshold=text["threshold"] or "",  # type: ignore[arg-type]
                  threshold_origin=origin or "", severity=allowed, wording=text["wording"] or "",
                  effects=effects, note=note, on_observed_data=observed)


def parse(data: Mapping[str, Any], origin: str = DEFAULT_PATH) -> EvidenceTable:
    """Build the table from decoded TOML; :class:`EvidenceError` lists every problem found."""
    problems: list[str] = []
    _unknown(data, {"sources", "factors"}, "the table", problems)
    raw_sources, raw_factors = data.get("sources", {}), data.get("factors", {})
    if not isinstance(raw_sources, Mapping) or not raw_sources:
        problems.append("the table has no [sources]")
        raw_sources = {}
    if not isinstance(raw_factors, Mapping) or not raw_factors:
        problems.append("the table has no [factors]")
        raw_factors = {}
    sources = tuple(s for s in (_parse_source(k, v, problems) for k, v in raw_sources.items()) if s is not None)
    keys = set(raw_sources)
    factors = tuple(f for f in (_parse_factor(k, v, keys, problems) for k, v in raw_factors.items())
                    if f is not None)
    cited = {key for f in factors for key in f.sources}
    for s in sources:
        if s.key not in cited and not problems:
            problems.append(f"source {s.key!r} is cited by no factor")
    if problems:
        raise EvidenceError(f"{origin}: " + "; ".join(problems))
    return EvidenceTable(sources=sources, factors=factors)


def load(path: Path | None = None) -> EvidenceTable:
    """The validated table from ``path``, or the one shipped with gaitrisk."""
    origin = str(path) if path is not None else DEFAULT_PATH
    try:
        raw = path.read_bytes() if path is not None else \
            resources.files("gaitrisk.model").joinpath("evidence.toml").read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except OSError as exc:
        raise EvidenceError(f"{origin}: cannot read the evidence table ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise EvidenceError(f"{origin}: not a valid TOML evidence table ({exc})") from None
    return parse(data, origin)


@functools.cache
def shipped() -> EvidenceTable:
    """The table shipped with gaitrisk, read once: it is package data and never changes while running."""
    return load()


# -- the generated doc --------------------------------------------------------------------------

def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _factor_section(f: Factor, table: EvidenceTable) -> list[str]:
    code = f" (`{f.flag}`)" if f.flag else ""
    origin = "from the study" if f.threshold_origin == "study" else "a design choice of gaitrisk"
    lines = [f"### {f.title}{code}", "",
             f"- **Sources:** {f.cite}",
             f"- **Grade:** {f.grade}: {GRADES[f.grade]}",
             f"- **Severity:** {f.severity}" + (" (only when the runner's own observed data support it)"
                                                 if f.on_observed_data else "")]
    if f.effects:
        lines.append("- **Effect:**")
        lines += [f"  - {e.text()}" for e in f.effects]
    else:
        lines.append("- **Effect:** no effect size with an injury outcome")
    lines += [f"- **Threshold** ({origin}): {f.threshold}",
              f"- **In plain words:** {f.wording}"]
    if f.note:
        lines.append(f"- **Note:** {f.note}")
    populations = "; ".join(f"{k}: {table.source(k).population}" for k in f.sources)
    lines += [f"- **Studied in:** {populations}", ""]
    return lines


def render_markdown(table: EvidenceTable) -> str:
    """``docs/evidence.md``: the grades, the severity mapping, every factor and every source."""
    out = ["# Evidence behind gaitrisk's flags", "",
           "<!-- Generated from gaitrisk/model/evidence.toml by `python -m gaitrisk.model.evidence > "
           "docs/evidence.md`. Edit the table, not this file; tests/test_evidence.py keeps them in step. -->",
           "",
           "Every flag and model factor of gaitrisk rests on the sources below. Flags, reports and `--help` "
           "cite them by the short key shown here (for example \"Frandsen 2025\"). Each entry states the "
           "study's design and population, the effect size with its 95 % confidence interval where one "
           "exists, the evidence grade, and whether the threshold comes from the study or is a design "
           "choice of gaitrisk. Bibliographic details appear only where a page that was read gives them; "
           "the rest are listed as not recorded.", "",
           "## Grades", "", "| grade | meaning |", "|---|---|"]
    out += [f"| {g} | {_cell(text)} |" for g, text in GRADES.items()]
    out += ["", "## Severity follows the evidence", "",
            "`high` belongs to the clinical red flag alone. The table refuses an entry whose severity "
            "differs from this mapping.", "",
            "| evidence | severity |", "|---|---|"]
    out += [f"| {_cell(row)} | {sev} |" for row, sev in severity_mapping()]
    out += ["", "## At a glance", "",
            "| entry | flag | grade | severity | threshold from | sources |", "|---|---|---|---|---|---|"]
    for f in table.factors:
        out.append(f"| {_cell(f.title)} | {f'`{f.flag}`' if f.flag else '(model)'} | {f.grade} | {f.severity} "
                   f"| {f.threshold_origin} | {_cell(f.cite)} |")
    for kind, heading in (("rule", "Rules"), ("red_flag", f"The red flag: `{RED_FLAG_CODE}`"),
                          ("model_factor", "Model factors")):
        out += ["", f"## {heading}", ""]
        for f in table.factors:
            if f.kind == kind:
                out += _factor_section(f, table)
        if out[-1] == "":
            out.pop()
    out += ["", "## Sources", ""]
    for s in sorted(table.sources, key=lambda s: s.key.casefold()):
        out += [f"### {s.key}", ""]
        if s.citation():
            out += [s.citation(), ""]
        out += [f"- **Design:** {s.design}",
                f"- **Population:** {s.population}" + (f" (n = {s.n:,})" if s.n else ""),
                f"- **Outcome:** {s.outcome}",
                f"- **Read at:** {s.read_at}"]
        if s.absent():
            out.append(f"- **Not recorded:** {', '.join(s.absent())}")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def main() -> int:
    try:
        table = load()
    except EvidenceError as exc:
        print(f"gaitrisk: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(render_markdown(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
