"""Shared fixtures: a temporary site (config.toml, sources/, feeds/, state) per test."""

from __future__ import annotations

import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from scofeed import config as config_mod
from scofeed.store import Store

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "sources" / "000_8062ea63522097a7.txt"
DATA = Path(__file__).resolve().parent / "data"


@dataclass
class Site:
    root: Path
    config_path: Path

    @property
    def sources(self) -> Path:
        return self.root / "sources"

    @property
    def feeds(self) -> Path:
        return self.root / "feeds"

    def config(self, *overrides: str) -> config_mod.Config:
        return config_mod.load(self.config_path, list(overrides))

    def store(self) -> Store:
        return Store(self.config().paths.state)

    def write_config(self, extra: str = "") -> None:
        self.config_path.write_text(BASE_CONFIG + extra, encoding="utf-8")


BASE_CONFIG = """
[site]
base_url = "http://127.0.0.1:8080/"
id_authority = "test.example,2026"

[paths]
sources = "sources"
feeds = "feeds"
state = "state/test.sqlite3"

[tags]
economy = ["e-commerce", "digital economy"]
"""


@pytest.fixture
def site(tmp_path: Path) -> Site:
    """An empty site with the seed release in its sources/."""
    s = Site(tmp_path, tmp_path / "config.toml")
    s.sources.mkdir()
    shutil.copy(SEED, s.sources / SEED.name)
    s.write_config()
    return s


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
