"""Where the repository, its fixtures and the real watch files are."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REAL_DATA = REPO.parent / "shared" / "real-data"
FIXTURES = REPO / "fixtures"


def real_data_or_skip() -> Path:
    if not (REAL_DATA / "manifest.json").is_file():
        pytest.skip(f"real watch files not found at {REAL_DATA} (the shared/ folder beside the repo)")
    return REAL_DATA


@lru_cache(maxsize=None)
def manifest() -> dict[str, dict]:
    data = json.loads((real_data_or_skip() / "manifest.json").read_text())
    return {f["file"]: f for f in data["files"]}


def real_files(folder: str) -> list[str]:
    if not (REAL_DATA / folder).is_dir():
        return []
    return sorted(f"{folder}/{p.name}" for p in (REAL_DATA / folder).iterdir() if p.is_file())
