#!/usr/bin/env python
"""Validate the risk model on cohorts it did not generate: a null cohort, a literature-effect cohort
and (as a sanity check only) the project's own planted-mechanism cohort.

    python scripts/validate_model.py [--quick] [--seed 1] [--athletes 120] [--weeks 26] [--out FILE]

Each cohort is written as watch files and pain diaries (scripts/cohorts/independent.py;
gaitrisk.synth.cohort for the planted-mechanism one), imported into a throw-away store with gaitrisk's own
pipeline (as ``gaitrisk import`` and ``gaitrisk pain import`` do), turned into athlete-day rows
(gaitrisk.model.dataset.build_dataset) and scored in two splits: athlete-grouped 5-fold and
forward in time (train on the first 60 % of the calendar, rows whose 7-day label window crosses
the cut purged; test on the rest).  Predictors: the ORACLE (the planted 7-day onset probability,
1 - prod(1 - h) over t+1..t+7: the ceiling), the MODEL (:func:`model_proba`), the RULES (rule score
calibrated on the training rows) and the INTERCEPT (the training base rate).  Every number has an
athlete-bootstrap 95 % interval.

The model is the one function :func:`model_proba` (and :func:`model_hazard_ratios` for the
fitted hazard ratios): replace their bodies to validate another model.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression, PoissonRegressor
from sklearn.model_selection import GroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cohorts import independent, scoring  # noqa: E402

from gaitrisk.features.compute import compute_and_store_features  # noqa: E402
from gaitrisk.features.handoff import import_pass  # noqa: E402
from gaitrisk.ingest.pipeline import import_paths  # noqa: E402
from gaitrisk.model.dataset import Dataset, build_dataset  # noqa: E402
from gaitrisk.model.rules import rule_levels, rule_score  # noqa: E402
from gaitrisk.pain.csvio import read_pain_file  # noqa: E402
from gaitrisk.store import Store  # noqa: E402

log = logging.getLogger("validate_model")
UTC = ZoneInfo("UTC")
PREDICTORS = ("oracle", "model", "rules", "intercept")
TRAIN_SHARE = 0.6
FOLDS = 5
# A runner with no planted effect should not be warned in more than one week in five (design choice:
# more is alarm fatigue for a risk nobody has).
MAX_WARN_SHARE = 0.20
# The planted exposures and the dataset feature that speaks for each (for fitted hazard ratios).
FACTORS = ("spike", "low_cadence", "previous_onset")


# -- the model under test: replace these two bodies to validate another model -------------------------
def model_proba(train: Dataset, test: Dataset) -> np.ndarray:
    """The model's 7-day onset probability for every row of ``test.rows``, trained on ``train``.

    The model is gaitrisk's population risk model (:class:`gaitrisk.model.prior.PriorRiskClassifier`)
    updated as ``gaitrisk model train`` updates it: on the labelled rows whose pain was logged
    (:attr:`Dataset.logged_rows`), each row weighted 1/horizon.  Without an onset in the training
    rows it stays the population prior, as in use.
    """
    from gaitrisk.model.factors import risk_factors
    from gaitrisk.model.prior import PriorRiskClassifier
    from gaitrisk.model.update import fit_prior

    rows = train.logged_rows
    horizon = train.spec.horizon_days
    if len(np.unique(rows["label"])) < 2:
        model = PriorRiskClassifier(horizon_days=horizon).from_prior()
    else:
        model = fit_prior(rows, horizon)
    return model.predict_proba(risk_factors(test.rows).to_numpy(float))[:, 1]


# The planted factor -> the model's factor that speaks for it (the planted spike is any run
# > 1.1 x the 30-day longest; most are in the model's 10-30 % tier).
MODEL_FACTOR = {"spike": "spike_small", "low_cadence": "low_cadence", "previous_onset": "previous_injury"}


def model_hazard_ratios(train: Dataset) -> dict[str, scoring.Estimate] | None:
    """The model's fitted hazard ratio per factor of ``FACTORS`` with its 95 % (Laplace) interval."""
    from gaitrisk.model.factors import RISK_FACTORS
    from gaitrisk.model.update import fit_prior

    rows = train.logged_rows
    if len(np.unique(rows["label"])) < 2:
        return None
    hr, low, high = fit_prior(rows, train.spec.horizon_days).hazard_ratios()
    at = {name: i for i, name in enumerate(RISK_FACTORS)}
    return {f: scoring.Estimate(float(hr[at[m]]), float(low[at[m]]), float(high[at[m]]))
            for f, m in MODEL_FACTOR.items()}


