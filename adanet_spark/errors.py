"""The one error type for bad input; jobs turn it into exit code 2."""


class BadInputError(ValueError):
    """Bad input from the user: a config key, a table, a column or a value.

    The message must name what is at fault (the dotted config key, the table,
    the column) so that one log line is enough to fix the input.
    """

    exit_code = 2
