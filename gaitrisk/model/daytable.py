"""One athlete's athlete-day table as numpy columns.

:func:`gaitrisk.model.dataset.day_table` builds it.  The flags, the risk and the report read its
columns as arrays, so the everyday commands need no pandas; :attr:`DayTable.frame` is the same
table as the model's DataFrame (index ``(athlete, day)``), built on first use.  A DataFrame from
anywhere else (a test's hand-made rows, a filtered model frame) becomes a table with
:meth:`DayTable.from_frame`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

# Columns that are flags: 1.0 / 0.0 / NaN in the arrays, nullable booleans in the frame (as the
# load metrics give them); and the text column, None where unknown.
FLAG_COLUMNS: tuple[str, ...] = ("week_jump", "descent_spike")
TEXT_COLUMNS: tuple[str, ...] = ("camber_side_evidence",)


def number(v: Any) -> float:
    """A table value as a float; NaN for a missing one (None, pandas' NA) or a text
    (``camber_side_evidence``)."""
    if v is None or isinstance(v, str):
        return float("nan")
    try:
        return float(v)
    except (TypeError, ValueError):   # pandas' NA refuses float()
        return float("nan")


@dataclass(frozen=True, eq=False)  # numpy fields: no field-wise equality or hash
class DayTable:
    """``days`` (local ``datetime64[D]``, one per row, oldest first) and one array per column."""

    athlete: str
    days: np.ndarray
    columns: Mapping[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.days)

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def col(self, name: str) -> np.ndarray:
        """A column as floats (NaN = unknown); all NaN when the table has no such column, so that a
        rule reading it cannot fire on a table that predates it."""
        if name not in self.columns:
            return np.full(len(self), np.nan)
        return np.asarray(self.columns[name], float)

    def row(self, i: int) -> dict[str, Any]:
        """Row ``i`` as ``{column: value}``."""
        return {name: values[i] for name, values in self.columns.items()}

    def day(self, i: int) -> dt.date:
        return self.days[i].item()

    def position(self, day: dt.date) -> int | None:
        """The row of ``day``, None when the table has no such day."""
        i = int(np.searchsorted(self.days, np.datetime64(day, "D")))
        return i if i < len(self) and self.days[i] == np.datetime64(day, "D") else None

    def take(self, rows: np.ndarray) -> DayTable:
        """The rows ``rows`` (a boolean mask or positions), in order."""
        return DayTable(self.athlete, self.days[rows], {k: v[rows] for k, v in self.columns.items()})

    def between(self, first: dt.date, last: dt.date) -> DayTable:
        """The days first..last."""
        return self.take((self.days >= np.datetime64(first, "D")) & (self.days <= np.datetime64(last, "D")))

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The same rows as a DataFrame indexed by ``(athlete, day)`` (naive midnight timestamps)."""
        import pandas as pd

        consecutive = len(self) < 2 or bool((np.diff(self.days).astype(int) == 1).all())
        days = pd.DatetimeIndex(self.days.astype("datetime64[s]"), freq="D" if consecutive else None)
        index = pd.MultiIndex.from_arrays([[self.athlete] * len(self), days], names=["athlete", "day"])
        out: dict[str, Any] = dict(self.columns)
        for name in TEXT_COLUMNS:   # as object: pandas would make it a string column with NaN
            if name in out:
                out[name] = pd.Series(out[name], index=index, dtype=object)
        frame = pd.DataFrame(out, index=index)
        for name in FLAG_COLUMNS:
            if name in frame:
                frame[name] = frame[name].astype("boolean")
        return frame

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> DayTable:
        """The rows of an athlete-day DataFrame as they are (indexed by day, or by athlete and day):
        numbers with missing values and flags as floats (NaN = unknown), texts as objects, the rest
        as they are."""
        import pandas as pd

        names = frame.index.names or ()
        day_index = frame.index.get_level_values("day") if "day" in names else frame.index
        days = np.asarray(pd.DatetimeIndex(day_index).to_numpy("datetime64[ns]"), "datetime64[D]") \
            if len(frame) else np.array([], "datetime64[D]")
        athlete = str(frame.index.get_level_values("athlete")[0]) if "athlete" in names and len(frame) else ""
        columns: dict[str, np.ndarray] = {}
        for name in frame.columns:
            s = frame[name]
            if s.dtype == object or isinstance(s.dtype, pd.StringDtype):
                columns[name] = s.to_numpy(object)
            elif isinstance(s.dtype, np.dtype) and s.dtype.kind in "biu":   # numpy's own: no missing values
                columns[name] = s.to_numpy()
            else:
                columns[name] = s.to_numpy(float, na_value=np.nan)
        return cls(athlete, days, columns)
