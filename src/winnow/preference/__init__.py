"""Preference sets: chosen/rejected pairs and unpaired KTO rows for DPO and reward models."""
