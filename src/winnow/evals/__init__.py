"""Evaluation: lm-eval on local task files, eval runs that record what makes scores comparable,
comparison across runs, and contamination checks against a model's training data."""
