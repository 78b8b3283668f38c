"""Command-line verbs, one module per stage; cli.py assembles them."""
