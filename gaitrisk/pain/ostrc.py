"""The weekly OSTRC overuse-injury questionnaire, version 2 (OSTRC-O2; evidence table ``Clarsen 2020``).

Four questions about one body area and the past 7 days, each with four answer options
scored 0, 8, 17 and 25 (the option index 0-3 is stored; the score is derived).  The
severity score is their sum, 0-100, with the questionnaire's two shortcuts: "full
participation without problems" ends it at 0, and "could not participate" ends it at
100 (questions 2-4 are then not asked, and their answers are ``None``).

A *substantial problem* is one that stopped participation, or reduced training or
performance to a moderate or major extent (question 1 option 3, or question 2 or 3
option 2 or 3; Clarsen 2020, following Clarsen 2013).

Areas use the pain log's regions (:mod:`gaitrisk.vocab`), so the questionnaire and
the 0-10 log speak of the same places and the model's target regions apply to both.
A week is keyed by its Monday (ISO week, the athlete's local calendar).  The question
stems follow the published form, with the area named; the option labels are short forms
of the published options, in the same order and with the same scores.
"""

from __future__ import annotations

import datetime as dt
import re

from .. import vocab
from ..records import OstrcWeek

# (short name, question stem, answer options in score order)
QUESTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("participation",
     "Have you had any difficulties participating in training and competition due to {area} problems "
     "during the past 7 days?",
     ("full participation without {area} problems", "full participation, but with {area} problems",
      "reduced participation due to {area} problems", "could not participate due to {area} problems")),
    ("training",
     "To what extent have you modified your training or competition due to {area} problems during the past 7 days?",
     ("no modification", "to a minor extent", "to a moderate extent", "to a major extent")),
    ("performance",
     "To what extent have {area} problems affected your performance during the past 7 days?",
     ("no effect", "to a minor extent", "to a moderate extent", "to a major extent")),
    ("symptoms",
     "To what extent have you experienced {area} pain during the past 7 days?",
     ("no pain", "mild pain", "moderate pain", "severe pain")),
)
NAMES: tuple[str, ...] = tuple(q[0] for q in QUESTIONS)


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


def option(text: str | int | None, name: str) -> int | None:
    """An answer as given (``"2"``, 2, blank) as an option index, or ``None`` when blank."""
    if text is None or str(text).strip() == "":
        return None
    s = str(text).strip()
    if not re.fullmatch(r"\d", s) or int(s) > 3:
        raise ValueError(f"{name} {s!r} is not an option 0-3")
    return int(s)


def build_week(athlete: str, *, day: dt.date, area: str, participation: str | int | None,
               training: str | int | None = None, performance: str | int | None = None,
               symptoms: str | int | None = None, note: str | None = None,
               entered_at: dt.datetime | None = None) -> OstrcWeek:
    """Validate raw answers into an :class:`OstrcWeek` (any day of the week); ``ValueError`` with one line."""
    p = option(participation, "participation")
    if p is None:
        raise ValueError("participation (question 1) needs an answer 0-3")
    try:
        code = vocab.region(area)
    except ValueError as exc:
        raise ValueError(str(exc).replace("region", "area", 1)) from None
    return OstrcWeek(
        athlete=athlete, week=week_start(day), area=code, participation=p,
        training=option(training, "training"), performance=option(performance, "performance"),
        symptoms=option(symptoms, "symptoms"), entered_at=entered_at or dt.datetime.now(dt.timezone.utc),
        note=note.strip() if note and note.strip() else None)
