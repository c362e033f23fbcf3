"""`push`'s backups: a collection package Anki itself restores, kept within the limits Anki keeps
its own backups in (the rule of rslib/src/collection/backup.rs, with its own test cases), and
no file push did not write ever deleted."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from anki._backend import RustBackend
from anki.collection import Collection
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import neurodeck as nd
from conftest import release
from neurodeck.cli import main
from neurodeck.commands import push_backups
from neurodeck.commands.push_backups import Limits, obsolete
from test_push import T0, make_profile


def day(year: int, month: int, d: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, d, hour, minute, second)


def test_thinning_matches_ankis_own_manual_case():
    # rslib/src/collection/backup.rs, test thinning_manual: True means "should be removed".
    backups = [
        (day(2022, 2, 22), False), (day(2022, 2, 22, 0, 0, 1), False), (day(2022, 2, 21), False),  # grace
        (day(2022, 2, 20, 6), True), (day(2022, 2, 20, 18), False), (day(2022, 2, 10), False),  # daily
        (day(2022, 2, 9), False),
        (day(2022, 2, 7), True), (day(2022, 2, 6, 1), True), (day(2022, 2, 6, 2), False),  # weekly
        (day(2022, 1, 6), False),
        (day(2022, 1, 5), True), (day(2021, 12, 24), False), (day(2021, 12, 1), True),  # monthly
        (day(2021, 11, 1), True),
    ]
    dropped = obsolete([b for b, _ in backups], day(2022, 2, 22), Limits(daily=3, weekly=2, monthly=1))
    assert sorted(dropped) == sorted(b for b, removed in backups if removed)


def test_thinning_matches_ankis_own_generic_case():
    # rslib's thinning_generic: one backup a day for a year, Anki's default limits.
    today = day(2022, 1, 1)
    limits = Limits()
    backups = [today - timedelta(days=i) for i in range(1, 366)]
    expected = []
    rest = iter(backups[1 + limits.daily:])  # a day of grace, then the daily ones
    for _ in range(limits.weekly):  # weekly ones: the last day of each week (Sunday)
        for b in rest:
            if b.weekday() == 6:
                break
            expected.append(b)
    for _ in range(limits.monthly):  # monthly ones: the last day of each month
        for b in rest:
            if b.month != (b + timedelta(days=1)).month:
                break
            expected.append(b)
    expected.extend(rest)
    assert obsolete(backups, today, limits) == expected


@settings(max_examples=200)
@given(st.lists(st.integers(0, 3 * 365 * 24), max_size=60, unique=True),
       st.integers(0, 4), st.integers(0, 4), st.integers(0, 4))
def test_thinning_keeps_today_and_yesterday_and_at_most_the_limits_more(hours_ago, daily, weekly, monthly):
    now = day(2026, 3, 29, 12)  # a Sunday, with a change to summer time in Europe that morning
    stamps = [now - timedelta(hours=h) for h in hours_ago]
    dropped = obsolete(stamps, now, Limits(daily, weekly, monthly))
    kept = set(stamps) - set(dropped)
    assert set(dropped) <= set(stamps) and len(dropped) == len(set(dropped))
    recent = {s for s in stamps if s.date() >= (now - timedelta(days=1)).date()}
    assert recent <= kept
    assert len(kept - recent) <= daily + weekly + monthly
    older = sorted(set(stamps) - recent, reverse=True)
    if older and daily:
        assert older[0] in kept  # the newest before yesterday is kept as the first daily one
    # one kept backup per day at most, outside the grace days
    assert len({s.date() for s in kept - recent}) == len(kept - recent)


def restore(backup: Path, into: Path) -> Collection:
    """Restore a backup as Anki's File > Switch Profile > Open Backup does."""
    into.mkdir()
    RustBackend().import_collection_package(col_path=str(into / "collection.anki2"), backup_path=str(backup),
                                            media_folder=str(into / "collection.media"),
                                            media_db=str(into / "collection.media.db2"))
    return Collection(str(into / "collection.anki2"))


def test_the_backup_is_a_package_anki_restores_to_the_collection_before_the_push(project, tmp_path):
    col_path = make_profile(tmp_path / "Anki2")
    first, problems = nd.push(release(project, "v1", T0), collection=col_path)
    assert problems == []
    second, problems = nd.push(release(project, "v2", T0 + 100), collection=col_path)
    assert problems == [] and second.backup != first.backup
    for report, notes in ((first, 0), (second, 5)):
        assert report.backup.parent == col_path.parent / "backups" and report.backup.suffix == ".colpkg"
        assert report.backup.name.startswith("neurodeck-push-")
        col = restore(report.backup, tmp_path / f"restored-{notes}")
        try:
            assert col.note_count() == notes
            assert col.fix_integrity() == ("Database rebuilt and optimized.", True)
        finally:
            col.close()


def test_push_thins_only_its_own_backups_with_the_collections_limits(project, tmp_path):
    col_path = make_profile(tmp_path / "Anki2")
    set_limits(col_path, 2, 1, 1)
    folder = col_path.parent / "backups"
    folder.mkdir()
    now = datetime.now()
    mine = [now - timedelta(days=d) for d in range(0, 200, 3)]
    for stamp in mine:
        (folder / stamp.strftime(push_backups.NAME_FORMAT)).write_bytes(b"push's")
    others = ["backup-2024-01-01-10.00.00.colpkg", (now - timedelta(days=400)).strftime("backup-%Y-%m-%d-%H.%M.%S.colpkg"),
              "before-neurodeck-push-2024-01-01-10.00.00.anki2", "neurodeck-push-2024-1-1-10.0.0.colpkg",
              "neurodeck-push-notes.txt"]
    for name in others:
        (folder / name).write_bytes(b"not push's")
    report, problems = nd.push(release(project, "v1", T0), collection=col_path)
    assert problems == []
    left = {p.name for p in folder.iterdir()}
    assert set(others) <= left and report.backup.name in left
    expected_gone = {s.strftime(push_backups.NAME_FORMAT) for s in obsolete(mine + [now], now, Limits(2, 1, 1))}
    assert {p.name for p in report.thinned} == expected_gone and not expected_gone & left
    kept = [n for n in left if n not in others]
    # the two of today (the one made before and push's new one), two days, a week and a month
    assert len(kept) == 6 and len(report.thinned) == len(mine) + 1 - 6


def set_limits(col_path: Path, daily: int, weekly: int, monthly: int) -> None:
    col = Collection(str(col_path))
    try:
        prefs = col.get_preferences()
        prefs.backups.daily, prefs.backups.weekly, prefs.backups.monthly = daily, weekly, monthly
        col.set_preferences(prefs)
    finally:
        col.close()


def test_the_command_says_where_the_backup_is_and_what_it_thinned(project, tmp_path):
    col_path = make_profile(tmp_path / "Anki2")
    set_limits(col_path, 0, 0, 0)  # only today's and yesterday's
    folder = col_path.parent / "backups"
    folder.mkdir()
    old = (datetime.now() - timedelta(days=3000)).strftime(push_backups.NAME_FORMAT)
    (folder / old).write_bytes(b"push's")
    result = CliRunner().invoke(main, ["push", "--collection", str(col_path)])
    assert result.exit_code == 0, result.output
    [backup] = folder.iterdir()
    assert f"  backup: {backup}" in result.output
    assert "in Anki: File > Switch Profile > Open Backup" in result.output
    assert f"  removed 1 older push backup as Anki thins its own: {old}" in result.output
