"""Training load: the daily series, load metrics and the weekly table.

Submodules: :mod:`.calendar` (local days and zones), :mod:`.gaps` (declared no-data
spans), :mod:`.daily` (runs -> daily series), :mod:`.metrics` (pure vectorised metric
functions), :mod:`.weekly` (the weekly table and the ``load --json`` contract).
This package file imports nothing heavy: ``gaitrisk.pain`` uses :mod:`.calendar`
and must stay light for the CLI's cold start.
"""
