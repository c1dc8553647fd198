"""The optional C part of gaitrisk; everything else is configured in pyproject.toml.

``optional=True``: where no C compiler or Python headers are present the install still
succeeds and the fast FIT decoder walks messages in Python (same results, slower).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("gaitrisk.ingest.fit._fitwalk", ["gaitrisk/ingest/fit/_fitwalk.c"], optional=True)])
