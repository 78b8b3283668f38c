"""LLM annotation: a catalog prompt over a seeded sample, scores parsed by a stated rule, every
reply cached and every unusable one quarantined (as Llama 3 and FineWeb-Edu labelled data)."""
