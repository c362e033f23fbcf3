"""neurodeck: compile YAML flashcards into Anki packages that update in place.

The library API (the command line is a thin layer over it)::

    import neurodeck

    built = neurodeck.build("decks/neurobiology-of-intimacy.yaml", "dist")
    for problem in built.problems:
        print(problem.format())

Names are loaded from `neurodeck.api` on first use, so `import neurodeck` (and with it
`neurodeck --help`) stays fast.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neurodeck.api import (
        Build,
        DiffFormat,
        Location,
        PathLike,
        Problem,
        adopt,
        build,
        check_upgrade,
        compare,
        find_manifests,
        find_project,
        format_diff,
        has_errors,
        init_project,
        lint,
        load_deck,
        load_project,
        new_card_file,
        preview,
        release,
        schema,
        serve_preview,
        stats,
        validate,
        verify,
    )

# The one place the version is written: pyproject.toml reads it from here (tool.setuptools.dynamic),
# and `neurodeck --version` prints it without importlib.metadata, which takes longer to import than
# the rest of that command.
__version__ = "0.1.0"

__all__ = [
    "Build", "DiffFormat", "Location", "PathLike", "Problem",
    "adopt", "build", "check_upgrade", "compare", "find_manifests", "find_project", "format_diff", "has_errors",
    "init_project", "lint", "load_deck", "load_project", "new_card_file", "preview", "push", "release",
    "schema", "serve_preview", "stats", "validate", "verify",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from neurodeck import api

        return getattr(api, name)
    raise AttributeError(f"module 'neurodeck' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
