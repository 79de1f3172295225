"""``python -m fish_bot`` runs the command line."""

from fish_bot.cli import main

main()
