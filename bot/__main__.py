"""`python -m bot` is the same as the `renfort` command."""

from bot.cli import main

main()
