"""Write the gateway's GraphQL SDL to ``schema.graphql`` (``python -m gateway.export_schema``).

Frontends generate their TypeScript types from the checked-in file; a test fails when it and the
live schema drift apart. ``--breaking`` lists what the code changes against the checked-in file
with graphql-core's ``find_breaking_changes`` and ``find_dangerous_changes``, and exits 1 when a
change would break existing clients (removed or retyped fields, new required arguments…).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from graphql import (
    BreakingChange,
    DangerousChange,
    GraphQLSchema,
    find_breaking_changes,
    find_dangerous_changes,
)
from graphql import build_schema as build_sdl_schema

from gateway.schema import build_schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def render_sdl() -> str:
    return build_schema().as_str().rstrip("\n") + "\n"


@dataclass(frozen=True)
class SchemaChanges:
    breaking: list[BreakingChange]
    dangerous: list[DangerousChange]


def schema_changes(old_sdl: str, new_schema: GraphQLSchema | None = None) -> SchemaChanges:
    """What ``new_schema`` (default: the code's) changes against the SDL ``old_sdl``."""
    old = build_sdl_schema(old_sdl)
    new = new_schema if new_schema is not None else build_sdl_schema(render_sdl())
    return SchemaChanges(
        breaking=find_breaking_changes(old, new), dangerous=find_dangerous_changes(old, new)
    )


def report_changes(changes: SchemaChanges, against: Path, out: TextIO) -> int:
    """Print the changes; the exit status (1 when any is breaking)."""
    if not changes.breaking and not changes.dangerous:
        print(f"No breaking or dangerous changes against {against}.", file=out)
        return 0
    sections: list[tuple[str, Sequence[BreakingChange | DangerousChange]]] = [
        ("Breaking", changes.breaking),
        ("Dangerous", changes.dangerous),
    ]
    for title, items in sections:
        if items:
            print(f"{title} changes against {against} ({len(items)}):", file=out)
            for change in sorted(items, key=lambda c: (c.type.name, c.description)):
                print(f"  {change.type.name}: {change.description}", file=out)
    return 1 if changes.breaking else 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=SCHEMA_FILE, help="where to write the SDL")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when the file differs; write nothing"
    )
    parser.add_argument(
        "--breaking",
        action="store_true",
        help="list breaking and dangerous changes of the code against the file (--output); "
        "exit 1 on a breaking one; write nothing",
    )
    args = parser.parse_args(argv)
    sdl = render_sdl()
    if args.breaking:
        if not args.output.exists():
            raise SystemExit(f"{args.output} does not exist: nothing to compare with")
        status = report_changes(
            schema_changes(args.output.read_text(), build_sdl_schema(sdl)), args.output, sys.stdout
        )
        if status:
            raise SystemExit(status)
        return
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != sdl:
            raise SystemExit(f"{args.output} is out of date; run `python -m gateway.export_schema`")
        return
    args.output.write_text(sdl)


if __name__ == "__main__":
    main()
