"""Data ablations: the same small model trained on the same number of tokens of each candidate
dataset, over several seeds, evaluated alike, with a verdict that trusts only differences
larger than the seed-to-seed spread (the method behind FineWeb's and DCLM's recipes)."""
