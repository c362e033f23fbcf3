"""Compare this tree's neurodeck with another version's, case by case, on the same machine.

    python benchmarks/compare.py --base ../old/generator            # an older checkout's source root
    python benchmarks/compare.py --base ../old:generator --runs 9   # a version whose package was `generator`

A shared machine drifts by tens of percent within a minute (shared cores, clock boosts), more than
the difference between two versions: two `benchmarks/run.py` tables measured one after the other
compare the drift as much as the code. Here every case runs the two versions alternately, in the
order ABBA ABBA..., on identical synthetic projects (one copy each, each with its own cache), so
both see the same machine; the table gives both medians and the change. CPU time (the process and
its workers, from the kernel's accounting) is printed beside wall time: it drifts less.

`--base SRC[:MODULE]`: the folder that holds the other version's package (like `generator/` here;
MODULE defaults to neurodeck) and the module `python -m` runs.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402


@dataclass
class Side:
    """One version: how to run it, and its own copy of each project and its own cache."""

    label: str
    source: Path
    module: str
    projects: dict[str, Path]
    cache: Path

    def env(self) -> dict[str, str]:
        return dict(os.environ, PYTHONPATH=str(self.source), NEURODECK_CACHE_DIR=str(self.cache))

    def run(self, args: list[str], project: str) -> tuple[float, float]:
        """Wall and CPU seconds (this process and every worker it waited for) of one command."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", self.module, *args], cwd=self.projects[project], env=self.env(),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    def clean(self, project: str) -> None:
        """An empty cache and no previous build: what a cold build starts from."""
        root = self.projects[project]
        shutil.rmtree(self.cache, ignore_errors=True)
        shutil.rmtree(root / ".neurodeck-cache", ignore_errors=True)  # 5f8818a and older kept it here
        shutil.rmtree(root / "dist", ignore_errors=True)
        (root / "decks" / "bench.lock").unlink(missing_ok=True)


def alternate(sides: tuple[Side, Side], runs: int, case) -> list[list[tuple[float, float]]]:
    """`case(side, i)` for both sides, `runs` times each, in the order ABBA ABBA ..."""
    results: list[list[tuple[float, float]]] = [[], []]
    for i in range(runs):
        order = (0, 1) if i % 2 == 0 else (1, 0)
        for k in order:
            results[k].append(case(sides[k], i))
    return results


def peak_pss_mb(side: Side, project: str) -> float:
    """The peak proportional set size of a cold build's process tree (benchmarks/run.py's way)."""
    from run import _tree_rss

    proc = subprocess.Popen([sys.executable, "-m", side.module, "build"], cwd=side.projects[project],
                            env=side.env(), stdout=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.01)
    if proc.returncode != 0:
        raise SystemExit(f"{side.label}: the build failed")
    return peak / 1024


# Memory is read from /proc (proportional set sizes): Linux only.
MEASURES_MEMORY = Path("/proc/self/smaps_rollup").exists()


_WRITE = """
import io, sys, time
from pathlib import Path
try:
    from {m}.pipeline.build import compile_deck, package_deck
except ImportError:  # versions before the package's stages had folders
    from {m}.build import compile_deck, package_deck
compiled = compile_deck(Path("decks/bench.yaml"))
package_deck(compiled, io.BytesIO(), Path.cwd())  # imports and caches warmed
start = time.perf_counter()
package_deck(compiled, io.BytesIO(), Path.cwd())
print(time.perf_counter() - start)
"""


def package_write(side: Side, project: str) -> tuple[float, float]:
    """Seconds to write the package of a compiled deck, in-process (as benchmarks/run.py times it)."""
    done = subprocess.run([sys.executable, "-c", _WRITE.format(m=side.module)], cwd=side.projects[project],
                          env=side.env(), check=True, capture_output=True, text=True)
    seconds = float(done.stdout.split()[-1])
    return seconds, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="SRC[:MODULE] of the version to compare with")
    parser.add_argument("--cards", type=int, default=30000)
    parser.add_argument("--large", type=int, default=100000)
    parser.add_argument("--runs", type=int, default=8)
    args = parser.parse_args()
    source, _, module = args.base.partition(":")
    rows: list[tuple[str, str, str, str, str]] = []

    def row(case: str, results: list[list[tuple[float, float]]], unit: str = "s", cpu: bool = True) -> None:
        (base_wall, head_wall), (base_cpu, head_cpu) = ([[r[j] for r in side] for side in results] for j in (0, 1))
        b, h = statistics.median(base_wall), statistics.median(head_wall)
        digits = 3 if b < 1 else 2
        cpu_change = (f"{100 * (statistics.median(head_cpu) / statistics.median(base_cpu) - 1):+.0f} %"
                      if cpu else "")
        rows.append((case, f"{b:.{digits}f} {unit} ({min(base_wall):.{digits}f}-{max(base_wall):.{digits}f})",
                     f"{h:.{digits}f} {unit} ({min(head_wall):.{digits}f}-{max(head_wall):.{digits}f})",
                     f"{100 * (h / b - 1):+.0f} %", cpu_change))
        print(" | ".join(rows[-1]), file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="neurodeck-compare-") as tmp:
        tmp = Path(tmp)
        sides = tuple(Side(label, src, mod, {}, tmp / label / "cache")
                      for label, src, mod in (("base", Path(source).resolve(), module or "neurodeck"),
                                              ("head", HERE.parent / "generator", "neurodeck")))
        for side in sides:
            for name, cards in (("main", args.cards), ("large", args.large)):
                side.projects[name] = tmp / side.label / name
                synth.generate(side.projects[name], cards)  # seeded: the two copies are the same bytes

        def cold(project: str):
            def case(side: Side, _: int) -> tuple[float, float]:
                side.clean(project)
                return side.run(["build"], project)
            return case

        runs = args.runs
        row(f"cold build, empty cache ({args.cards:,} cards)", alternate(sides, runs, cold("main")))

        def edit(side: Side, i: int) -> tuple[float, float]:
            path = side.projects["main"] / "cards" / f"topic-{(i * 7) % (args.cards // 100 or 1):04d}.yaml"
            path.write_text(path.read_text().replace('question: "', f'question: "Edit {i} ', 1))
            return side.run(["build"], "main")
        row("rebuild after editing one card", alternate(sides, runs, edit))
        row("rebuild with nothing changed", alternate(sides, runs, lambda side, _: side.run(["build"], "main")))
        for flag in ("--help", "--version"):
            row(f"neurodeck {flag}", alternate(sides, runs, lambda side, _, f=flag: side.run([f], "main")))
        row("writing the package (in-process)", alternate(sides, runs, lambda side, _: package_write(side, "main")),
            cpu=False)
        row(f"cold build of {args.large:,} cards: time", alternate(sides, max(2, runs // 2), cold("large")))

        def memory(side: Side, _: int) -> tuple[float, float]:
            side.clean("large")
            peak = peak_pss_mb(side, "large")
            return peak, peak
        if MEASURES_MEMORY:
            row(f"cold build of {args.large:,} cards: peak memory", alternate(sides, 2, memory), unit="MB", cpu=False)

    header = ("case", f"base: {args.base} (median, range)", "head (median, range)", "change (wall)", "change (CPU)")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(5)]
    for r in [header, tuple("-" * w for w in widths)] + rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")


if __name__ == "__main__":
    main()
