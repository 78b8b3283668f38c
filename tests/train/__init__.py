"""Tests of training on curated datasets."""
