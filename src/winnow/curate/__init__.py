"""Curation: readers, steps and the recipe runner that turn raw text into datasets."""
