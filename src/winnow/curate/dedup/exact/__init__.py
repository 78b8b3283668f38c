"""Exact deduplication: the step and its shard-by-shard decision."""
