"""`neurodeck push`: a built deck imported into the educator's own collection with the official
engine, as a student's Anki would; AnkiConnect mode against a local fake of the add-on."""
from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from click.testing import CliRunner

import neurodeck as nd
from conftest import alter_basic_note_type, release
from neurodeck.cli import main
from neurodeck.commands import push as pushing

T0 = 1_700_000_000


def make_profile(base: Path, name: str = "User 1") -> Path:
    """A profile folder with an empty collection, and prefs21.db listing it as Anki writes it."""
    folder = base / name
    folder.mkdir(parents=True)
    Collection(str(folder / "collection.anki2")).close()
    db = sqlite3.connect(base / "prefs21.db")
    db.execute("create table if not exists profiles (name text primary key collate nocase, data blob not null)")
    # The data is a pickle in real Anki; push must never load it, so give it bytes that are not one.
    db.execute("insert or replace into profiles values ('_global', x'00')")
    db.execute("insert into profiles values (?, x'00')", (name,))
    db.commit()
    db.close()
    return folder / "collection.anki2"


def study_all(path: Path) -> int:
    from anki.scheduler.v3 import CardAnswer

    col = Collection(str(path))
    try:
        for cid in col.find_cards(""):
            card = col.get_card(cid)
            card.start_timer()
            states = col._backend.get_scheduling_states(card.id)
            col.sched.answer_card(col.sched.build_answer(card=card, states=states, rating=CardAnswer.GOOD))
        return col.db.scalar("select count() from revlog")
    finally:
        col.close()


def remembered(path: Path) -> dict:
    col = Collection(str(path))
    try:
        return {key: col.get_config(key, None) for key in pushing.REMEMBERED_OPTIONS}
    finally:
        col.close()


def test_the_collection_is_found_under_anki_base_and_standard_folders(tmp_path, monkeypatch):
    home = tmp_path / "home"
    assert pushing.anki_base({"HOME": str(home)}, "linux") == home / ".local/share/Anki2"
    assert pushing.anki_base({"HOME": str(home), "XDG_DATA_HOME": "/x"}, "linux") == Path("/x/Anki2")
    assert pushing.anki_base({"HOME": str(home)}, "darwin") == home / "Library/Application Support/Anki2"
    assert pushing.anki_base({"APPDATA": "C:/Users/a/AppData/Roaming"}, "win32") == Path(
        "C:/Users/a/AppData/Roaming/Anki2")
    assert pushing.anki_base({"HOME": str(home), "ANKI_BASE": "/b"}, "darwin") == Path("/b")
    base = tmp_path / "Anki2"
    monkeypatch.setenv("ANKI_BASE", str(base))
    path, problems = pushing.find_collection()
    assert path is None and "no Anki profile" in problems[0].message
    first = make_profile(base, "Teacher")
    assert pushing.find_collection() == (first, [])
    make_profile(base, "Student")
    path, problems = pushing.find_collection()
    assert path is None and "several Anki profiles" in problems[0].message
    assert "Student, Teacher" in problems[0].message and "--profile" in problems[0].hint
    assert pushing.find_collection("Student")[0] == base / "Student" / "collection.anki2"
    assert "no collection" in pushing.find_collection("Nobody")[1][0].message


def test_push_imports_as_a_student_updates_an_edit_and_keeps_reviews_and_remembered_options(project, tmp_path):
    col_path = make_profile(tmp_path / "Anki2")
    # The educator last imported with merge and scheduling on, never updating notes: push must
    # import as a student would (the edit below is applied) and leave that choice as it was.
    col = Collection(str(col_path))
    col.set_config("updateNotes", "Never")
    assert col._backend.get_import_anki_package_presets().update_notes != 0  # the engine reads it
    col.set_config("mergeNotetypes", True)
    col.set_config("withScheduling", True)
    col.close()
    before = remembered(col_path)
    v1 = release(project, "v1", T0)
    report, problems = nd.push(v1, collection=col_path)
    assert problems == []
    assert sorted(report.new) == ["mn-discovery", "mn-f5-cloze", "mn-term", "ot-image", "ot-site"]
    assert report.updated == report.conflicting == [] and report.backup.is_file()
    assert report.backup.parent == col_path.parent / "backups"
    assert remembered(col_path) == before
    reviews = study_all(col_path)
    assert reviews > 0
    cards = project / "cards" / "a.yaml"
    cards.write_text(cards.read_text().replace("single-unit recordings", "Single-unit recordings (1992)")
                     .replace("Single-unit recordings.", "Single-unit recordings (1992)."))
    v2 = release(project, "v2", T0 + 100)
    report, problems = nd.push(v2, collection=col_path)
    assert problems == []
    assert report.updated == ["mn-discovery"] and report.new == [] and report.conflicting == []
    assert sorted(report.unchanged) == ["mn-f5-cloze", "mn-term", "ot-image", "ot-site"]
    assert remembered(col_path) == before
    col = Collection(str(col_path))
    try:
        assert col.db.scalar("select count() from revlog") == reviews
        [nid] = col.find_notes('"Extra:*1992*"') or col.find_notes("1992")
        assert "1992" in " ".join(col.get_note(nid).fields)
    finally:
        col.close()


