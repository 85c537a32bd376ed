"""``python -m gitprov`` runs the command line."""

from gitprov.cli.main import main

main()
