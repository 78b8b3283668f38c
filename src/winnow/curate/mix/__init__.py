"""Data mixing: draw a budget of documents or tokens from several inputs in set proportions.

Each input gets `weight / sum(weights)` of the budget. An input smaller than its share is
repeated in whole epochs plus a seeded sample of its rows for the rest, at most `max_epochs`
copies of a row (the rest is recorded as a shortfall); a larger one is downsampled by a
seeded sample. Drawn rows keep their fields and gain `source_id` (the input's id),
`mix_source` (the input's name) and `mix_epoch` (0 for a row's first copy, N for its N-th
repeat, whose `id` becomes `ID#N`). The rows are shuffled by seeded keys with DuckDB's
out-of-core sort, so the same inputs and seed give the same rows in the same order.
"""
