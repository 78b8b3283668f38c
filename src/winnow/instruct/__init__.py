"""Instruction sets: import the common formats, render prompts, validate rows."""
