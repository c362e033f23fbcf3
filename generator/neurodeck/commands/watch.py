"""`neurodeck build --watch`: rebuild whenever a deck's sources change."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from neurodeck.api import Build, build
from neurodeck.apkg.files import TEMP_PREFIX
from neurodeck.project import project_root

_SOURCE_SUFFIXES = {".yaml", ".yml", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg"}


def watch(manifests: list[Path], out_dir: Path, on_build: Callable[[list[Build]], None],
          stop: threading.Event | None = None, debounce_ms: int = 300) -> None:
    """Build now, then again after each burst of changes to card files, manifests or images,
    until `stop` is set (or KeyboardInterrupt). A failed build keeps the last good package; a
    save that changes nothing a deck is made of (`touch`) finds it up to date and writes nothing."""
    for _ in source_changes(manifests, out_dir, stop, debounce_ms):
        on_build([build(m, out_dir) for m in manifests])


def source_changes(manifests: list[Path], out_dir: Path, stop: threading.Event | None = None,
                   debounce_ms: int = 300) -> Iterator[None]:
    """One item as soon as the watcher runs (build then), then one after each burst of changes
    to the card files, manifests or images of the manifests' projects (never to what is written
    in `out_dir`), until `stop` is set."""
    from watchfiles import Change, DefaultFilter  # only the watching commands need it
    from watchfiles import watch as changes_of

    out = out_dir.resolve()

    class Sources(DefaultFilter):
        # Only what a deck is made of; never our own writes (packages, locks, temporaries).
        def __call__(self, change: Change, path: str) -> bool:
            p = Path(path)
            return (super().__call__(change, path) and p.suffix.lower() in _SOURCE_SUFFIXES
                    and not p.is_relative_to(out)
                    and not p.name.startswith(TEMP_PREFIX))

    roots = sorted({str(project_root(m)) for m in manifests})
    # The first build waits for the watcher's first (empty) answer: a save made during or right
    # after it is then seen, where a watcher started after the build would miss it.
    first = True
    for changed in changes_of(*roots, watch_filter=Sources(), debounce=debounce_ms, stop_event=stop,
                              rust_timeout=500, yield_on_timeout=True):
        if changed or first:
            first = False
            yield None
