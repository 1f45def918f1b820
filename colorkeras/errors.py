"""The package's own error for bad input.

Every check of a user's settings, files or arguments raises `InputError`, a
`ValueError` (so API callers can catch either). Command lines report it as
one line; any other exception is a bug and keeps its traceback.
"""


class InputError(ValueError):
    """A setting, file or argument colorkeras cannot take, with what it received."""


def first_line(error):
    """An error's first non-blank line (its type's name if it has none): one-line messages."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
