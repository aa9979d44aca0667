"""`python -m steward` runs the CLI."""

from steward.cli.main import main

main()