# -- cohorts --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cohort:
    name: str
    folder: Path
    athletes: list[str]
    hazard: pd.Series | None          # planted daily hazard, index (athlete, day); None for the planted-mechanism cohort
    truth_days: pd.DataFrame | None
    hazard_ratios: dict[str, float] | None


def import_athlete(store: Store, name: str, folder: Path) -> None:
    """Runs and pain diary of one athlete, as ``gaitrisk import`` and ``gaitrisk pain import`` do."""
    report = import_paths([str(folder / "runs")], store, name, leg_hook=import_pass(store, name))
    if report.failed:
        log.warning("%s: %d files failed to import", name, len(report.failed))
    compute_and_store_features(store, name, passes=report.leg_results)
    parsed = read_pain_file(folder / "pain.csv", name, UTC)
    if parsed.fatal or parsed.errors:
        raise SystemExit(f"{folder / 'pain.csv'}: {parsed.fatal or parsed.errors[0].reason}")
    store.add_pain_entries([e for _, e in parsed.entries])


def independent_cohort(name: str, cfg: independent.Config, root: Path) -> Cohort:
    folder = root / name
    truth = independent.generate(cfg, folder)
    days = pd.read_csv(folder / "truth_days.csv", parse_dates=["date"])
    days = days.rename(columns={"date": "day"}).set_index(["athlete", "day"]).sort_index()
    return Cohort(name, folder, sorted(truth["athletes"]), days["hazard"], days, truth["hazard_ratios"])


def old_cohort(seed: int, athletes: int, weeks: int, root: Path) -> Cohort:
    from gaitrisk.synth.cohort import CohortConfig, write_cohort

    folder = root / "planted"
    truth = write_cohort(CohortConfig(seed=seed, athletes=athletes, weeks=weeks, sample_interval_s=20), folder)
    return Cohort("planted", folder, sorted(truth["athletes"]), None, None, None)


def dataset_of(cohort: Cohort, db: Path) -> Dataset:
    with Store(db) as store:
        for name in cohort.athletes:
            import_athlete(store, name, cohort.folder / name)
        return build_dataset(store, zone=UTC)


def oracle_of(cohort: Cohort, rows: pd.DataFrame, horizon: int) -> np.ndarray:
    """The planted probability of an onset in t+1..t+horizon for every row (NaN without a hazard).

    The previous-onset factor is frozen at t+1 (:func:`scoring.oracle_7d`): an onset in the window
    must not raise its own prediction.
    """
    if cohort.hazard is None:
        return np.full(len(rows), np.nan)
    parts = []
    hr_previous = cohort.hazard_ratios["previous_onset"]
    for athlete, d in cohort.truth_days.groupby(level="athlete"):
        days = d.index.get_level_values("day")
        oracle = scoring.oracle_7d(d["hazard"].to_numpy(), horizon, d["previous_exposed"].to_numpy(), hr_previous)
        parts.append(pd.Series(oracle,
                               index=pd.MultiIndex.from_arrays([[athlete] * len(d), days], names=["athlete", "day"])))
    return pd.concat(parts).reindex(rows.index).to_numpy()


def planted_labels(cohort: Cohort, rows: pd.DataFrame, horizon: int) -> np.ndarray:
    """1 where the truth has an onset in t+1..t+horizon (logged or not), per row."""
    onset = cohort.truth_days["onset"]
    parts = []
    for _, o in onset.groupby(level="athlete"):
        ahead = o[::-1].rolling(horizon, min_periods=1).max()[::-1].shift(-1)
        parts.append(ahead)
    return pd.concat(parts).reindex(rows.index).fillna(0).to_numpy(int)


# -- splits ---------------------------------------------------------------------------------------------
def subset(ds: Dataset, mask: np.ndarray) -> Dataset:
    return Dataset(ds.frame[mask], ds.spec)


