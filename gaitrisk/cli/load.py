"""CLI for the training-load table, the pain log and data gaps (``gaitrisk load``, ``pain``, ``gap``)."""
