"""Persistence: the SQLite store and its samples codec."""

from .sqlite import ENV_DB, SourceRef, Store, StoreError, decode_samples, default_db_path

__all__ = ["ENV_DB", "SourceRef", "Store", "StoreError", "decode_samples", "default_db_path"]
