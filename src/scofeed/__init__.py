"""scofeed: turns SCO Secretariat press releases into feeds and webhooks."""

# The one place the version is written: pyproject.toml reads it from here
# ([tool.setuptools.dynamic]); a literal, because asking importlib.metadata costs more
# than the rest of `scofeed --version`.
__version__ = "0.1.0"

USER_AGENT = f"scofeed/{__version__} (+https://github.com/scofeed/scofeed)"