def test_an_altered_note_type_reports_the_copy_and_the_conflicting_notes(project, tmp_path, monkeypatch):
    col_path = make_profile(tmp_path / "Anki2")
    assert nd.push(release(project, "v1", T0), collection=col_path)[1] == []

    def renamed(basic):
        return dataclasses.replace(basic, fields=("Front",) + basic.fields[1:])

    alter_basic_note_type(monkeypatch, renamed)
    (project / "decks" / "test-deck.lock").unlink()  # our own validation would refuse the change
    report, problems = nd.push(release(project, "v2", T0 + 100), collection=col_path)
    assert problems == []
    assert report.conflicting == ["mn-discovery", "ot-image"]
    assert report.new_notetypes == ["neurodeck Basic (test-deck)+"]


def test_a_collection_path_must_be_named_as_anki_names_collections(project, tmp_path):
    col_path = make_profile(tmp_path / "Anki2")
    package = release(project, "v1", T0)
    for other in ("collection.db", "deck.apkg", "collection.colpkg"):
        path = col_path.with_name(other)
        path.write_bytes(col_path.read_bytes())
        report, problems = nd.push(package, collection=path)
        assert report is None and "*.anki2" in problems[0].message and "collection.anki2" in problems[0].hint
    assert sorted(p.name for p in col_path.parent.iterdir()) == [
        "collection.anki2", "collection.colpkg", "collection.db", "collection.media", "deck.apkg"]
    upper = col_path.rename(col_path.with_name("Collection.ANKI2"))
    (col_path.parent / "collection.media").rename(col_path.parent / "Collection.media")
    report, problems = nd.push(package, collection=upper)
    assert problems == [] and len(report.new) == 5


def test_a_locked_collection_is_refused_and_left_alone(project, tmp_path):
    col_path = make_profile(tmp_path / "Anki2")
    package = release(project, "v1", T0)
    holder = sqlite3.connect(col_path, isolation_level=None)
    holder.execute("begin exclusive")  # as Anki holds it while the profile is open
    try:
        report, problems = nd.push(package, collection=col_path)
    finally:
        holder.execute("rollback")
        holder.close()
    assert report is None and "Anki has the collection open" in problems[0].message
    assert "close Anki" in problems[0].hint and "--anki-connect" in problems[0].hint
    assert not (col_path.parent / "backups").exists()


def test_a_failed_import_leaves_the_collection_as_it_was(project, tmp_path, monkeypatch):
    col_path = make_profile(tmp_path / "Anki2")
    before = col_path.read_bytes()
    real = Collection.import_anki_package

    def import_then_fail(self, request):
        real(self, request)  # the notes are written...
        raise RuntimeError("disk full")  # ...then something goes wrong

    monkeypatch.setattr(Collection, "import_anki_package", import_then_fail)
    report, problems = nd.push(release(project, "v1", T0), collection=col_path)
    assert report is None and "disk full" in problems[0].message and "restored" in problems[0].message
    [backup] = (col_path.parent / "backups").iterdir()
    assert str(backup) in problems[0].message
    monkeypatch.undo()
    col = Collection(str(col_path))
    try:
        assert col.note_count() == 0
    finally:
        col.close()
    assert len(before) > 0


