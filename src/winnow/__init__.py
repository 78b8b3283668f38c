"""Winnow: curate, train and evaluate language-model data."""
