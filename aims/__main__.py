"""``python -m aims`` — the same as the ``aims`` console script."""

from aims.cli import main

main()
