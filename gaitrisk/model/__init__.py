"""The gait-risk model: dataset assembly, evidence-based rules, the estimator, validation."""
