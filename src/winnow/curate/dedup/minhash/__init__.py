"""MinHash near-duplicate removal: compiled hashing, the shared core, index, step and sharding."""
