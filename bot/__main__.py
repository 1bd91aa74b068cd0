"""`python -m bot` is the same as the `renfort` command."""

from renfort.launch import main

main()
