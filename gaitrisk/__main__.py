"""``python -m gaitrisk``: the same as the ``gaitrisk`` command."""

from .cli.main import main

main()
