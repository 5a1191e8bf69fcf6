"""`python -m scofeed`: the same entry point as the `scofeed` command."""

from scofeed.cli import run

if __name__ == "__main__":
    run()
