"""Semantic dedup (SemDeDup): sentence vectors, k-means, and a greedy walk inside each cluster."""
