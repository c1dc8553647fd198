"""Training load: the daily series, load metrics and the weekly table.

Submodules: :mod:`.gaps` (declared no-data spans), :mod:`.daily` (runs -> daily series),
:mod:`.metrics` (pure vectorised metric functions), :mod:`.weekly` (the weekly table and the
``load --json`` contract).  Local days and zones are :mod:`gaitrisk.times`.
"""
