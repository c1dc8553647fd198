"""The command line: a thin click layer over the library (parse, call, print)."""

from .main import cli

__all__ = ["cli"]
