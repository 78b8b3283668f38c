"""Deduplication: exact and MinHash steps, each decided in one process or shard by shard, and
semantic (SemDeDup) dedup on sentence embeddings, decided in one process.

Each step registers when its module is imported, which the step registry
(`winnow.curate.steps.registry`) does when a recipe names the step; this package imports
none, so exact deduplication never loads MinHash's numba kernels nor the encoder.
"""
