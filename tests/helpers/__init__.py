"""Helpers shared by the test modules: paths, builders and comparisons (fixtures live in conftest.py)."""
