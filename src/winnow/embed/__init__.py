"""Sentence embeddings: one encoder, loaded once, behind the embed classifier and semantic dedup."""
