"""`python -m bot` is the same as the `renfort` command."""

from bot.launch import main

main()