def rules_proba(train: Dataset, test: Dataset) -> np.ndarray:
    """The rule score turned into a probability by a logistic fit on the training rows."""
    s_tr, s_te = rule_score(train.rows), rule_score(test.rows)
    if len(np.unique(train.y)) < 2 or np.ptp(s_tr) == 0:
        return np.full(len(s_te), float(train.y.mean()))
    lr = LogisticRegression(max_iter=1000).fit(s_tr.reshape(-1, 1), train.y)
    return lr.predict_proba(s_te.reshape(-1, 1))[:, 1]


def predict(train: Dataset, test: Dataset) -> dict[str, np.ndarray]:
    return {"model": model_proba(train, test), "rules": rules_proba(train, test),
            "intercept": np.full(len(test.rows), float(train.y.mean()))}


def grouped(ds: Dataset) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Row mask (all scored rows) and out-of-fold predictions, athlete-grouped."""
    rows = ds.rows
    athletes_of_rows = rows.index.get_level_values("athlete").to_numpy()
    frame_athletes = ds.frame.index.get_level_values("athlete").to_numpy()
    names = np.unique(athletes_of_rows)
    out = {k: np.zeros(len(rows)) for k in ("model", "rules", "intercept")}
    for tr, te in GroupKFold(n_splits=min(FOLDS, len(names))).split(names, groups=names):
        test_rows = np.isin(athletes_of_rows, names[te])
        pred = predict(subset(ds, np.isin(frame_athletes, names[tr])), subset(ds, np.isin(frame_athletes, names[te])))
        for k, p in pred.items():
            out[k][test_rows] = p
    return np.ones(len(rows), bool), out


def forward(ds: Dataset) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Row mask of the test rows (after the cut) and their predictions from a model of the rows before."""
    days = pd.DatetimeIndex(ds.frame.index.get_level_values("day"))
    cut = days.min() + (days.max() - days.min()) * TRAIN_SHARE
    horizon = pd.Timedelta(days=ds.spec.horizon_days)
    train, test = subset(ds, np.asarray(days + horizon < cut)), subset(ds, np.asarray(days >= cut))
    return np.asarray(ds.days >= cut), predict(train, test)


# -- hazard ratios -------------------------------------------------------------------------------------
def realised_hazard_ratios(truth_days: pd.DataFrame, replicates: int, seed: int) -> dict[str, scoring.Estimate]:
    """Rate ratios of onsets on exposed vs unexposed at-risk days in the truth (a Poisson fit)."""
    d = truth_days[truth_days["at_risk"] == 1]
    X = d[["spike_exposed", "low_cadence_exposed", "previous_exposed"]].to_numpy(float)
    y = d["onset"].to_numpy(float)
    draws = scoring.athlete_draws(d.index.get_level_values("athlete").to_numpy(), replicates, seed)

    def fit(idx: np.ndarray) -> np.ndarray:
        if y[idx].sum() == 0:
            return np.full(3, np.nan)
        # The tiny penalty only keeps a factor nobody was exposed to in a draw finite.
        return np.exp(PoissonRegressor(alpha=1e-6, max_iter=300).fit(X[idx], y[idx]).coef_)

    point, reps = fit(np.arange(len(y))), np.array([fit(idx) for idx in draws])
    return {f: scoring.interval(point[k], list(reps[:, k])) for k, f in enumerate(FACTORS)}


# -- one cohort -----------------------------------------------------------------------------------------
@dataclass
class CohortResult:
    name: str
    text: str
    checks: list[tuple[str, bool | None]]


def verdict(ok: bool | None) -> str:
    return "N/A (not computable: one class in the rows)" if ok is None else "PASS" if ok else "FAIL"


