"""Risk reports: one athlete's flags, load, gait trends, exposure and pain in four formats.

Data flow: :mod:`.assemble` reads the store into :class:`AthleteReport` values; the
renderers format them -- :mod:`.text` (rich), :mod:`.markdown`, :mod:`.jsonout`
(versioned, ``report.schema.json``) and :mod:`.html` (one self-contained file with
the inline-SVG plots of :mod:`.plots`).  :func:`write_report_files` writes them
atomically, readable by the user only.  Decision support, not a diagnosis.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from typing import Any

from ..privatefile import write_private
from .filenames import safe_file_stem

if TYPE_CHECKING:
    from ..store import Store
    from .assemble import AthleteReport

# Read from .assemble on first use: the flags command reads the wording of this package
# without assembling a report.
_ASSEMBLED = ("PRIVACY_ZONE_M", "AthleteReport", "CadenceLine", "PainPoint", "RouteTrace", "RunPoint", "WeekTrend",
              "build_athlete_report")


def __getattr__(name: str) -> Any:
    if name in _ASSEMBLED:
        from . import assemble

        return getattr(assemble, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

FORMATS = ("text", "json", "html", "markdown")
EXTENSIONS = {"text": "txt", "json": "json", "html": "html", "markdown": "md"}


def render(reports: list[AthleteReport], fmt: str, *, with_maps: bool = False,
           generated_at: dt.datetime | None = None, color: bool = False) -> str:
    """``reports`` as one document in ``fmt`` (text|json|html|markdown).

    Route shapes appear only when ``with_maps`` is set *and* the reports were built
    with ``with_maps=True`` (the default builds none).  ``color`` applies to text only.
    """
    generated_at = generated_at or dt.datetime.now(dt.UTC)
    if not with_maps:
        reports = [_without_routes(r) for r in reports]
    if fmt == "text":
        from .text import render_text

        return render_text(reports, generated_at, color=color)
    if fmt == "json":
        from .jsonout import render_json

        return render_json(reports, generated_at)
    if fmt == "html":
        from .html import render_html

        return render_html(reports, generated_at)
    if fmt == "markdown":
        from .markdown import render_markdown

        return render_markdown(reports, generated_at)
    raise ValueError(f"unknown report format {fmt!r} (use one of {', '.join(FORMATS)})")


def _without_routes(rep: AthleteReport) -> AthleteReport:
    from dataclasses import replace

    return rep if rep.routes is None else replace(rep, routes=None)


def write_report_files(store: Store, athlete: str, directory: str | os.PathLike, *, zone, model_path=None,
                       formats: Iterable[str] = ("html", "json"), since: dt.date | None = None,
                       today: dt.date | None = None, with_maps: bool = False,
                       generated_at: dt.datetime | None = None) -> list[Path]:
    """Build ``athlete``'s report once and write ``<directory>/<athlete>.<ext>`` for each format.

    The folder is created user-only (0700) when missing; each file is written
    atomically with mode 0600.  Returns the paths written.
    """
    formats = tuple(formats)
    for f in formats:
        if f not in FORMATS:
            raise ValueError(f"unknown report format {f!r} (use one of {', '.join(FORMATS)})")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    from .assemble import build_athlete_report

    rep = build_athlete_report(store, athlete, zone, since=since, today=today, model_path=model_path,
                               with_maps=with_maps)
    generated_at = generated_at or dt.datetime.now(dt.UTC)
    stem = safe_file_stem(athlete)
    return [write_private(directory / f"{stem}.{EXTENSIONS[f]}",
                          render([rep], f, with_maps=with_maps, generated_at=generated_at)) for f in formats]


__all__ = [
    "FORMATS",
    "PRIVACY_ZONE_M",
    "AthleteReport",
    "CadenceLine",
    "PainPoint",
    "RouteTrace",
    "RunPoint",
    "WeekTrend",
    "build_athlete_report",
    "render",
    "safe_file_stem",
    "write_private",
    "write_report_files",
]
