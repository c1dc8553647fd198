"""The fuzz campaign's script (scripts/fuzz.py) as a module, and the outcomes a clean run ends in."""

from __future__ import annotations

import importlib.util
import sys

from .paths import REPO


def _load_fuzz():
    spec = importlib.util.spec_from_file_location("gaitrisk_fuzz_script", REPO / "scripts" / "fuzz.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


fuzz = _load_fuzz()
CLEAN = {"error", "partial", "imported", "skipped"}