def fmt_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def warn_share(ds: Dataset, draws_seed: int, replicates: int) -> tuple[scoring.Estimate, scoring.Estimate]:
    """Alerts (rows with a warn) per athlete-week and the share of athlete-weeks with one, with intervals."""
    warn = (rule_levels(ds.frame) >= 2).any(axis=1).to_numpy()
    athlete = ds.frame.index.get_level_values("athlete").to_numpy()
    day = pd.DatetimeIndex(ds.frame.index.get_level_values("day"))
    weeks = pd.DataFrame({"athlete": athlete, "week": day.to_period("W").astype(str), "warn": warn})
    per_week = weeks.groupby(["athlete", "week"])["warn"].agg(["sum", "any"]).reset_index()
    draws = scoring.athlete_draws(per_week["athlete"].to_numpy(), replicates, draws_seed)
    n_alerts, any_alert = per_week["sum"].to_numpy(float), per_week["any"].to_numpy(float)
    n = len(per_week)
    return (scoring.bootstrap_statistic(lambda i: float(n_alerts[i].mean()), n, draws),
            scoring.bootstrap_statistic(lambda i: float(any_alert[i].mean()), n, draws))


def evaluate_cohort(cohort: Cohort, ds: Dataset, replicates: int, seed: int, null: bool) -> CohortResult:
    rows = ds.rows
    y = ds.y
    oracle = oracle_of(cohort, rows, ds.spec.horizon_days)
    athletes = ds.groups
    onsets = int(ds.onsets().sum())
    parts = [f"{len(np.unique(athletes))} athletes, {len(y)} at-risk athlete-days scored, "
             f"{int(y.sum())} with an onset in the next 7 days ({y.mean():.1%}); {onsets} onsets in the pain logs"]
    if cohort.truth_days is not None:
        true_onsets = int(cohort.truth_days["onset"].sum())
        parts[-1] += f", {true_onsets} planted (the rest were not logged)"
    checks: list[tuple[str, bool | None]] = []
    header = ["predictor", "ROC-AUC", "PR-AUC", "Brier", "cal. intercept", "cal. slope", "mean p", "observed"]
    for split, (mask, preds) in (("athlete-grouped 5-fold", grouped(ds)), ("forward in time", forward(ds))):
        ys, grp = y[mask], athletes[mask]
        preds = {"oracle": oracle[mask], **preds}
        if not np.isfinite(preds["oracle"]).all():
            preds.pop("oracle")
        draws = scoring.athlete_draws(grp, replicates, seed)
        res = scoring.bootstrap_scores(ys, preds, draws)
        # A constant ranks nothing: its ROC-AUC and calibration slope across folds only measure how the
        # folds' base rates differ.
        for m in ("roc_auc", "cal_intercept", "cal_slope"):
            res["intercept"][m] = scoring.Estimate(float("nan"), float("nan"), float("nan"))
        if "oracle" in preds:
            planted = planted_labels(cohort, rows[mask], ds.spec.horizon_days)
            res["oracle vs planted onsets"] = scoring.bootstrap_scores(planted, {"o": preds["oracle"]}, draws)["o"]
        table = [[name] + [res[name][m].text() for m in scoring.METRICS] for name in (*PREDICTORS[:1], "oracle vs planted onsets", *PREDICTORS[1:]) if name in res]
        gap = scoring.bootstrap_statistic(lambda i: float(preds["model"][i].mean() - ys[i].mean()), len(ys), draws)
        brier = scoring.paired_difference(ys, preds["model"], preds["intercept"], "brier", draws)
        diffs = [
            ["model − intercept Brier", brier.text(4)],
            ["model − rules ROC-AUC", scoring.paired_difference(ys, preds["model"], preds["rules"], "roc_auc",
                                                                draws).text()],
            ["model mean p − observed rate", gap.text(4)],
        ]
        parts.append(f"**{split}** ({len(ys)} rows, {int(ys.sum())} positive)\n\n" + fmt_table(header, table)
                     + "\n\n" + fmt_table(["paired difference", "value (95 % CI)"], diffs))
        if null:
            auc = res["model"]["roc_auc"]
            checks += [(f"{split}: model ROC-AUC interval covers 0.5 ({auc.text()})",
                        auc.covers(0.5) if np.isfinite(auc.low) else None),
                       (f"{split}: model mean probability − observed rate covers 0 ({gap.text(4)})", gap.covers(0.0)),
                       (f"{split}: model − intercept Brier covers 0 ({brier.text(4)})", brier.covers(0.0))]
    per_week, share = warn_share(ds, seed, replicates)
    parts.append(f"Rules: {per_week.text(2)} warn alerts per athlete-week; {share.text(2)} of athlete-weeks carry "
                 "a warn (rows with any rule at level ≥ 2).")
    if null:
        checks.append((f"share of athlete-weeks with a warn ≤ {MAX_WARN_SHARE:.2f} ({share.text(2)})",
                       share.value <= MAX_WARN_SHARE))
    if cohort.hazard_ratios is not None:
        realised = realised_hazard_ratios(cohort.truth_days, replicates, seed)
        train = subset(ds, np.ones(len(ds.frame), bool))
        fitted = model_hazard_ratios(train)
        hr_rows = [[f, f"{cohort.hazard_ratios[f]:.2f}", realised[f].text(2),
                    fitted[f].text(2) if fitted else "n/a"] for f in FACTORS]
        parts.append(fmt_table(["factor", "planted HR", "realised in the truth (Poisson, 95 % CI)",
                                "fitted by the model"], hr_rows))
    parts.append("The oracle is the planted 7-day onset probability; its second row scores it against the planted "
                 "onsets instead of the logged ones (unlogged pain hides some). A constant (intercept) ranks "
                 "nothing, so its ROC-AUC and calibration are n/a.")
    text = f"### {cohort.name}\n\n" + "\n\n".join(parts)
    if checks:
        text += "\n\nNull-cohort checks (model):\n\n" + "\n".join(
            f"- {verdict(ok)}: {what}" for what, ok in checks)
    return CohortResult(cohort.name, text, checks)


