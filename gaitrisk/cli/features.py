"""CLI for athlete profiles and per-run features (``gaitrisk athlete``, ``gaitrisk features``)."""
