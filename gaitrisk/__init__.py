"""gaitrisk: watch data + pain log -> hip/ITB risk flags for runners (decision support, not a diagnosis).

The library's front door is :mod:`gaitrisk.api` (docs/api.md): :func:`read`, :func:`run_features` and
:class:`Store`, re-exported here.  They are imported on first use, so that ``import gaitrisk`` (and
the CLI's start) imports neither pandas nor scikit-learn nor matplotlib.
"""

from typing import TYPE_CHECKING, Any

from .version import VERSION as __version__

__all__ = ["Activities", "Activity", "Athlete", "AthleteProfile", "PainLog", "RunFeatures", "Store", "StoreError",
           "read", "run_features"]

if TYPE_CHECKING:
    from .api import (Activities, Activity, Athlete, AthleteProfile, PainLog, RunFeatures, Store, StoreError,
                      read, run_features)


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import api

        globals().update({n: getattr(api, n) for n in __all__})
        return getattr(api, name)
    raise AttributeError(f"module 'gaitrisk' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The front door and the version (the subpackages are reached by importing them)."""
    return sorted([*__all__, "__version__"])
