"""`python -m ctlib`: the ctlib command."""

from ._cli import main

main()
