"""The one error a meter file raises: one line naming the file, the column or row, and the value."""

from __future__ import annotations

from twin.config.errors import _short


class MeterDataError(ValueError):
    """A meter file that cannot be used.

    ``str(err)`` is one line: ``<file>: <where>: <what is wrong; what is expected> (got <value>)``.
    Only the single offending value is ever shown (shortened to 80 characters), never a line of the
    file, so an error cannot leak the file's contents.
    """

    def __init__(self, file: str, where: str, message: str, value: object = None,
                 has_value: bool = False):
        self.file = file
        self.where = where
        self.value = value
        got = f" (got {_short(value)})" if has_value else ""
        place = f" {where}:" if where else ""
        text = f"{file}:{place} {message}{got}"
        super().__init__(" ".join(text.split()))  # one line, whatever the value holds
