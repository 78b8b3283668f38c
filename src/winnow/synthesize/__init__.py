"""Self-instruct synthesis: prompt a generator with seed tasks, parse and filter new rows."""
