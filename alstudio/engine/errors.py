"""Errors that come from the user's input rather than from a bug.

Their message is one sentence naming the field or file; the CLI prints it and exits
with code 2, the GUI shows it in a dialog. Nothing else should print a traceback.
"""


class UserInputError(Exception):
    """Bad input: a config value, a file, an argument."""


class ConfigError(UserInputError):
    """A config key is unknown, has the wrong type or is out of range."""
