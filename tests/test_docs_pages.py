"""The README and docs/ against the repository: every relative link and #anchor leads
somewhere, the README's dependency notes name exactly what pyproject.toml installs, and
docs/architecture.md draws the layers tests/test_layers.py enforces (the drawing had
`watch` one layer up and no `outboxes`), and docs/operations.md lists the metrics
/metrics exposes. A file, heading or dependency renamed without
its mentions fails here, not in a new operator's hands."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import webhook_toml
from scofeed.serve.metrics import exposition
from test_layers import LAYERS

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def prose(page: Path) -> str:
    """A page without its fenced blocks and inline code (neither holds links)."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return re.sub(r"``.+?``|`[^`\n]+`", "", text)


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation but `-` and
    `_` dropped, spaces made `-`; a repeated one gets `-1`, `-2`..."""
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *$", FENCE.sub("", page.read_text("utf-8")), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_and_anchor_resolves(page):
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", prose(page)):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no such heading in {linked.name}")
    assert broken == []


def test_the_readme_leads_to_every_page_of_docs():
    linked = set(re.findall(r"\]\(docs/([^)#]+)", prose(ROOT / "README.md")))
    assert sorted(p.name for p in PAGES[1:] if p.name not in linked) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_file_named_is_there(page):
    """A repository path in `code` (`src/...`, `tests/...`, `contrib/...`, `.ci/run`)
    or a module (`serve/app.py`, `schedule.py`: under src/scofeed/) names a file that
    exists; `<...>` is a placeholder."""
    text = page.read_text(encoding="utf-8")
    path = re.compile(
        r"(?<![\w./<-])((?:src|tests|bench|contrib|docs|\.ci)/[\w./-]*\w|(?:\w+/)*\w+\.py)(?![\w/<])"
    )
    missing = [
        name
        for span in re.findall(r"``.+?``|`([^`\n]+)`", text)
        for name in path.findall(span)
        if not any(
            (base / name).exists() for base in (ROOT, ROOT / "src", ROOT / "src" / "scofeed")
        )
    ]
    assert missing == []


def _names(requirements: list[str]) -> list[str]:
    return [re.match(r"[A-Za-z0-9_.-]+", r)[0] for r in requirements if "[" not in r]  # type: ignore[index]


def test_the_readme_says_why_each_dependency_is_there():
    """Its table is exactly the runtime dependencies; its notes name every test and lint
    one."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("## Dependencies", 1)[1].split("\n## ", 1)[0]
    table = [
        row.split("|")[1].strip().split()[0]
        for row in section.splitlines()
        if row.startswith("| ") and not row.startswith("| package") and "---" not in row
    ]
    runtime = _names(project["dependencies"])
    assert sorted(map(str.lower, table)) == sorted(map(str.lower, runtime))
    notes = section.split("\n\n", 2)[-1].lower()
    extras = project["optional-dependencies"]
    missing = [n for n in _names(extras["test"] + extras["lint"]) if n.lower() not in notes]
    assert missing == []


def drawn_layers() -> list[set[str]]:
    """The layers docs/architecture.md draws: module names in the first 40 columns,
    what they do after; a line of names ending in `,` goes on to the next line, any
    other line of names starts a layer; `(...)` lists a package's modules."""
    text = (ROOT / "docs" / "architecture.md").read_text("utf-8")
    drawing = text.split("layer list below", 1)[1].split("```", 2)[1]
    layers: list[set[str]] = []
    going_on = False
    for line in drawing.strip("\n").splitlines():
        names = line[:40].strip()
        assert not names or line[39:40] in (" ", ""), f"names past column 40: {line}"
        if not names:
            continue
        if not going_on:
            layers.append(set())
        layers[-1] |= set(re.findall(r"[a-z_]+", re.sub(r"\([^)]*\)?|^[^(]*\)", "", names)))
        going_on = names.endswith(",")
    return layers


def test_architecture_draws_the_layers_the_layer_test_enforces():
    declared = [
        {name.removeprefix("scofeed.") for name in layer} - {"scofeed", "__main__"}
        for layer in LAYERS
    ]
    drawn = drawn_layers()
    assert len(drawn) == len(declared), drawn
    for depth, (d, want) in enumerate(zip(drawn, declared, strict=True)):
        assert d == want, f"layer {depth}: drawn {sorted(d)}, declared {sorted(want)}"


def test_the_metrics_table_is_what_metrics_exposes(site):
    """docs/operations.md's table of /metrics against the exposition itself, on a site
    with every optional part on (a webhook, a source, ActivityPub): a row for each
    metric and no other, with the labels of those that have samples here."""
    site.write_config(
        webhook_toml("hook", "https://hook.example/h")
        + '\n[[sources]]\nname = "agency"\nkind = "feed"\nurl = "https://agency.example/f"\n'
        + "\n[activitypub]\nenabled = true\n"
    )
    cfg = site.config("site.base_url='https://sco.example/'")
    families = text_string_to_metric_families(exposition(cfg, site.store()).decode())
    exposed = {  # a counter as it is queried: its samples' name, with _total
        f.name + ("_total" if f.type == "counter" else ""): {k for s in f.samples for k in s.labels}
        for f in families
    }
    text = (ROOT / "docs" / "operations.md").read_text("utf-8")
    rows = re.findall(r"^\| `(scofeed_[a-z_]+)` \|([^|]*)\|", text, re.M)
    documented = {  # a label's values, in brackets after it, are not labels
        name: set(re.findall(r"`([a-z_]+)`", re.sub(r"\([^)]*\)", "", labels)))
        for name, labels in rows
    }
    assert sorted(documented) == sorted(exposed)
    wrong = [n for n, labels in exposed.items() if labels and labels != documented[n]]
    assert wrong == []
