"""CLI for the risk model and the flags (``gaitrisk model train|info``, ``gaitrisk flags``).

A thin layer over :mod:`gaitrisk.model`.  pandas, scikit-learn and skops are imported
inside the commands so that ``gaitrisk --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from .app import DATE, Context, athlete_name, json_option, model_file, model_option, pass_db, tz_option


@click.group("model")
def model_group() -> None:
    """The risk model: update it with every athlete in the store, show its card.

    The model starts from published effects (docs/model.md) and the store's pain logs
    update it: which recent exposures come before a pain onset (a day >= 3/10 in
    lateral hip, groin, buttock or lateral knee after 7 pain-free days) within the
    next 7 days.  Decision support, not a diagnosis.
    """


@model_group.command("train")
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
              help="Where to save the model (default: <database>.model.skops; the card goes beside it).")
@click.option("--folds", type=click.IntRange(0, 20), default=0, show_default=True,
              help="Also score the model, the rules and the intercept out-of-fold over N athlete-grouped folds "
                   "(N extra fits; 0 = skip).")
@click.option("--model-kind", "kind", type=click.Choice(["prior", "auto", "logistic", "boosting"]), default="prior",
              show_default=True,
              help="prior: the population prior updated with the store's onsets (docs/model.md); auto, logistic, "
                   "boosting: the older feature classifier, kept for comparison (auto: logistic unless boosting's "
                   "athlete-grouped validation loss is > 2 % lower).")
@tz_option
@json_option
@pass_db
def model_train(obj: Context, out: str | None, folds: int, kind: str, zone: ZoneInfo, as_json: bool) -> None:
    """Update the risk model with every athlete in the store and save it with its model card.

    Days without any pain entry in the 14 days before nor in the 7 after are unknown
    and left out.  The file is a skops archive (never a pickle) created readable by you only.
    """
    from ..model.persist import save_model
    from ..model.update import MODEL_KIND, train_model, update_lines

    path = Path(out) if out else model_file(obj, None)
    with obj.store() as store:
        try:
            est, card = train_model(store, zone, kind, folds)
        except ValueError as exc:
            raise click.ClickException(f"cannot train: {exc}") from None
    try:
        save_model(est, card, path)
    except OSError as exc:
        raise click.ClickException(f"{path}: cannot write the model ({exc.strerror or exc})") from exc
    if as_json:
        click.echo(json.dumps({"model_path": str(path), "card": card}, indent=2))
        return
    if kind == MODEL_KIND:
        for line in update_lines(card):
            click.echo(line)
        click.echo(f"saved to {path}")
        if card["model"]["moved"]:
            _print_metrics(card)
        return
    d = card["data"]
    click.echo(f"trained {card['model']['selected']} model on {d['rows']} athlete-days of {len(d['athletes'])} "
               f"athletes ({d['first_day']} to {d['last_day']}; {d['onsets_total']} onsets, "
               f"{d['positive_rows']} days with an onset ahead)")
    click.echo(f"saved to {path}")
    _print_metrics(card)


@model_group.command("evaluate")
@click.option("--folds", type=click.IntRange(2, 20), default=3, show_default=True,
              help="Athlete-grouped folds (each refits the model).")
@click.option("--train-share", type=click.FloatRange(0.2, 0.9), default=0.6, show_default=True,
              help="Forward-in-time split: the first share of the calendar trains, the rest tests "
                   "(label windows crossing the cut are purged).")
@click.option("--model-kind", "kind", type=click.Choice(["prior", "auto", "logistic", "boosting"]), default="prior",
              show_default=True,
              help="prior: the population prior updated with the training folds (fast); auto, logistic, boosting: "
                   "the older feature classifier (auto also tries boosting inside every fold: slow).")
@tz_option
@json_option
@pass_db
def model_evaluate(obj: Context, folds: int, train_share: float, kind: str, zone: ZoneInfo, as_json: bool) -> None:
    """Validate honestly: athlete-grouped and forward-in-time splits, never shuffled days.

    Reports ROC-AUC, PR-AUC, Brier score and calibration (intercept, slope) of the model,
    side by side with the rules-only and intercept-only baselines on the same rows (and, for
    the prior model, the population prior without any update; only days with a pain log
    around them count).
    """
    from ..model.dataset import build_dataset
    from ..model.estimator import GaitRiskClassifier
    from ..model.evaluate import evaluate

    with obj.store() as store:
        ds = build_dataset(store, None, zone)
    if kind == "prior":
        _evaluate_prior(ds, folds, train_share, as_json)
        return
    if len(ds.y) == 0:
        raise click.ClickException("cannot evaluate: the store needs athlete-days both with and without "
                                   "a pain onset ahead (import runs and a pain log first)")
    if ds.y.max() == 0:
        raise click.ClickException("no pain onset in the labelled days: nothing to evaluate")
    if ds.y.min() == 1:
        raise click.ClickException("every labelled day has a pain onset ahead: nothing to evaluate")
    try:
        reports = evaluate(ds, GaitRiskClassifier(model=kind), n_splits=folds, train_share=train_share)
    except ValueError as exc:   # a fold whose training athletes hold a single outcome
        raise click.ClickException(f"cannot evaluate: {exc}") from None
    if as_json:
        click.echo(json.dumps({"rows": int(len(ds.y)), "positives": int(ds.y.sum()),
                               "athletes": int(len(set(ds.groups))), "splits": [r.as_json() for r in reports]},
                              indent=2))
        return
    click.echo(f"{len(ds.y)} at-risk athlete-days of {len(set(ds.groups))} athletes, {int(ds.y.sum())} "
               f"with an onset in the next {ds.spec.horizon_days} days")
    _print_metrics({"metrics": {"apparent": None, "validation": [r.as_json() for r in reports]}})


def _evaluate_prior(ds, folds: int, train_share: float, as_json: bool) -> None:
    from ..model.prior_eval import PREDICTORS, evaluate_prior

    y = ds.logged_rows["label"].to_numpy(int)
    if len(y) == 0:
        raise click.ClickException("cannot evaluate: no labelled athlete-days with a pain log around them "
                                   "(import runs and a pain log first)")
    if y.max() == 0:
        raise click.ClickException(f"no pain onset in the labelled days: nothing to evaluate ({len(y)} days with "
                                   "a pain log around them; the population prior stands as is)")
    if y.min() == 1:
        raise click.ClickException(f"every one of the {len(y)} labelled days has an onset ahead: nothing to evaluate")
    try:
        reports = evaluate_prior(ds, n_splits=folds, train_share=train_share)
    except ValueError as exc:
        raise click.ClickException(f"cannot evaluate: {exc}") from None
    athletes = len(set(ds.logged_rows.index.get_level_values("athlete")))
    if as_json:
        click.echo(json.dumps({"model_kind": "prior", "rows": int(len(y)), "positives": int(y.sum()),
                               "athletes": athletes, "splits": [r.as_json() for r in reports]}, indent=2))
        return
    click.echo(f"{len(y)} logged at-risk athlete-days of {athletes} athletes, {int(y.sum())} with an onset in the "
               f"next {ds.spec.horizon_days} days ({len(ds.rows) - len(y)} days left out: no pain logged around them)")
    if athletes < 2:
        click.echo("1 athlete: the forward-in-time split only (athlete-grouped folds need at least 2 athletes)")
    if all(r.moved == 0 for r in reports):
        click.echo(f"{int(ds.onsets().sum())} onsets: the population prior barely moves in any fold: its scores "
                   "are those of the published hazard ratios")
    for split in (r.as_json() for r in reports):
        for who in PREDICTORS:
            s = split[who]
            click.echo(f"{split['split']} {who:<9}: ROC-AUC {_n(s['roc_auc'])}, PR-AUC {_n(s['pr_auc'])}, "
                       f"Brier {_n(s['brier'], '.4f')}, calibration {_n(s['calibration_intercept'], '+.2f')} / "
                       f"{_n(s['calibration_slope'], '.2f')}")


def _print_metrics(card: dict) -> None:
    m = card["metrics"]
    a = m["apparent"]
    if a:
        click.echo(f"in-sample (optimistic): ROC-AUC {_n(a['roc_auc'])}, Brier {_n(a['brier'], '.4f')}")
    for split in m.get("validation") or []:
        for who in ("model", "rules", "intercept"):
            s = split[who]
            click.echo(f"{split['split']} {who:<9}: ROC-AUC {_n(s['roc_auc'])}, PR-AUC {_n(s['pr_auc'])}, "
                       f"Brier {_n(s['brier'], '.4f')}")


def _n(v, spec: str = ".3f") -> str:
    return "-" if v is None else format(v, spec)


@model_group.command("info")
@model_option
@json_option
@pass_db
def model_info(obj: Context, model_path: str | None, as_json: bool) -> None:
    """Show the model card: data range, athletes, onsets, metrics, library versions."""
    from ..model.persist import ModelFileError, card_path, read_card

    path = model_file(obj, model_path)
    try:
        card = read_card(path)
    except ModelFileError as exc:
        if path.is_file() and not card_path(path).exists():
            raise click.ClickException(f"{path} is not a gaitrisk model file (no model card "
                                       f"{card_path(path).name} beside it; gaitrisk model train writes both)") from exc
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(card, indent=2))
        return
    d = card["data"]
    if card["model"]["selected"] == "prior":
        _prior_info(path, card)
        return
    click.echo(f"model: {path} ({card['model']['selected']}, trained {card['created_utc']})")
    click.echo(f"data: {d['first_day']} to {d['last_day']}, {len(d['athletes'])} athletes, {d['rows']} athlete-days, "
               f"{d['onsets_total']} onsets (zone {card['zone']})")
    click.echo(f"label: onset within {card['label']['horizon_days']} days, score >= {card['label']['min_score']} "
               f"after {card['label']['pain_free_days']} pain-free days")
    for source, meaning in (card["label"].get("definitions") or {}).items():
        users = sorted(a for a, s in card["label"]["sources"].items() if s == source)
        click.echo(f"  {source} ({len(users)} athlete(s)): {meaning}")
    _print_metrics(card)
    click.echo("libraries: " + ", ".join(f"{k} {v}" for k, v in card["libraries"].items()))


def _prior_info(path: Path, card: dict) -> None:
    m, d, b = card["model"], card["data"], card["model"]["base_rate"]
    click.echo(f"model: {path} (population prior version {m['prior_version']}, updated {card['created_utc']})")
    click.echo(f"prior: base rate {b['probability']:.2%} in {b['horizon_days']} days ({b['rate_per_1000_h']:g} "
               f"injuries per 1,000 h, {b['weekly_hours']:g} h a week, {b['target_share']:.0%} in the target "
               f"regions); {len(m['factors'])} factors with published or stated priors (docs/model.md)")
    click.echo(f"updated with: {len(d['athletes'])} athletes, {d['rows']} athlete-days ({d['first_day']} to "
               f"{d['last_day']}), {d['onsets_total']} onsets; {d['unlogged_rows_removed']} days left out "
               f"(no pain logged around them)")
    click.echo(m["summary"])
    sources = card["label"].get("sources") or {}
    texts = card["label"].get("texts") or {}
    if not sources:
        click.echo(f"label: {card.get('label_text') or card['label']}")
    for source, meaning in (card["label"].get("definitions") or {}).items():
        users = sorted(a for a, s in sources.items() if s == source)
        click.echo(f"label {source} ({len(users)} athlete(s): {', '.join(users)}): {texts.get(source, meaning)}")
        click.echo(f"  {meaning}")
    _print_metrics(card)
    click.echo("libraries: " + ", ".join(f"{k} {v}" for k, v in card["libraries"].items()))


# -- flags -----------------------------------------------------------------------------
@click.command("flags")
@click.option("--athlete", callback=athlete_name, default="me", show_default=True, help="Whose flags.")
@click.option("--days", type=click.IntRange(1, 3660), default=7, show_default=True,
              help="Look back this many days, ending on --until.")
@click.option("--until", type=DATE, default=None, metavar="YYYY-MM-DD",
              help="Last day to look at (default: the athlete's last day with a run or a pain entry).")
@model_option
@tz_option
@json_option
@pass_db
def flags_cmd(obj: Context, athlete: str, days: int, until: dt.date | None, model_path: str | None, zone: ZoneInfo,
              as_json: bool) -> None:
    """Risk flags: training patterns associated with a higher injury rate, with the numbers and one thing to change.

    The rules decide the flags (session spike, weekly jump, return from a break,
    low cadence for speed, downhill, track direction, rising pain); camber is a
    hypothesis, flagged (info) only from a road side observed by an out-and-back
    or declared with --road-side, never from the default side.  Severity
    follows the evidence (docs/evidence.md): warn for an association found in a
    prospective cohort of runners (a run > 10 % longer than the longest of the last
    30 days, Frandsen 2025), info for weaker, lab or design-choice evidence, and
    high only for the red flag.  Each flag names its source, and --json adds its
    evidence (grade, source, effect, threshold origin).  Red flags (see_a_clinician:
    rest pain >= 3/10 in a bone-stress region, night pain >= 3/10, pain rising
    over the last three runs within 14 days, groin pain >= 3/10 on two run days
    within 7 days) come first: stop and see a clinician.
    The last line is the risk model's probability of a hip or lateral-knee pain
    onset in the next 7 days with its interval and the base rate (gaitrisk risk
    explains it).  An older feature classifier (model train --model-kind auto)
    is shown beside the flags only for athletes with >= 5 labelled onsets.
    """
    from ..model.dataset import build_dataset
    from ..model.flags import assess, flag_json
    from ..model.judged import unjudged
    from ..model.risk import risk_for
    from ..report.wording import flag_cite
    from .app import data_days, no_runs_message

    path = model_file(obj, model_path)
    with obj.reader() as store:
        span = data_days(store, athlete, zone)
        try:
            ds = build_dataset(store, [athlete], zone)
            a = assess(store, athlete, zone, last=span.end(until), days=days,
                       model_path=path, dataset=ds)
        except LookupError:
            raise click.ClickException(no_runs_message(athlete, store.path))
        try:
            risk = risk_for(store, athlete, zone, a.last, a.last, model_path=path,
                            dataset=ds)
        except LookupError:   # --until before the first day with data: no risk to show
            risk = None
    table = ds.table(athlete)
    not_judged = unjudged(table, a.last) if table is not None else ()
    if as_json:
        click.echo(json.dumps({"athlete": athlete, "from": a.first.isoformat(), "to": a.last.isoformat(),
                               "flags": [flag_json(f) for f in a.flags],
                               "not_judged": [u.as_json() for u in not_judged],
                               "model": a.model.as_json() if a.model else None, "model_note": a.model_note or None,
                               "risk": risk.as_json() if risk else None},
                              indent=2))
        return
    note = span.header_note()
    click.echo(f"Flags of {athlete}, {a.first} to {a.last}{f'; {note}' if note else ''} "
               "(decision support, not a diagnosis)")
    if not a.flags:
        click.echo("  no flags: nothing in these days crossed a threshold")
    for f in a.flags:
        mark = "!!" if f.code == "see_a_clinician" else "  "
        click.echo(f"{mark}{f.severity:<4} {f.code:<16} {f.date}  {f.explanation}")
        click.echo(f"       -> {f.suggestion}  [{flag_cite(f)}]")
    if a.model:
        m = a.model
        top = ", ".join(f"{k} {v:+.2f}" for k, v in m.contributions[:3])
        click.echo(f"feature classifier: {m.probability:.0%} chance of a pain onset in the next {m.horizon_days} "
                   f"days (cohort base rate {m.base_rate:.0%}); main contributors (log-odds): {top}")
    # Without the older feature classifier's view, its note ("no trained model") would read as if
    # there were no risk model; the risk line below is the model (the note stays in --json).
    if not_judged:
        click.echo(f"could not judge on {a.last}:")
        for u in not_judged:
            click.echo(f"  {u.text()}")
    if risk:
        click.echo(risk.line())
        for line in risk.days[-1].factor_lines():
            click.echo(f"    {line.removeprefix('raised by ')}")
