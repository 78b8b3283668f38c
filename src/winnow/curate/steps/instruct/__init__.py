"""Steps for instruction sets (instruction, input, output rows), one module per step."""
