"""This checkout against an earlier commit: the same `scofeed` commands, whole processes.

    python bench/compare.py COMMIT [--job seed|cold|commands] [--rounds N] [-n 10000]

Checks COMMIT out into a temporary git worktree and runs `scofeed build` as whole
processes, alternating between that worktree's code and this checkout's (same
interpreter, same installed dependencies: only ``PYTHONPATH`` differs), each round
into an empty store: ``seed``, a site holding only the seed release (start-up and one
release: issue 9's one-shot build); ``cold``, N synthetic releases shaped like the
seed (bench/build.py's) in the layout of issue 9's 30-line script (the newest 50, Atom
and RSS, no archive pages). Prints each side's median wall and CPU time (the process
and its workers, reaped) and the ratio this / COMMIT: what a change did to the build,
measured on one host in one run, the machine's own speed cancelled out.

``commands``: the commands that only read a built site of the seed (its store and
config), each timed the same way: ``list``, ``show``, ``status``, ``config check``,
``webhook list`` and a ``build`` with nothing new (issue 9: each command imports only
what it uses). Both sides read one site, built once by this checkout.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from build import synthetic  # bench/ is on sys.path when run as a script

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "sources" / "000_8062ea63522097a7.txt"
SCRIPT_LAYOUT = ["feeds.archives=false", "feeds.formats=['atom','rss']"]


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def one_build(src: Path, sources: Path, layout: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one `scofeed build` of ``sources`` into a new store."""
    with tempfile.TemporaryDirectory(prefix="scofeed-compare-") as tmp:
        sets = [f"paths.sources='{sources}'", f"paths.state='{tmp}/state.sqlite3'",
                f"paths.feeds='{tmp}/feeds'", "limits.settle=0", *layout]  # fmt: skip
        argv = [sys.executable, "-m", "scofeed", *(a for s in sets for a in ("--set", s))]
        drop = ("SCOFEED_CONFIG", "PYTHONDONTWRITEBYTECODE")  # bytecode cached, as installed
        env = {k: v for k, v in os.environ.items() if k not in drop} | {"PYTHONPATH": str(src)}
        used, start = children_cpu(), time.perf_counter()
        subprocess.run([*argv, "build"], cwd=tmp, env=env, check=True, capture_output=True)
        return time.perf_counter() - start, children_cpu() - used


READING = [["list"], ["show", "90ba02eaf80744aa151b"], ["status"], ["config", "check"],
           ["webhook", "list"], ["build"]]  # fmt: skip


def one_command(src: Path, site: Path, words: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one ``scofeed *words`` run in ``site`` with ``src``'s code."""
    drop = ("SCOFEED_CONFIG", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in drop} | {"PYTHONPATH": str(src)}
    used, start = children_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "scofeed", *words], cwd=site, env=env, check=True,
                   capture_output=True)  # fmt: skip
    return time.perf_counter() - start, children_cpu() - used


def compare_commands(sides: dict[str, Path], site: Path, rounds: int) -> None:
    """Each of ``READING`` in ``site``, alternating between the sides; prints medians."""
    shutil.copy(SEED, site / "sources")
    shutil.copy(REPO / "config.toml", site)
    one_command(sides["this checkout"], site, ["build"])
    times: dict[tuple[str, str], list[float]] = {}
    for r in range(rounds):
        for words in READING:
            order = list(sides.items())
            for name, src in order if r % 2 == 0 else reversed(order):
                times.setdefault((" ".join(words), name), []).append(
                    one_command(src, site, words)[1]
                )
    then, this = sides
    print(f"CPU of each command on a built site of the seed, median of {rounds} rounds")
    for words in READING:
        key = " ".join(words)
        old, new = (statistics.median(times[key, side]) * 1000 for side in (then, this))
        print(f"{key:<32} {then} {old:7.1f} ms   this checkout {new:7.1f} ms   {new / old:.2f}x")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("commit", help="the earlier commit (anything git rev-parse takes)")
    ap.add_argument("--job", choices=("seed", "cold", "commands"), default="seed")
    ap.add_argument("--rounds", type=int, default=0, help="default: 21 for seed, 5 for cold")
    ap.add_argument("-n", type=int, default=10_000, help="releases of the cold job")
    args = ap.parse_args()
    rounds = args.rounds or (21 if args.job == "seed" else 5)
    with tempfile.TemporaryDirectory(prefix="scofeed-compare-") as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(old),
                        args.commit], check=True)  # fmt: skip
        try:
            sources = Path(tmp) / "sources"
            sources.mkdir()
            if args.job == "commands":
                sides = {args.commit: old / "src", "this checkout": REPO / "src"}
                compare_commands(sides, Path(tmp), rounds)
                return 0
            if args.job == "seed":
                shutil.copy(SEED, sources)
                layout: list[str] = []
            else:
                rng = random.Random(42)
                for i in range(args.n):
                    text = synthetic(i, rng, nbsp=True)
                    (sources / f"{i:06d}.txt").write_text(text, encoding="utf-8")
                layout = SCRIPT_LAYOUT
            sides = {args.commit: old / "src", "this checkout": REPO / "src"}
            for side in sides.values():  # each side's bytecode written before timing
                one_build(side, sources, layout)
            wall: dict[str, list[float]] = {k: [] for k in sides}
            cpu: dict[str, list[float]] = {k: [] for k in sides}
            for r in range(rounds):  # alternating: a busy spell lands on both sides
                order = list(sides.items())
                for name, src in order if r % 2 == 0 else reversed(order):
                    w, c = one_build(src, sources, layout)
                    wall[name].append(w)
                    cpu[name].append(c)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(old)],
                           check=False)  # fmt: skip
    job = "the seed alone" if args.job == "seed" else f"{args.n} releases, the script's layout"
    print(f"`scofeed build` of {job}, median of {rounds} alternating rounds")
    for name in sides:
        print(f"{name:<16} wall {statistics.median(wall[name]) * 1000:8.1f} ms   "
              f"CPU {statistics.median(cpu[name]) * 1000:8.1f} ms")  # fmt: skip
    this, then = "this checkout", args.commit
    print(
        f"this / {then}: wall {statistics.median(wall[this]) / statistics.median(wall[then]):.3f}x"
        f", CPU {statistics.median(cpu[this]) / statistics.median(cpu[then]):.3f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
