"""The pain log: a fixed vocabulary, validated entries, CSV import (Farrar 2001; Silbernagel 2007).

Times are entered in the athlete's local zone and stored in UTC.  Nothing here
imports pandas, so the CLI's cold start stays fast.
"""

from .. import vocab
from ..records import PainEntry
from .csvio import CsvImport, RowError, read_pain_csv
from .entry_input import build_entry

__all__ = ["CsvImport", "PainEntry", "RowError", "build_entry", "read_pain_csv", "vocab"]