def test_the_command_builds_the_bundled_deck_and_pushes_it_into_the_default_profile(bundled, tmp_path, monkeypatch):
    base = tmp_path / "Anki2"
    col_path = make_profile(base)
    monkeypatch.setenv("ANKI_BASE", str(base))
    result = CliRunner().invoke(main, ["push"])
    assert result.exit_code == 0, result.output
    col = Collection(str(col_path))
    try:
        notes = col.note_count()
    finally:
        col.close()
    assert notes > 100
    assert f"  new             {notes:>5}" in result.output
    assert "backup: " + str(col_path.parent / "backups") in result.output
    again = CliRunner().invoke(main, ["push"])
    assert again.exit_code == 0 and f"  unchanged       {notes:>5}" in again.output


class FakeAnkiConnect(BaseHTTPRequestHandler):
    """A stand-in for the AnkiConnect add-on: its `version` and `importPackage` actions, the
    latter importing into a real collection with the options the add-on's shim uses (merge note
    types, scheduling and deck presets on), answering `true` and no log, as the add-on does."""

    collection: Path
    version = 6
    seen: list = []

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append(request)
        if request["action"] == "version":
            answer = {"result": self.version, "error": None}
        else:
            col = Collection(str(self.collection))
            try:
                options = ImportAnkiPackageOptions(merge_notetypes=True, with_scheduling=True, with_deck_configs=True)
                col.import_anki_package(ImportAnkiPackageRequest(package_path=request["params"]["path"], options=options))
            finally:
                col.close()
            answer = {"result": True, "error": None}
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def anki_connect(tmp_path):
    col_path = make_profile(tmp_path / "Running")
    handler = type("Handler", (FakeAnkiConnect,), {"collection": col_path, "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def test_anki_connect_imports_through_the_add_on_after_saying_how_it_differs(bundled, anki_connect):
    url, handler = anki_connect
    result = CliRunner().invoke(main, ["push", "--anki-connect", url])
    assert result.exit_code == 0, result.output
    assert "merge note types" in result.output and "no import log" in result.output
    assert "cannot back up a collection Anki has open" in result.output
    assert not (handler.collection.parent / "backups").exists()
    assert [r["action"] for r in handler.seen] == ["version", "importPackage"]
    assert all(r["version"] == 6 for r in handler.seen)
    path = Path(handler.seen[1]["params"]["path"])
    assert path.is_absolute() and path.suffix == ".apkg"
    col = Collection(str(handler.collection))
    try:
        assert col.note_count() > 100
    finally:
        col.close()


def test_anki_connect_refuses_other_machines_old_versions_and_silence(project, anki_connect, tmp_path):
    url, handler = anki_connect
    package = release(project, "v1", T0)
    problems = nd.push(package, anki_connect="http://192.168.1.5:8765")[1]
    assert "not on this machine" in problems[0].message and handler.seen == []
    for loopback in ("http://localhost:8765", "http://[::1]:8765", "http://127.0.0.2:1"):
        assert pushing.loopback(loopback)
    handler.version = 5
    problems = nd.push(package, anki_connect=url)[1]
    assert "version 5" in problems[0].message and "update" in problems[0].hint
    assert [r["action"] for r in handler.seen] == ["version"]
    problems = nd.push(package, anki_connect="http://127.0.0.1:9")[1]
    assert "cannot reach AnkiConnect" in problems[0].message and "start Anki" in problems[0].hint


def test_a_collection_open_in_another_process_of_the_engine_is_refused(project, tmp_path):
    import subprocess
    import sys

    col_path = make_profile(tmp_path / "Anki2")
    package = release(project, "v1", T0)
    holder = subprocess.Popen(  # as the desktop app holds its profile's collection open
        [sys.executable, "-c", "import sys, time; from anki.collection import Collection; "
         "c = Collection(sys.argv[1]); print('open', flush=True); time.sleep(60)", str(col_path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        report, problems = nd.push(package, collection=col_path)
    finally:
        holder.kill()
        holder.wait()
    assert report is None and "Anki has the collection open" in problems[0].message
    assert nd.push(package, collection=col_path)[1] == []  # once Anki is closed


def test_without_the_engine_push_says_how_to_install_it(project, tmp_path, monkeypatch):
    col_path = make_profile(tmp_path / "Anki2")
    package = release(project, "v1", T0)
    with monkeypatch.context() as without:  # the engine is back for the package checks afterwards
        without.setitem(__import__("sys").modules, "anki.collection", None)
        report, problems = nd.push(package, collection=col_path)
    assert report is None and "neurodeck[verify]" in problems[0].hint
    assert not (col_path.parent / "backups").exists()
