"""scofeed: turns SCO Secretariat press releases into feeds and webhooks."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("scofeed")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

USER_AGENT = f"scofeed/{__version__} (+https://github.com/scofeed/scofeed)"
