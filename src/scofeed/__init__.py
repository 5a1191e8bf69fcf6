"""scofeed: turns SCO Secretariat press releases into feeds and webhooks."""

# The one place the version is written: pyproject.toml reads it from here
# ([tool.setuptools.dynamic]), so the installed package's metadata says the same. A
# literal: importlib.metadata would cost `scofeed --version` more than all the rest of
# it (python -X importtime). Moved with each release (0.2.0's store schema is far from
# 0.1.0's); the feeds name it (<generator>: a new one re-renders them, see
# render.code_version), as do every request's User-Agent and the ActivityPub nodeinfo.
__version__ = "0.2.0"

HOMEPAGE = "https://github.com/scofeed/scofeed"  # the software's, not a site's
USER_AGENT = f"scofeed/{__version__} (+{HOMEPAGE})"
