"""The package's own error for bad input.

Every check of a user's settings, files or arguments raises `InputError`, a
`ValueError` (so API callers can catch either). Command lines report it as
one line; any other exception is a bug and keeps its traceback.
"""


class InputError(ValueError):
    """A setting, file or argument colorkeras cannot take, with what it received."""
