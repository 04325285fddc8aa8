"""String types for request bodies and query parameters that PostgreSQL can store.

PostgreSQL ``text`` cannot hold U+0000, so a NUL character that reaches the database fails the
statement; these types refuse it at the edge with a 422 that names the field instead.
"""

from __future__ import annotations

import unicodedata
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


def name_key(name: str) -> str:
    """What two names are compared on when they must be unique "ignoring case": Unicode
    caseless matching (NFKC, full case folding), surrounding and repeated spaces ignored.

    Stored beside the name and indexed, so that the unique index and the service's own check
    compare the same thing whatever the database's locale (``lower()`` in a ``C`` database folds
    only ASCII, and no locale folds ``ß`` to ``ss`` or a final ``ς`` to ``σ``)."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return " ".join(folded.split())
