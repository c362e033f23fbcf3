"""GUIDs, note type ids, the lock format and the mod-time policy."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from neurodeck.lockfile import (
    Entry,
    Lock,
    NoteTypeEntry,
    build_time,
    content_hash,
    next_entry,
    next_lock,
    note_guid,
    note_hash,
    read_lock,
)
from neurodeck.model import Location


def test_guid_is_pinned():
    # Changing this value would duplicate every card in every student's collection.
    assert note_guid("neurodeck-intimacy", "oxytocin-synthesis-site") == "rS[DTClGj%"
    assert note_guid("neurodeck-intimacy", "oxytocin-synthesis-site") != note_guid("other", "oxytocin-synthesis-site")


def test_guid_is_genankis_guid_for():
    import genanki

    for i in range(20000):
        namespace, card_id = f"ns-{i % 7}", f"card-{i}-\u00e9"
        assert note_guid(namespace, card_id) == genanki.guid_for(namespace, card_id)


def _decide(old: Lock, notes: dict[str, tuple[str, str]], now: int) -> dict[str, Entry]:
    return {card_id: next_entry(old.notes.get(card_id), digest, kind, now) for card_id, (digest, kind) in notes.items()}


def test_unchanged_notes_keep_their_mod_and_changed_ones_get_now():
    old = Lock("ns", notes={"a": Entry("h1", 100, "basic"), "b": Entry("h2", 100, "basic"),
                            "gone": Entry("h3", 100, "cloze")}, released={"a", "b", "gone"})
    notes = {"a": ("h1", "basic"), "b": ("h2-edited", "basic"), "c": ("h4", "cloze")}
    lock = next_lock(old, "ns", _decide(old, notes, now=500), {"basic": ("nt", "schema")}, now=500,
                     release={"version": "2", "date": "2025-01-01"})  # a release makes the removal permanent
    assert lock.notes["a"].mod == 100
    assert lock.notes["b"] == Entry("h2-edited", 500, "basic")
    assert lock.notes["c"] == Entry("h4", 500, "cloze")
    assert lock.removed == ["gone"]
    assert lock.notetypes["basic"] == NoteTypeEntry("nt", 500, "schema")


def test_a_changed_note_is_always_strictly_newer_than_recorded():
    old = Lock("ns", notes={"a": Entry("h1", 900, "basic")})
    assert next_lock(old, "ns", _decide(old, {"a": ("h2", "basic")}, now=800), {}, now=800).notes["a"].mod == 901
    assert next_entry(old.notes["a"], "h1", "basic", 800) is old.notes["a"]
    assert next_entry(old.notes["a"], "h1", "cloze", 800) == Entry("h1", 901, "cloze")  # a new type is a change


def test_lock_has_one_note_per_line_sorted_and_round_trips(tmp_path):
    lock = Lock("ns", notes={"b": Entry("h", 2, "basic"), "a": Entry("g", 1, "cloze")},
                notetypes={"basic": NoteTypeEntry("x", 3, "s")}, removed=["z", "y"])
    text = lock.dumps()
    lines = text.splitlines()
    assert lines[4] == '    "a": {"hash": "g", "mod": 1, "type": "cloze"},'
    assert lines[5] == '    "b": {"hash": "h", "mod": 2, "type": "basic"}'
    assert json.loads(text)["removed"] == ["y", "z"]
    path = tmp_path / "d.lock"
    path.write_text(text)
    again, problems = read_lock(path, "d.lock")
    assert problems == [] and again.dumps() == text


def test_corrupt_lock_is_a_located_problem(tmp_path):
    path = tmp_path / "d.lock"
    path.write_text('{\n<<<<<<< HEAD\n')
    lock, problems = read_lock(path, "d.lock")
    assert lock is None and problems[0].location == Location("d.lock", 2, 1)


def test_source_date_epoch_is_used_but_never_in_the_future(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1600000000")
    assert build_time() == 1600000000
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "99999999999")
    assert build_time() < 99999999999


texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(texts, st.lists(texts, max_size=6), st.lists(texts, max_size=4), st.lists(texts, max_size=3))
def test_note_hash_is_the_json_content_hash_the_lock_records(kind, fields, tags, media):
    # Every committed lock holds content_hash values: the fast spelling must never drift from it.
    assert note_hash(kind, tuple(fields), tuple(tags), tuple(media)) == content_hash([kind, fields, tags, media])


_json_values = st.recursive(st.none() | st.booleans() | st.integers(-2, 2 ** 33) | st.floats(allow_nan=False)
                            | st.text(max_size=4), lambda inner: st.lists(inner, max_size=2)
                            | st.dictionaries(st.text(max_size=4), inner, max_size=2), max_leaves=4)
_entry_keys = st.sampled_from(["hash", "mod", "type", "guid", "other"])
_good_values = {"hash": st.text(max_size=8), "type": st.text(max_size=8), "guid": st.text(max_size=8),
                "mod": st.integers(0, 2 ** 32 - 1) | st.sampled_from([2 ** 32, -1, True, 1.0, 1e16, "5"])}
_lock_entries = st.one_of(
    st.fixed_dictionaries({k: v for k, v in _good_values.items() if k != "guid"},
                          optional={"guid": _good_values["guid"] | _json_values}),
    st.dictionaries(_entry_keys, _json_values | st.sampled_from(["x", 5, 2 ** 32, -1, True, None])),
    _json_values,
)


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(st.dictionaries(st.text(max_size=6), _lock_entries, max_size=4))
def test_the_locks_notes_are_read_as_each_check_one_by_one_would(notes):
    """read_lock checks the usual entry inline (a large deck's lock has tens of thousands); the
    result, or the first thing named wrong, is what the field-by-field checks give."""
    from neurodeck.lockfile import Entry, _entries, _mod, _text

    def one_by_one():
        return {_text(k): Entry(_text(v["hash"]), _mod(v["mod"]), _text(v["type"]),
                                _text(v["guid"]) if "guid" in v else None) for k, v in notes.items()}

    caught = (AttributeError, KeyError, TypeError, ValueError)
    try:
        expected: object = one_by_one()
    except caught as exc:
        expected = (type(exc), str(exc))
    try:
        got: object = _entries(notes)
    except caught as exc:
        got = (type(exc), str(exc))
    assert got == expected