# -- the command ---------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--athletes", type=int, default=120)
    ap.add_argument("--weeks", type=int, default=26)
    ap.add_argument("--interval", type=int, default=10, help="sample interval of the written files, s")
    ap.add_argument("--replicates", type=int, default=None,
                    help="athlete-bootstrap replicates (default 200; 50 with --quick)")
    ap.add_argument("--planted-athletes", type=int, default=30, help="size of the planted-mechanism cohort")
    ap.add_argument("--quick", action="store_true", help="tiny cohorts (a smoke test, not evidence)")
    ap.add_argument("--keep", type=Path, default=None, help="write the cohorts and stores here and keep them")
    ap.add_argument("--out", type=Path, default=None, help="also write the markdown tables to this file")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.quick:
        args.athletes, args.weeks, args.planted_athletes = 8, 10, 5
    args.replicates = args.replicates or (50 if args.quick else 200)
    base = independent.Config(seed=args.seed, athletes=args.athletes, weeks=args.weeks,
                              sample_interval_s=args.interval)
    with tempfile.TemporaryDirectory(prefix="gaitrisk-validate-") as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        sections = [f"Seed {args.seed}; {args.replicates} athlete-bootstrap replicates; intervals are 95 %.\n"]
        all_checks: list[tuple[str, bool | None]] = []
        for name, make, null in (
                ("null cohort (every HR = 1)", lambda: independent_cohort("null", replace(base, null=True), root), True),
                ("literature cohort (HR 1.5–2.0)", lambda: independent_cohort("literature", base, root), False),
                ("planted-mechanism cohort (sanity check, not evidence)",
                 lambda: old_cohort(args.seed, args.planted_athletes, min(args.weeks, 20), root), False)):
            t0 = time.monotonic()
            cohort = make()
            t1 = time.monotonic()
            ds = dataset_of(cohort, root / f"{cohort.name}.db")
            t2 = time.monotonic()
            result = evaluate_cohort(replace(cohort, name=name), ds, args.replicates, args.seed, null)
            t3 = time.monotonic()
            print(f"{name}: generated in {t1 - t0:.0f} s, imported in {t2 - t1:.0f} s, "
                  f"evaluated in {t3 - t2:.0f} s", file=sys.stderr)
            sections.append(result.text)
            all_checks += result.checks
            print(result.text + "\n", flush=True)
    if args.out:
        args.out.write_text("\n\n".join(sections) + "\n", encoding="utf-8")
    passed, failed = sum(ok is True for _, ok in all_checks), sum(ok is False for _, ok in all_checks)
    print(f"null-cohort checks: {passed} PASS, {failed} FAIL, {len(all_checks) - passed - failed} N/A")
    return 0


if __name__ == "__main__":
    sys.exit(main())
