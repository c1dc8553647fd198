"""Tests for gaitrisk.ingest.sources: every archive is built here, in tmp_path."""

from __future__ import annotations

import gzip
import io
import os
import stat
import struct
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaitrisk.ingest.sources import Limits, SourceFile, SourceProblem, iter_sources

GPX = b'<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="t"><trk/></gpx>\n'
TCX = b'<?xml version="1.0"?>\n<TrainingCenterDatabase xmlns="x"><Activities/></TrainingCenterDatabase>'
SMALL = Limits(max_entry_bytes=1 << 20, max_total_bytes=64 << 20)


def fit(tag: str) -> bytes:
    """A minimal FIT-looking blob: 14-byte header with ".FIT" at bytes 8..12."""
    payload = tag.encode()
    return struct.pack("<BBHI4sH", 14, 0x10, 2132, len(payload), b".FIT", 0) + payload


def zip_bytes(members: list[tuple[str | zipfile.ZipInfo, bytes]],
              compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def collect(paths: list, limits: Limits = Limits()) -> tuple[list[SourceFile], list[SourceProblem]]:
    items = list(iter_sources(paths, limits))
    assert all(isinstance(i, (SourceFile, SourceProblem)) for i in items)
    return ([i for i in items if isinstance(i, SourceFile)],
            [i for i in items if isinstance(i, SourceProblem)])


def names(files: list[SourceFile], root: Path | str) -> list[str]:
    """Names relative to root, for readable assertions."""
    prefix = str(root) + os.sep
    return [f.name[len(prefix):] if f.name.startswith(prefix) else f.name for f in files]


def patch_central_dir(data: bytes, member: str, **fields: int) -> bytes:
    """Overwrite header fields of one member, as a hostile archive would.

    Central directory offsets: flags 8, crc 16, compressed 20, uncompressed 24.
    The local header gets the same sizes so both records tell the same lie.
    """
    central = {"flags": (8, "<H"), "crc": (16, "<I"), "compress_size": (20, "<I"), "file_size": (24, "<I")}
    local = {"flags": (6, "<H"), "crc": (14, "<I"), "compress_size": (18, "<I"), "file_size": (22, "<I")}
    out = bytearray(data)
    for signature, offsets, name_at in ((b"PK\x01\x02", central, 46), (b"PK\x03\x04", local, 30)):
        pos = out.find(signature)
        while pos != -1:
            name_len = struct.unpack_from("<H", out, pos + (28 if name_at == 46 else 26))[0]
            if bytes(out[pos + name_at:pos + name_at + name_len]) == member.encode():
                for key, value in fields.items():
                    offset, fmt = offsets[key]
                    struct.pack_into(fmt, out, pos + offset, value)
            pos = out.find(signature, pos + 4)
    return bytes(out)


# --------------------------------------------------------------------------
# Files and folders


def test_folder_walk_is_sorted_skips_hidden_and_ignores_other_kinds(tmp_path: Path) -> None:
    write(tmp_path / "b" / "c" / "ride.gpx", GPX)
    write(tmp_path / "a" / "run1.FIT", fit("run1"))
    write(tmp_path / "a" / "Run2.Tcx", TCX)
    write(tmp_path / "a" / ".partial.fit", fit("hidden file"))
    write(tmp_path / ".cache" / "old.fit", fit("hidden folder"))
    write(tmp_path / "notes.txt", b"hello")
    write(tmp_path / "photo.jpg", b"\xff\xd8\xff")
    write(tmp_path / "summary.json", b"{}")
    write(tmp_path / "mystery.dat", fit("sniffable but not explicit"))

    files, problems = collect([tmp_path])

    assert problems == []
    # "Run2.Tcx" < "run1.FIT": plain code-point order, the same on every machine.
    assert names(files, tmp_path) == [os.path.join("a", "Run2.Tcx"), os.path.join("a", "run1.FIT"),
                                      os.path.join("b", "c", "ride.gpx")]
    assert [f.fmt for f in files] == ["tcx", "fit", "gpx"]
    assert files[1].data == fit("run1")
    assert all(dict(f.meta) == {} for f in files)


def test_symlinked_folder_is_not_followed(tmp_path: Path) -> None:
    write(tmp_path / "runs" / "a.fit", fit("a"))
    try:
        os.symlink(tmp_path, tmp_path / "runs" / "loop", target_is_directory=True)
        os.symlink(tmp_path / "runs" / "a.fit", tmp_path / "linked.fit")
    except (OSError, NotImplementedError):
        pytest.skip("symlinks not available")

    files, problems = collect([tmp_path])

    assert problems == []
    # The loop is not entered; a symlinked *file* is read like any other.
    assert names(files, tmp_path) == ["linked.fit", os.path.join("runs", "a.fit")]


def test_gz_files_are_decompressed_and_named_without_gz(tmp_path: Path) -> None:
    write(tmp_path / "d" / "track.GPX.GZ", gzip.compress(GPX))
    explicit = write(tmp_path / "run.fit.gz", gzip.compress(fit("gz")))

    files, problems = collect([explicit, tmp_path / "d"])

    assert problems == []
    assert [f.name for f in files] == [str(tmp_path / "run.fit"), str(tmp_path / "d" / "track.GPX")]
    assert [(f.fmt, f.data) for f in files] == [("fit", fit("gz")), ("gpx", GPX)]


def test_missing_path_is_a_problem_and_later_paths_still_yield(tmp_path: Path) -> None:
    good = write(tmp_path / "ok.gpx", GPX)
    missing = str(tmp_path / "nope.fit")

    items = list(iter_sources([missing, good]))

    assert items[0] == SourceProblem(missing, "no such file or folder")
    assert isinstance(items[1], SourceFile) and items[1].data == GPX


def test_explicit_unsupported_path_is_a_problem_but_content_can_vouch(tmp_path: Path) -> None:
    garbage = write(tmp_path / "run.dat", b"not an activity at all")
    csv_file = write(tmp_path / "activities.csv", b"Activity ID,Filename\n1,a.fit\n")
    fit_no_ext = write(tmp_path / "run", fit("no extension"))
    gpx_as_xml = write(tmp_path / "route.xml", b"\xef\xbb\xbf<!-- exported -->\n" + GPX)

    items = list(iter_sources([garbage, csv_file, fit_no_ext, gpx_as_xml]))

    assert [type(i) for i in items] == [SourceProblem, SourceProblem, SourceFile, SourceFile]
    assert items[0].name == str(garbage) and "not a supported file kind" in items[0].reason
    assert items[1].name == str(csv_file)
    assert (items[2].fmt, items[2].data) == ("fit", fit("no extension"))
    assert items[3].fmt == "gpx"


def test_extensionless_member_inside_zip_is_ignored(tmp_path: Path) -> None:
    archive = write(tmp_path / "x.zip", zip_bytes([("noext", fit("a")), ("readme.md", b"#"),
                                                   ("__MACOSX/._a.fit", b"\0\5\26\7"), ("a.fit", fit("a"))]))

    files, problems = collect([archive])

    assert problems == []
    assert [f.name for f in files] == [f"{archive}!a.fit"]


def test_single_path_instead_of_iterable_is_a_type_error(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        list(iter_sources(str(tmp_path)))  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Garmin and Strava exports


def test_garmin_nested_zip_yields_inner_fit_files_with_bang_names(tmp_path: Path) -> None:
    uploaded = zip_bytes([("123_ACTIVITY.fit", fit("one")), ("456_ACTIVITY.FIT", fit("two"))],
                         compression=zipfile.ZIP_STORED)
    inner_path = "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip"
    archive = write(tmp_path / "export.zip", zip_bytes([
        ("DI_CONNECT/DI-Connect-User/user_profile.json", b"{}"),
        (inner_path, uploaded),
        ("DI_CONNECT/DI-Connect-Fitness/summary.json", b"[]"),
    ]))

    files, problems = collect([archive])

    assert problems == []
    assert [f.name for f in files] == [f"{archive}!{inner_path}!123_ACTIVITY.fit",
                                       f"{archive}!{inner_path}!456_ACTIVITY.FIT"]
    assert [f.data for f in files] == [fit("one"), fit("two")]


STRAVA_CSV = (
    "\ufeffActivity ID,Activity Date,Activity Name,Activity Type,Activity Description,"
    "Elapsed Time,Distance,Filename,Elapsed Time,Distance,Activity Type\r\n"
    '1001,"Jan 2, 2024, 7:00:00 AM",Morning Run,Run,"long\nmultiline, text",3600,10.0,'
    "activities/1001.fit.gz,3600,10000.0,duplicate column\r\n"
    '1002,"Jan 3, 2024, 6:00:00 PM","Hills, again",Trail Run,,1800,5.0,activities/1002.gpx,1800,5000.0\r\n'
    "1003,\"Jan 4, 2024, 6:00:00 PM\",Manual,Run,,1800,5.0,,1800,5000.0\r\n"
    "1004,\"Jan 5, 2024, 6:00:00 PM\",Short row,Run\r\n"
).encode("utf-8")

STRAVA_META_1001 = {"activity_id": "1001", "activity_date": "Jan 2, 2024, 7:00:00 AM",
                    "activity_name": "Morning Run", "activity_type": "Run"}
STRAVA_META_1002 = {"activity_id": "1002", "activity_date": "Jan 3, 2024, 6:00:00 PM",
                    "activity_name": "Hills, again", "activity_type": "Trail Run"}


@pytest.mark.parametrize("csv_first", [True, False], ids=["csv-first", "csv-last"])
def test_strava_export_zip_attaches_activity_details(tmp_path: Path, csv_first: bool) -> None:
    activities = [
        ("activities/1001.fit.gz", gzip.compress(fit("1001"))),
        ("activities/1002.gpx", GPX),
        ("activities/9999.tcx.gz", gzip.compress(TCX)),  # not listed in the csv
    ]
    index = [("activities.csv", STRAVA_CSV)]
    archive = write(tmp_path / "export_42.zip",
                    zip_bytes(index + activities if csv_first else activities + index))

    files, problems = collect([archive])

    assert problems == []
    assert [f.name for f in files] == [f"{archive}!activities/1001.fit", f"{archive}!activities/1002.gpx",
                                       f"{archive}!activities/9999.tcx"]
    assert [f.fmt for f in files] == ["fit", "gpx", "tcx"]
    assert files[0].data == fit("1001")
    assert [dict(f.meta) for f in files] == [STRAVA_META_1001, STRAVA_META_1002, {}]


def test_strava_extracted_folder_attaches_activity_details(tmp_path: Path) -> None:
    root = tmp_path / "export_42"
    write(root / "activities.csv", STRAVA_CSV)
    write(root / "activities" / "1001.fit.gz", gzip.compress(fit("1001")))
    write(root / "activities" / "1002.gpx", GPX)

    files, problems = collect([tmp_path])

    assert problems == []
    assert [dict(f.meta) for f in files] == [STRAVA_META_1001, STRAVA_META_1002]


def test_strava_export_inside_a_top_folder_of_the_zip(tmp_path: Path) -> None:
    archive = write(tmp_path / "bundle.zip", zip_bytes([
        ("export_42/activities/1002.gpx", GPX),
        ("export_42/activities.csv", STRAVA_CSV),
        ("activities/1002.gpx", GPX),  # same relative name outside the export: not described
    ]))

    files, problems = collect([archive])

    assert problems == []
    assert [(f.name, dict(f.meta)) for f in files] == [
        (f"{archive}!export_42/activities/1002.gpx", STRAVA_META_1002),
        (f"{archive}!activities/1002.gpx", {}),
    ]


def test_activities_csv_without_filename_column_is_reported(tmp_path: Path) -> None:
    archive = write(tmp_path / "s.zip", zip_bytes([("activities.csv", b"Activity ID,Name\n1,x\n"),
                                                   ("activities/1.gpx", GPX)]))

    files, problems = collect([archive])

    assert [f.name for f in files] == [f"{archive}!activities/1.gpx"]
    assert len(problems) == 1 and "'Filename' column" in problems[0].reason


# --------------------------------------------------------------------------
# Hostile archives


def test_zip_slip_and_symlink_members_are_refused_and_good_members_kept(tmp_path: Path) -> None:
    link = zipfile.ZipInfo("shortcut.fit")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive = write(tmp_path / "evil.zip", zip_bytes([
        ("../evil.fit", fit("evil")),
        ("good/one.fit", fit("one")),
        ("/abs.fit", fit("abs")),
        ("C:/Windows/x.gpx", GPX),
        ("sub/../../up.txt", b"x"),
        (link, b"/etc/passwd"),
        ("good/two.gpx", GPX),
    ]))

    files, problems = collect([archive])

    assert [f.name for f in files] == [f"{archive}!good/one.fit", f"{archive}!good/two.gpx"]
    assert [p.name for p in problems] == [f"{archive}!{n}" for n in
                                          ("../evil.fit", "/abs.fit", "C:/Windows/x.gpx", "sub/../../up.txt",
                                           "shortcut.fit")]
    assert all("path traversal" in p.reason for p in problems[:4])
    assert "symbolic link" in problems[4].reason


def test_zip_bomb_is_refused_by_ratio(tmp_path: Path) -> None:
    archive = write(tmp_path / "bomb.zip", zip_bytes([("bomb.fit", bytes(50 << 20)), ("ok.fit", fit("ok"))]))

    files, problems = collect([archive])

    assert [f.name for f in files] == [f"{archive}!ok.fit"]
    assert [p.name for p in problems] == [f"{archive}!bomb.fit"]
    # Refused from the declared sizes, before a byte is decompressed.
    assert "has a compression ratio of 1029x" in problems[0].reason and "max_ratio" in problems[0].reason


def test_oversized_entry_is_refused_by_declared_size(tmp_path: Path) -> None:
    big = os.urandom(SMALL.max_entry_bytes + 1)  # incompressible: the ratio is fine
    archive = write(tmp_path / "big.zip", zip_bytes([("big.fit", big)], zipfile.ZIP_STORED))

    files, problems = collect([archive], SMALL)

    assert files == []
    assert "max_entry_bytes" in problems[0].reason and "declares" in problems[0].reason


def test_lying_zip_header_is_capped(tmp_path: Path) -> None:
    real = bytes(5 << 20)
    honest = zip_bytes([("lie.fit", real), ("after.gpx", GPX)])
    # Declare 1000 bytes uncompressed: passes the size and ratio checks.
    archive = write(tmp_path / "lie.zip", patch_central_dir(honest, "lie.fit", file_size=1000))
    assert zipfile.ZipFile(archive).getinfo("lie.fit").file_size == 1000

    files, problems = collect([archive], Limits(max_entry_bytes=1 << 20))

    # Never more than the declared size is read, and the mismatch is reported.
    assert [f.name for f in files] == [f"{archive}!after.gpx"]
    assert [p.name for p in problems] == [f"{archive}!lie.fit"]
    assert "header does not match its data" in problems[0].reason


def test_gzip_member_of_zip_is_capped_without_trusting_any_header(tmp_path: Path) -> None:
    # gzip's own size trailer is ignored, so only the hard read cap stops this.
    bomb = gzip.compress(bytes(20 << 20), compresslevel=9)
    archive = write(tmp_path / "s.zip", zip_bytes([("activities/1.fit.gz", bomb), ("activities/2.gpx", GPX)]))

    files, problems = collect([archive], SMALL)

    assert [f.name for f in files] == [f"{archive}!activities/2.gpx"]
    assert problems[0].name == f"{archive}!activities/1.fit.gz"
    assert "gzip data" in problems[0].reason and "gzip bomb" in problems[0].reason


def test_gz_bomb_file_is_capped_by_size_and_by_ratio(tmp_path: Path) -> None:
    bomb = write(tmp_path / "bomb.fit.gz", gzip.compress(bytes(20 << 20), compresslevel=9))

    _, by_size = collect([bomb], SMALL)
    _, by_ratio = collect([bomb])

    assert [p.name for p in by_size] == [str(bomb)]
    assert "max_entry_bytes" in by_size[0].reason
    assert "compression ratio" in by_ratio[0].reason and "max_ratio" in by_ratio[0].reason


def test_zip_nested_deeper_than_max_depth_is_refused(tmp_path: Path) -> None:
    level3 = zip_bytes([("deep3.fit", fit("3"))])
    level2 = zip_bytes([("deep2.fit", fit("2")), ("l3.zip", level3)])
    level1 = zip_bytes([("deep1.fit", fit("1")), ("l2.zip", level2)])
    archive = write(tmp_path / "top.zip", zip_bytes([("top.fit", fit("0")), ("l1.zip", level1)]))

    files, problems = collect([archive], Limits(max_depth=1))

    assert [f.name for f in files] == [f"{archive}!top.fit", f"{archive}!l1.zip!deep1.fit"]
    assert [p.name for p in problems] == [f"{archive}!l1.zip!l2.zip"]
    assert "max_depth" in problems[0].reason

    all_files, no_problems = collect([archive])  # the default depth of 3 opens all of them
    assert no_problems == [] and len(all_files) == 4


def test_encrypted_member_is_refused(tmp_path: Path) -> None:
    plain = zip_bytes([("secret.fit", fit("s")), ("open.fit", fit("o"))], zipfile.ZIP_STORED)
    archive = write(tmp_path / "enc.zip", patch_central_dir(plain, "secret.fit", flags=0x1))

    files, problems = collect([archive])

    assert [f.name for f in files] == [f"{archive}!open.fit"]
    assert [p.name for p in problems] == [f"{archive}!secret.fit"] and "encrypted" in problems[0].reason


def test_unboundable_compression_method_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("bz2")
    archive = write(tmp_path / "bz.zip", zip_bytes([("a.fit", fit("a"))], zipfile.ZIP_BZIP2))

    files, problems = collect([archive])

    assert files == [] and "bzip2" in problems[0].reason


def test_too_many_entries_stops_the_archive(tmp_path: Path) -> None:
    inner = zip_bytes([(f"in{i}.fit", fit(str(i))) for i in range(3)])
    archive = write(tmp_path / "many.zip", zip_bytes([("a.fit", fit("a")), ("n.zip", inner)]))
    later = write(tmp_path / "later.gpx", GPX)

    files, problems = collect([archive, later], Limits(max_entries=4))

    # 2 outer entries + 3 nested = 5 > 4: stopped when the nested zip is listed.
    assert [f.name for f in files] == [f"{archive}!a.fit", str(later)]
    assert len(problems) == 1 and "max_entries" in problems[0].reason


def test_total_bytes_over_limit_stops_the_archive(tmp_path: Path) -> None:
    chunk = os.urandom(100_000)
    archive = write(tmp_path / "t.zip", zip_bytes([(f"{i}.fit", chunk) for i in range(4)]))

    files, problems = collect([archive], Limits(max_total_bytes=250_000))

    assert [f.name for f in files] == [f"{archive}!0.fit", f"{archive}!1.fit"]
    assert problems == [SourceProblem(str(archive), problems[0].reason)]
    assert "max_total_bytes" in problems[0].reason and "stopped" in problems[0].reason


@pytest.mark.parametrize("gz_first", [False, True], ids=["over-while-gunzipping", "over-after-gunzipping"])
def test_total_bytes_are_counted_as_decompressed_not_as_declared(tmp_path: Path, gz_first: bool) -> None:
    # The .gz member declares a tiny zip size but gunzips to 200 kB: only the
    # running count of decompressed bytes can tell that the total goes over.
    gz_member = ("b.fit.gz", gzip.compress(bytes(200_000)))
    plain_member = ("a.fit", os.urandom(100_000))
    members = [gz_member, plain_member] if gz_first else [plain_member, gz_member]
    archive = write(tmp_path / "t.zip", zip_bytes(members + [("c.gpx", GPX)]))

    files, problems = collect([archive], Limits(max_total_bytes=250_000))

    assert [f.name for f in files] == [f"{archive}!b.fit" if gz_first else f"{archive}!a.fit"]
    assert problems == [SourceProblem(str(archive), problems[0].reason)]
    assert "max_total_bytes" in problems[0].reason


def test_corrupt_zip_and_gz_are_problems_and_iteration_continues(tmp_path: Path) -> None:
    bad_zip = write(tmp_path / "bad.zip", b"PK\x03\x04 this is not really a zip")
    bad_gz = write(tmp_path / "bad.fit.gz", b"\x1f\x8b\x08\x00garbage-garbage")
    cut_gz = write(tmp_path / "cut.gpx.gz", gzip.compress(GPX * 50)[:-30])
    good = write(tmp_path / "good.tcx", TCX)

    items = list(iter_sources([bad_zip, bad_gz, cut_gz, good]))

    assert [type(i) for i in items] == [SourceProblem, SourceProblem, SourceProblem, SourceFile]
    assert items[0].name == str(bad_zip) and "not a zip archive" in items[0].reason
    assert items[1].name == str(bad_gz) and "gzip" in items[1].reason
    assert items[2].name == str(cut_gz) and "gzip" in items[2].reason
    assert items[3].data == TCX


def test_corrupt_nested_zip_is_a_problem_and_siblings_still_yield(tmp_path: Path) -> None:
    archive = write(tmp_path / "e.zip", zip_bytes([("Part1.zip", b"not a zip"), ("a.fit", fit("a"))]))

    files, problems = collect([archive])

    assert [f.name for f in files] == [f"{archive}!a.fit"]
    assert [p.name for p in problems] == [f"{archive}!Part1.zip"]
    assert "not a zip archive" in problems[0].reason


SAMPLE_ZIP = zip_bytes([
    ("activities.csv", STRAVA_CSV),
    ("activities/1001.fit.gz", gzip.compress(fit("1001"))),
    ("n.zip", zip_bytes([("x.gpx", GPX)])),
    ("b.tcx", TCX),
])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, len(SAMPLE_ZIP) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_damaged_archives_never_raise(tmp_path: Path, edits: list[tuple[int, int]]) -> None:
    damaged = bytearray(SAMPLE_ZIP)
    for pos, value in edits:
        damaged[pos] = value
    archive = write(tmp_path / "fuzz.zip", bytes(damaged))

    for item in iter_sources([archive], SMALL):
        assert isinstance(item, (SourceFile, SourceProblem))
        assert item.name.startswith(str(archive))
        if isinstance(item, SourceFile):
            assert len(item.data) <= SMALL.max_entry_bytes
