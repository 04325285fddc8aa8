"""Write the gateway's GraphQL SDL to ``schema.graphql`` (``python -m gateway.export_schema``).

Frontends generate their TypeScript types from the checked-in file; a test fails when it and the
live schema drift apart.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gateway.schema import build_schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def render_sdl() -> str:
    return build_schema().as_str().rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=SCHEMA_FILE, help="where to write the SDL")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when the file differs; write nothing"
    )
    args = parser.parse_args(argv)
    sdl = render_sdl()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != sdl:
            raise SystemExit(f"{args.output} is out of date; run `python -m gateway.export_schema`")
        return
    args.output.write_text(sdl)


if __name__ == "__main__":
    main()
