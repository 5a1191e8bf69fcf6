"""`python -m scofeed`: the same entry point as the `scofeed` command."""

from scofeed.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
