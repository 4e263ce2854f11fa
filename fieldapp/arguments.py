"""Numbers from URLs, read so that none a visitor can type is beyond what the database holds.

Our ids and portrait numbers are INTEGER columns: 32 bits on PostgreSQL, 64 on SQLite. A bigger
Python int handed to either driver raises there (a DataError, an OverflowError), which would be
a 500. No row has such a number, so a path holding one is a 404, and a query argument holding
one is treated as unreadable, as a word would be.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter, Map

#: The range of an INTEGER column on both databases (PostgreSQL's is the narrower).
BIGGEST_INTEGER = 2**31 - 1
SMALLEST_INTEGER = -(2**31)


def database_int(value: str) -> int:
    """`value` as an integer an INTEGER column can hold; ValueError for anything else.

    For query arguments: `request.args.get("before", type=database_int)` gives the default
    (None) for a number beyond the database's range, as for a word.
    """
    number = int(value)
    if not SMALLEST_INTEGER <= number <= BIGGEST_INTEGER:
        raise ValueError(f"{value!r} is beyond the database's integers")
    return number


class DatabaseIntegerConverter(IntegerConverter):
    """`<int:...>` in every route, bounded by the database's integers: `/gallery/<30 digits>`
    matches no rule (a 404), instead of reaching the database and overflowing there."""

    def __init__(
        self,
        map: Map,  # werkzeug's own argument names, so that `<int(max=99):n>` still works
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        lowest = SMALLEST_INTEGER if min is None or min < SMALLEST_INTEGER else min
        highest = BIGGEST_INTEGER if max is None or max > BIGGEST_INTEGER else max
        super().__init__(map, fixed_digits, lowest, highest, signed)
