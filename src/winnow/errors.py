"""User-facing errors: one sentence naming the file, line or key, what was expected, what to do."""


class WinnowError(Exception):
    """An error the user can fix; the CLI prints its message alone, without a traceback."""
