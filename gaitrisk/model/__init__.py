"""The gait-risk model (issue 4): dataset assembly, evidence-based rules, the estimator, validation."""
