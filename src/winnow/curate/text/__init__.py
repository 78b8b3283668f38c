"""Compiled text machinery the steps share: Arrow buffers, hashing, word split, line measures."""
