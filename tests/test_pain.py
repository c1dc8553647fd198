"""The pain log: vocabulary, validation, local time -> UTC (DST), CSV import, atomic storage.
The 0-10 NRS (Farrar 2001) and the regions of the pain vocabulary."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from zoneinfo import ZoneInfo

import pytest

from gaitrisk.times import TimeZoneError, resolve_zone, to_utc
from gaitrisk.pain import build_entry, read_pain_csv, vocab
from gaitrisk.store import Store

BERLIN = ZoneInfo("Europe/Berlin")
HEADER = "date,time,score,region,side,when,behaviour,note\n"


def test_vocabulary_accepts_codes_and_labels_only():
    assert vocab.region("Lateral knee/ITB") == "lateral_knee_itb"
    assert vocab.region("groin/front hip") == "groin_front_hip" == vocab.region("GROIN_FRONT_HIP")
    # Pelvic pain has a place to go (a bone-stress site); the stored code stays "buttock".
    assert vocab.region("pelvis/buttock") == "buttock" == vocab.region("buttock")
    assert vocab.side("left") == "L" and vocab.side("R") == "R" and vocab.side("Both") == "both"
    assert vocab.when("next morning") == "next_morning"
    assert vocab.behaviour("warms up") == "warms_up"
    for bad in (lambda: vocab.region("hip"), lambda: vocab.side("middle"), lambda: vocab.when("sometimes"),
                lambda: vocab.score("11"), lambda: vocab.score("-1"), lambda: vocab.score("4.5")):
        with pytest.raises(ValueError):
            bad()
    assert vocab.score(" 0 ") == 0 and vocab.score("10") == 10


def test_local_time_to_utc_across_dst():
    # Berlin is UTC+1 in winter and UTC+2 in summer.
    assert to_utc(dt.date(2021, 1, 10), dt.time(7, 30), BERLIN) == (
        dt.datetime(2021, 1, 10, 6, 30, tzinfo=dt.timezone.utc), False)
    assert to_utc(dt.date(2021, 7, 10), dt.time(7, 30), BERLIN)[0] == dt.datetime(2021, 7, 10, 5, 30,
                                                                                  tzinfo=dt.timezone.utc)
    # A date without a time is kept at local noon.
    assert to_utc(dt.date(2021, 7, 10), None, BERLIN) == (dt.datetime(2021, 7, 10, 10, tzinfo=dt.timezone.utc), True)
    with pytest.raises(TimeZoneError, match="does not exist"):
        to_utc(dt.date(2021, 3, 28), dt.time(2, 30), BERLIN)   # clocks jump 02:00 -> 03:00
    with pytest.raises(TimeZoneError, match="happens twice"):
        to_utc(dt.date(2021, 10, 31), dt.time(2, 30), BERLIN)  # 02:00-03:00 happens twice
    # With an explicit offset the ambiguous hour is fine.
    e = build_entry("me", BERLIN, date="2021-10-31", time="02:30+01:00", score=3, region="buttock", side="L",
                    when="at night")
    assert e.time_utc == dt.datetime(2021, 10, 31, 1, 30, tzinfo=dt.timezone.utc)


def test_resolve_zone(monkeypatch):
    assert resolve_zone("Europe/Berlin").key == "Europe/Berlin"
    with pytest.raises(TimeZoneError, match="unknown time zone"):
        resolve_zone("Mars/Olympus")
    monkeypatch.setenv("TZ", "America/Sao_Paulo")
    assert resolve_zone(None).key == "America/Sao_Paulo"


def test_entry_validates_itself():
    e = build_entry("me", BERLIN, date="2024-05-01", time="7:05", score="4", region="lateral hip", side="r",
                    when="after run", behaviour="worsens", note="  stairs hurt ")
    assert (e.score, e.region, e.side, e.when, e.behaviour, e.note) == (4, "lateral_hip", "R", "after_run",
                                                                        "worsens", "stairs hurt")
    assert e.local_time().strftime("%Y-%m-%d %H:%M") == "2024-05-01 07:05" and not e.date_only
    with pytest.raises(ValueError):
        dataclasses.replace(e, score=11)
    with pytest.raises(ValueError, match="date '2024-02-30' does not exist"):
        build_entry("me", BERLIN, date="2024-02-30", time=None, score=1, region="foot", side="L", when="at rest")


# -- CSV -------------------------------------------------------------------------------------------
def test_csv_good_and_bad_rows_with_line_numbers():
    data = (HEADER +
            "2024-05-01,07:30,4,lateral hip,R,after run,,felt it on stairs\n"     # line 2 ok
            "2024-05-02,,11,lateral hip,R,after_run,,\n"                          # line 3 score
            "\n"                                                                  # line 4 blank
            "2024-05-03,06:00,2,hip,L,next_morning,,\n"                           # line 5 region
            '2024-05-04,21:00,3,shin,both,during_run,worsens,"two\nlines"\n'     # lines 6-7 ok
            "2024-05-32,08:00,1,foot,L,at_rest,,\n"                               # line 8 date
            "2024-05-05,08:00,1,foot\n").encode()                                 # line 9 fields
    res = read_pain_csv(data, "me", BERLIN)
    assert res.fatal is None
    assert [line for line, _ in res.entries] == [2, 6]
    assert res.entries[1][1].note == "two\nlines" and res.entries[1][1].behaviour == "worsens"
    assert [(e.line, e.reason.split(" ")[0]) for e in res.errors] == [(3, "score"), (5, "region"), (8, "date"),
                                                                       (9, "4")]
    assert "not a whole number from 0 to 10" in res.errors[0].reason


@pytest.mark.parametrize("data, message", [
    (b"", "empty file"),
    (b"  \n\n", "empty file"),
    (b"day,score,region,side,when\n2024-05-01,1,foot,L,at_rest\n", "missing column(s) date"),
    (b"date,score,region,side,when,mood\n", "unknown column(s) 'mood'"),
    (HEADER.encode(), "no data rows"),
    ((HEADER + "2024-05-01,07:30,4,foot,R,after_run,,M\xfcller\n").encode("latin-1"), "not UTF-8 text"),
])
def test_csv_whole_file_problems(data, message):
    res = read_pain_csv(data, "me", BERLIN)
    assert res.fatal and message in res.fatal and not res.entries


def test_non_utf8_message_names_the_line():
    data = (HEADER + "2024-05-01,07:30,4,foot,R,after_run,,ok\n2024-05-02,07:30,4,foot,R,after_run,,\xe9\n")
    res = read_pain_csv(data.encode("cp1252"), "me", BERLIN)
    assert "byte 0xe9 on line 3" in res.fatal


def test_csv_bom_semicolons_and_optional_columns():
    data = "\ufeffDate;Score;Region;Side;When\n2024-05-01;3;buttock;L;at night\n".encode()
    res = read_pain_csv(data, "me", BERLIN)
    assert res.fatal is None and not res.errors
    (line, e), = res.entries
    assert line == 2 and e.date_only and e.local_time().hour == 12


# -- store -----------------------------------------------------------------------------------------
def _entry(day=1, score=3, **kw):
    return build_entry("ann", BERLIN, date=f"2024-05-{day:02d}", time="08:00", score=score,
                       region=kw.get("region", "lateral_hip"), side="L", when="after_run")


def test_store_round_trip_duplicates_edit_delete(tmp_path):
    with Store(tmp_path / "g.db") as st:
        ids = st.add_pain_entries([_entry(1), _entry(2)])
        assert all(isinstance(i, int) for i in ids)
        assert st.add_pain_entries([_entry(1)]) == [None]  # the same report again is one entry
        got = st.pain_entries("ann")
        assert [e.time_utc for e in got] == [dt.datetime(2024, 5, 1, 6, tzinfo=dt.timezone.utc),
                                             dt.datetime(2024, 5, 2, 6, tzinfo=dt.timezone.utc)]
        assert got[0] == _entry(1).with_id(ids[0])
        assert st.update_pain_entry(dataclasses.replace(got[0], score=7))
        assert st.pain_entry("ann", ids[0]).score == 7
        assert st.pain_entry("bob", ids[0]) is None       # another athlete cannot see it ...
        assert not st.delete_pain_entry("bob", ids[0])    # ... or delete it
        assert st.delete_pain_entry("ann", ids[0]) and [e.id for e in st.pain_entries("ann")] == [ids[1]]


def test_a_failing_row_leaves_nothing_half_stored(tmp_path):
    good = _entry(1)
    bad = _entry(2)
    object.__setattr__(bad, "score", 11)  # bypass validation to hit the table's CHECK mid-batch
    with Store(tmp_path / "g.db") as st:
        with pytest.raises(sqlite3.IntegrityError):
            st.add_pain_entries([good, bad])
        assert st.pain_entries("ann") == []


def test_gaps_round_trip(tmp_path):
    from gaitrisk.records import DataGap

    with Store(tmp_path / "g.db") as st:
        gid = st.add_gap(DataGap("ann", dt.date(2024, 3, 1), dt.date(2024, 3, 10), "watch broken"))
        (g,) = st.gaps("ann")
        assert (g.id, g.first_day, g.last_day, g.days, g.reason) == (gid, dt.date(2024, 3, 1),
                                                                     dt.date(2024, 3, 10), 10, "watch broken")
        assert st.gaps("bob") == [] and not st.delete_gap("bob", gid)
        assert st.delete_gap("ann", gid) and st.gaps("ann") == []
    with pytest.raises(ValueError, match="before it starts"):
        DataGap("ann", dt.date(2024, 3, 2), dt.date(2024, 3, 1))


def test_huge_pain_csv_is_refused_before_reading(tmp_path):
    from click.testing import CliRunner

    from gaitrisk.cli import cli

    big = tmp_path / "diary.csv"
    with big.open("wb") as f:  # sparse: 2 GB on paper, nothing on disk
        f.truncate(2 * 10**9)
    res = CliRunner().invoke(cli, ["--db", str(tmp_path / "g.db"), "pain", "import", str(big)])
    assert res.exit_code == 1 and "too large for a pain log" in res.output and "nothing imported" in res.output
