"""``python -m mercato`` runs the command line."""

from mercato.cli import main

main()
