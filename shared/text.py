"""String types for request bodies and query parameters that PostgreSQL can store.

PostgreSQL ``text`` cannot hold U+0000, so a NUL character that reaches the database fails the
statement; these types refuse it at the edge with a 422 that names the field instead.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints


def no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000)")
    return value


# Free text: trimmed, no NUL.
Text = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(no_nul)]
# A short name or title: trimmed, 1 to 500 characters, no NUL.
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(no_nul),
]
# Longer prose (descriptions, notes): at most 20,000 characters, no NUL.
Prose = Annotated[str, StringConstraints(max_length=20_000), AfterValidator(no_nul)]
