"""Turn user-given paths into a stream of candidate activity files, safely.

People hand us whatever their watch vendor exported: single ``.fit``/``.gpx``/
``.tcx`` files (possibly ``.gz``), folders of them, a Garmin "export all data"
archive (zips inside a zip) or a Strava bulk export (a zip with an
``activities.csv`` index).  :func:`iter_sources` walks all of these and yields
one :class:`SourceFile` per activity file, or a :class:`SourceProblem` for each
thing it had to skip, and never raises on bad input.

Archives are treated as hostile until proven otherwise: nothing is extracted to
disk, member names that try to escape the archive are refused, and every
decompression runs under a hard output cap (:class:`Limits`) rather than
trusting the sizes an archive declares about itself.

The modules, by job: :mod:`.walk` (paths, files and folders), :mod:`.archive` (zips),
:mod:`.caps` (capped reading), :mod:`.strava` (the Strava index), :mod:`.names` (formats
from names and first bytes), :mod:`.count` (counts by name for progress bars),
:mod:`.items` (what the walk yields).
"""

from .count import describe_ignored, estimate_count, ignored_files
from .items import DiskFile, Limits, SourceFile, SourcePath, SourceProblem
from .names import activity_format, is_activity_name
from .walk import iter_sources, read_plain

__all__ = ["DiskFile", "activity_format", "Limits", "SourceFile", "SourcePath", "SourceProblem", "describe_ignored", "estimate_count",
           "ignored_files", "is_activity_name", "iter_sources", "read_plain"]
