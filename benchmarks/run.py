"""Measure neurodeck against the targets of the performance issue and print one table.

    python benchmarks/run.py                 # 30,000 and 100,000 cards, medians of 5 runs
    python benchmarks/run.py --cards 3000 --large 10000 --runs 5

Every case runs as a fresh process (wall time, process start included) except the package
write, which is timed in-process against the lower-bound writer on the same rows. Reference
figures (the straightforward pipeline, the lower bound) are measured in the same run.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SOURCE = REPO / "generator"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(SOURCE))

import synth  # noqa: E402

NEURODECK = [sys.executable, "-m", "neurodeck"]


def wall(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   env=dict(os.environ, PYTHONPATH=str(SOURCE)))
    return time.perf_counter() - start


def peak_rss_mb(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Wall time and the peak memory of the process and its children together.

    Memory is the proportional set size (PSS): pages shared between the build and the worker
    processes it forks are counted once, not once per process as summing RSS would."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, env=dict(os.environ, PYTHONPATH=str(SOURCE)))
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.01)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed")
    return elapsed, peak / 1024


def _tree_rss(pid: int) -> int:
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
            total += int(next(row.split()[1] for row in rollup.splitlines() if row.startswith("Pss:")))
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration, ValueError):
            pass
    return total  # kB


def median(values: list[float]) -> float:
    return statistics.median(values)


def fresh_project(parent: Path, name: str, cards: int) -> Path:
    root = parent / name
    synth.generate(root, cards)
    return root


def _cache() -> Path:
    return Path(os.environ["NEURODECK_CACHE_DIR"])


def _clean(root: Path) -> None:
    shutil.rmtree(_cache(), ignore_errors=True)
    shutil.rmtree(root / "dist", ignore_errors=True)
    (root / "decks" / "bench.lock").unlink(missing_ok=True)


def cold(root: Path) -> float:
    _clean(root)
    return wall(NEURODECK + ["build"], root)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(*folders: Path) -> list[str]:
    found = []
    for folder in folders:
        found += [str(p) for p in folder.rglob(".neurodeck-*")]
    found += [str(p) for p in _cache().rglob("*.tmp")]
    found += [str(p) for p in Path(tempfile.gettempdir()).glob(".neurodeck-*")]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cards", type=int, default=30000)
    parser.add_argument("--large", type=int, default=100000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    runs = args.runs
    rows = []

    def row(case: str, value: str, reference: str, ratio: str, target: str, met: bool | None) -> None:
        rows.append((case, value, reference, ratio, target, "-" if met is None else ("yes" if met else "NO")))

    with tempfile.TemporaryDirectory(prefix="neurodeck-bench-") as tmp:
        tmp = Path(tmp)
        os.environ["NEURODECK_CACHE_DIR"] = str(tmp / "cache")  # every build's, never the user's
        root = fresh_project(tmp, "main", args.cards)
        n = args.cards

        # Alternated, so that both see the same machine: shared cores and clock boosts drift.
        refs, colds = [], []
        for _ in range(runs):
            refs.append(wall([sys.executable, str(HERE / "reference.py"), str(root), str(tmp / "ref.apkg")], root))
            colds.append(cold(root))
        ref, ours = median(refs), median(colds)
        row(f"cold build, empty cache ({n:,} cards)", f"{ours:.2f} s", f"{ref:.2f} s (straightforward)",
            f"{ours / ref:.3f}", "<= 0.25", ours / ref <= 0.25)

        cold_sha = sha(root / "dist" / "bench.apkg")
        edits = []
        for i in range(runs):
            path = root / "cards" / f"topic-{(i * 7) % (n // 100 or 1):04d}.yaml"
            path.write_text(path.read_text().replace('question: "', f'question: "Edit {i} ', 1))
            edits.append(wall(NEURODECK + ["build"], root))
        warm_sha = sha(root / "dist" / "bench.apkg")
        copy = tmp / "copy"
        shutil.copytree(root, copy, ignore=shutil.ignore_patterns("dist"))
        wall(NEURODECK + ["build", "--locked"], copy)  # its path differs: no cache entry applies
        identical = sha(copy / "dist" / "bench.apkg") == warm_sha and cold_sha != warm_sha
        row("rebuild after editing one card", f"{median(edits):.2f} s", "", "", "< 1.0 s", median(edits) < 1.0)
        row("  ... its output equals a cold build's", "yes" if identical else "no", "", "", "yes", identical)

        mtime = (root / "dist" / "bench.apkg").stat().st_mtime_ns
        nothing = median([wall(NEURODECK + ["build"], root) for _ in range(runs)])
        untouched = (root / "dist" / "bench.apkg").stat().st_mtime_ns == mtime
        row("rebuild with nothing changed", f"{nothing:.3f} s", "", "", "< 0.2 s, output untouched",
            nothing < 0.2 and untouched)

        for flag in ("--help", "--version"):
            t = median([wall(NEURODECK + [flag], root) for _ in range(runs)])
            row(f"neurodeck {flag}", f"{t:.3f} s", "", "", "< 0.1 s", t < 0.1)

        ours_w, bound_w = _package_write(root, runs)
        row("writing the package", f"{ours_w:.3f} s", f"{bound_w:.3f} s (executemany bound)",
            f"{ours_w / bound_w:.3f}", "<= 1.3", ours_w / bound_w <= 1.3)

        _adopted_rows(tmp, n, ours, runs, row)

        large = fresh_project(tmp, "large", args.large)
        # Time and memory come from separate runs: sampling the memory of the process tree every
        # 10 ms costs CPU that the build would otherwise have.
        t_large = median([cold(large) for _ in range(runs)])
        peak = 0.0
        for _ in range(2):
            _clean(large)
            peak = max(peak, peak_rss_mb(NEURODECK + ["build"], large)[1])
        row(f"cold build of {args.large:,} cards: peak memory", f"{peak:.0f} MB", "", "", "< 350 MB", peak < 350)
        ratio = t_large / ours
        allowed = 3.6 * (args.large / n) / (100000 / 30000)  # 3.6 for 100k against 30k: near-linear
        row(f"cold build of {args.large:,} cards: time", f"{t_large:.2f} s", f"{ours:.2f} s ({n:,} cards)",
            f"{ratio:.3f}", f"<= {allowed:.2f}", ratio <= allowed)

        bundled = tmp / "bundled"
        for name in ("cards", "decks"):
            shutil.copytree(REPO / name, bundled / name)
        times = []
        for _ in range(runs):
            shutil.rmtree(_cache(), ignore_errors=True)
            times.append(wall(NEURODECK + ["build", "--out", str(tmp / "bundled-dist")], bundled))
        row("the bundled deck, cold", f"{median(times):.2f} s", "", "", "< 0.5 s", median(times) < 0.5)

        left = leftovers(root, large, bundled, copy)
        row("temporary files left behind", str(len(left)), "", "", "0", not left)

    widths = [max(len(r[i]) for r in rows + [HEADER]) for i in range(6)]
    for r in [HEADER, tuple("-" * w for w in widths)] + rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")


HEADER = ("case", "measured (median)", "reference", "ratio", "target", "met")


def _adopted_rows(tmp: Path, n: int, markdown_cold: float, runs: int, row) -> None:
    """`neurodeck adopt` of an n-note package exported by the anki library (its current format),
    and the adopted project's builds, against the Markdown deck's."""
    package = tmp / "anki-export.apkg"
    subprocess.run([sys.executable, str(HERE / "anki_package.py"), str(package), "--notes", str(n)], check=True)
    times = []
    for i in range(runs):
        times.append(wall(NEURODECK + ["adopt", str(package), "--into", str(tmp / f"adopted-{i}")], tmp))
    t = median(times)
    row(f"adopt a {n:,}-note package exported by Anki", f"{t:.2f} s", "", "", "< 10 s", t < 10)
    root = tmp / "adopted-0"
    colds = [cold(root) for _ in range(runs)]
    t_cold = median(colds)
    row("  ... cold build of the adopted project", f"{t_cold:.2f} s", f"{markdown_cold:.2f} s (Markdown deck)",
        f"{t_cold / markdown_cold:.3f}", "", None)
    edits = []
    card_files = sorted((root / "cards").glob("*.yaml"))
    for i in range(runs):
        path = card_files[(i * 7) % len(card_files)]
        path.write_text(path.read_text(encoding="utf-8").replace('": "<div>', f'": "<div>Edit {i} ', 1),
                        encoding="utf-8")
        edits.append(wall(NEURODECK + ["build"], root))
    row("  ... rebuild after editing one card", f"{median(edits):.2f} s", "", "", "< 1.0 s", median(edits) < 1.0)
    nothing = median([wall(NEURODECK + ["build"], root) for _ in range(runs)])
    row("  ... rebuild with nothing changed", f"{nothing:.3f} s", "", "", "< 0.2 s", nothing < 0.2)


def _package_write(root: Path, runs: int) -> tuple[float, float]:
    from lower_bound import rows_of, write_rows

    from neurodeck.pipeline.build import compile_deck, package_deck

    os.chdir(root)
    compiled = compile_deck(Path("decks/bench.yaml"))
    mods = {k: v.mod for k, v in compiled.lock.notes.items()}
    notes, cards = rows_of(compiled, mods)
    package_deck(compiled, io.BytesIO(), root)  # warm imports
    ours, bound = [], []
    for _ in range(runs):
        start = time.perf_counter()
        package_deck(compiled, io.BytesIO(), root)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        write_rows(notes, cards)
        bound.append(time.perf_counter() - start)
    return median(ours), median(bound)


if __name__ == "__main__":
    main()
