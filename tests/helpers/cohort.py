"""The seeded planted-mechanism cohort (docs/model.md) that conftest.py builds once per session.

tests/test_model_cohort.py, test_model_cli.py and test_model_dataset.py share it and only read it.
"""

SYNTHETIC_COHORT = {"seed": 2, "athletes": 15, "weeks": 14, "sample_interval_s": 30}
