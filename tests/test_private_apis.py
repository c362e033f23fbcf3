"""The private APIs of our dependencies that neurodeck calls still exist and still do what we use
them for, and every such dependency has an upper bound in pyproject.toml.

A new release may drop or change a private name without notice. The upper bounds keep users on
releases known to work; when one is raised, these tests say which call broke, and where we make it.
"""
from __future__ import annotations

import io
import zipfile
import zlib
from importlib.metadata import requires, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

# distribution -> where neurodeck calls its private API
PRIVATE_API_USERS = {
    "cmarkgfm": "neurodeck/render/markdown.py (cmarkgfm._cmark)",
    "anki": "neurodeck/commands/upgrade_engine.py (Collection._backend, ModelManager._clear_cache)",
    "genanki": "neurodeck/apkg/collection.py (genanki.apkg_col, genanki.apkg_schema)",
}


def broken(api: str, dist: str, detail: object) -> str:
    return (f"{api} changed in {dist} {version(dist)}: {detail!r}. neurodeck calls it in "
            f"{PRIVATE_API_USERS[dist]}; adapt that code, or keep {dist}'s upper bound in pyproject.toml "
            "below this release.")


@pytest.mark.parametrize("dist", sorted(PRIVATE_API_USERS))
def test_every_dependency_whose_private_api_we_call_has_an_upper_bound(dist):
    declared = [Requirement(r) for r in requires("neurodeck") or []]
    bounds = {str(spec) for req in declared if req.name.lower() == dist for spec in req.specifier
              if spec.operator in ("<", "<=", "==", "~=")}
    assert bounds, f"{dist} has no upper bound in pyproject.toml, but neurodeck calls its private API"
    assert version(dist) in next(req.specifier for req in declared if req.name.lower() == dist), \
        f"the installed {dist} {version(dist)} is outside the range pyproject.toml declares"


def test_cmarkgfm_private_cmark_renders_like_the_public_function():
    import cmarkgfm

    try:
        from cmarkgfm import _cmark

        text = "*a* <b>c</b>\n\n- d"
        data = text.encode()
        options = cmarkgfm.Options.CMARK_OPT_UNSAFE
        raw = _cmark.lib.cmark_markdown_to_html(data, len(data), options)
        ours = _cmark.ffi.string(raw).decode("utf-8")
        address = int(_cmark.ffi.cast("uintptr_t", raw))
    except Exception as exc:  # noqa: BLE001 - any failure is the message
        pytest.fail(broken("cmarkgfm._cmark.lib.cmark_markdown_to_html / _cmark.ffi", "cmarkgfm", exc))
    assert address > 0
    assert ours == cmarkgfm.markdown_to_html(text, options=options), \
        broken("cmarkgfm._cmark.lib.cmark_markdown_to_html", "cmarkgfm", ours)


def test_genanki_private_schema_modules_still_hold_the_collection_schema():
    try:
        from genanki.apkg_col import APKG_COL
        from genanki.apkg_schema import APKG_SCHEMA
    except ImportError as exc:
        pytest.fail(broken("genanki.apkg_col.APKG_COL / genanki.apkg_schema.APKG_SCHEMA", "genanki", exc))
    for table in ("col", "notes", "cards", "revlog", "graves"):
        assert f"CREATE TABLE {table}" in APKG_SCHEMA, broken("genanki.apkg_schema.APKG_SCHEMA", "genanki", table)
    assert "INSERT INTO col" in APKG_COL, broken("genanki.apkg_col.APKG_COL", "genanki", APKG_COL[:80])


def test_ankis_private_backend_calls_and_model_cache(tmp_path: Path):
    from anki.collection import Collection

    col = Collection(str(tmp_path / "collection.anki2"))
    try:
        try:
            presets = col._backend.get_import_anki_package_presets()
        except AttributeError as exc:
            pytest.fail(broken("Collection._backend.get_import_anki_package_presets", "anki", exc))
        assert hasattr(presets, "merge_notetypes"), broken("import presets", "anki", presets)
        note = col.new_note(col.models.by_name("Basic"))
        note["Front"], note["Back"] = "q", "a"
        col.add_note(note, col.decks.id("Default"))
        try:
            states = col._backend.get_scheduling_states(note.cards()[0].id)
            col.models._clear_cache()
        except AttributeError as exc:
            pytest.fail(broken("Collection._backend.get_scheduling_states / ModelManager._clear_cache", "anki", exc))
        assert states.good is not None
    finally:
        col.close()


def test_zipfile_honours_the_compression_level_neurodeck_sets():
    """Standard library, so no bound: before Python 3.13 only the private `ZipInfo._compresslevel`
    sets an entry's level, and `_ZipWriteFile._compressor` is what our parallel deflate replaces."""
    from neurodeck.apkg.collection import _entry

    data = bytes(range(256)) * 4000
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        with zf.open(_entry("x"), "w") as entry:
            assert hasattr(entry, "_compressor"), "zipfile's _ZipWriteFile._compressor is gone"
            entry.write(data)
    level_1 = zlib.compressobj(1, zlib.DEFLATED, -15)
    expected = len(level_1.compress(data) + level_1.flush())
    with zipfile.ZipFile(buffer) as zf:
        assert zf.getinfo("x").compress_size == expected, "the deflate level set on ZipInfo was ignored"
