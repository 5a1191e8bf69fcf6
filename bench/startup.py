"""Start-up benchmark: whole processes, each against a baseline measured in the same run.

    python bench/startup.py [--rounds 5]

Prints, as medians of ``--rounds`` process runs each (alternating with the baseline so a
busy spell on a shared machine does not land on one side only), in wall time and in CPU
time (user + system, which moves much less with the others' load on a shared machine),
with the load average at the end:
- ``scofeed --version`` / ``python -c pass`` (target, issue 9: at most 2x);
- one-shot ``scofeed build`` of the seed (this repository's sources/ and config.toml, into
  an empty state store and feeds folder each run) / ``python -c "import feedgen.feed,
  lxml.etree"``, the two libraries any feed build needs (target: at most 2x).

The runs are measured as installed: with bytecode caches (``.pyc``), which pip writes for
a wheel install and for the libraries. An environment that sets PYTHONDONTWRITEBYTECODE
(some sandboxes do) would otherwise compile scofeed's ~50 modules from source on every
run (~45 ms here), so the bench unsets it for its child processes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
SCRIPT = Path(PY).with_name("scofeed")
SCOFEED = [str(SCRIPT)] if SCRIPT.exists() else [PY, "-m", "scofeed"]


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(argv: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of one process run. The CPU time
    moves much less than the wall time when other work shares the cores."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{argv}: exit code {proc.returncode}")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def seed_site(root: Path) -> Path:
    """A fresh copy of the seed: sources/ and config.toml, no state, no feeds."""
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    shutil.copytree(REPO / "sources", root / "sources")
    shutil.copy(REPO / "config.toml", root / "config.toml")
    return root


def compare(
    rounds: int,
    ours: Callable[[], tuple[float, float]],
    base: Callable[[], tuple[float, float]],
) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """((ours, baseline, ratio) of the wall times, the same of the CPU times): medians."""
    mine, theirs = [], []
    for _ in range(rounds):
        mine.append(ours())
        theirs.append(base())
    out = []
    for k in (0, 1):
        a = statistics.median(m[k] for m in mine)
        b = statistics.median(t[k] for t in theirs)
        out.append((a, b, a / b))
    return out[0], out[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument(
        "--src",
        type=Path,
        help="measure `python -m scofeed` from this src/ folder (another checkout's, for a "
        "before/after comparison) instead of the installed scofeed",
    )
    args = ap.parse_args()
    if args.src is not None:
        SCOFEED[:] = [PY, "-m", "scofeed"]
        ENV["PYTHONPATH"] = str(args.src.resolve())
    timed([PY, "-c", "import feedgen.feed, lxml.etree"])  # warm the disk cache once
    timed([*SCOFEED, "--version"])
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "seed"
        seed_site(site)  # a first build writes the bytecode caches of what build imports
        timed([*SCOFEED, "--config", str(site / "config.toml"), "build"], cwd=site)

        def build() -> tuple[float, float]:
            seed_site(site)
            return timed([*SCOFEED, "--config", str(site / "config.toml"), "build"], cwd=site)

        rows = [
            (
                "scofeed --version",
                "python -c pass",
                compare(
                    args.rounds,
                    lambda: timed([*SCOFEED, "--version"]),
                    lambda: timed([PY, "-c", "pass"]),
                ),
            ),
            (
                "scofeed build (seed, cold)",
                "import feedgen.feed, lxml.etree",
                compare(
                    args.rounds,
                    build,
                    lambda: timed([PY, "-c", "import feedgen.feed, lxml.etree"]),
                ),
            ),
        ]
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"start-up, median of {args.rounds} process runs each (target: ratio <= 2.0x); "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load}"
    )
    for ours, base, (wall, cpu) in rows:
        for kind, (a, b, ratio) in (("wall", wall), ("cpu", cpu)):
            verdict = "ok" if ratio <= 2.0 else "over target"
            print(
                f"{ours:<27} {kind:>4} {a * 1000:6.1f} ms | {base:<32} {b * 1000:6.1f} ms | ",
                end="",
            )
            print(f"{ratio:4.2f}x {verdict}")


if __name__ == "__main__":
    main()
