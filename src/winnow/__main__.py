"""Allow `python -m winnow` as well as the `winnow` command."""

from winnow.cli import main

main()
