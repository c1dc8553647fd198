"""Hostile XML and archives through the whole ``gaitrisk import`` path: refused with one line, batch goes on.

The reader-level cases live in test_xml_safety.py and test_sources.py; here each attack
is a file handed to the CLI next to a good run, and the good run must still be imported.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import stat
import struct
import zipfile

import pytest
from click.testing import CliRunner

from gaitrisk.cli import cli
from gaitrisk.ingest import pipeline
from gaitrisk.ingest.sources import Limits
from gaitrisk.ingest.xml.safe import UnsafeXmlError, parse

from .helpers.gpxgen import gpx_run

UTC = dt.timezone.utc
RUN = gpx_run(dt.datetime(2024, 3, 1, 7, tzinfo=UTC), minutes=3)
TCX_ROOT = '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">'
ATTACKS = {
    "billion-laughs": '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                      '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>',
    "quadratic": '<!DOCTYPE r [<!ENTITY a "' + "A" * 100_000 + '">]>',
    "external-entity": '<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    "parameter-entity": '<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',
    "external-dtd": '<!DOCTYPE r SYSTEM "file:///etc/passwd">',
}
USE = {"billion-laughs": "&d;", "quadratic": "&a;" * 2000, "external-entity": "&e;"}


def hostile(fmt: str, attack: str, encoding: str = "utf-8") -> bytes:
    body = USE.get(attack, "x")
    if fmt == "gpx":
        doc = f'<gpx version="1.1" creator="{body}"><trk><type>running</type></trk></gpx>'
    else:
        doc = f'{TCX_ROOT}<Activities><Activity Sport="Running"><Notes>{body}</Notes></Activity></Activities>' \
              f"</TrainingCenterDatabase>"
    text = f'<?xml version="1.0" encoding="{encoding}"?>' + ATTACKS[attack] + doc
    return text.encode(encoding)


def _import(tmp_path, *paths, json_out=True):
    args = ["--db", str(tmp_path / "g.db"), "import", *map(str, paths)] + (["--json"] if json_out else [])
    return CliRunner().invoke(cli, args)


@pytest.mark.slow
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
@pytest.mark.parametrize("attack", list(ATTACKS))
@pytest.mark.parametrize("fmt", ["gpx", "tcx"])
def test_hostile_xml_is_refused_with_one_line_through_import(tmp_path, fmt, attack, encoding):
    data = hostile(fmt, attack, encoding)
    with pytest.raises(UnsafeXmlError):
        parse(data)
    evil = tmp_path / f"evil.{fmt}"
    evil.write_bytes(data)
    good = tmp_path / "good.gpx"
    good.write_bytes(RUN)
    res = _import(tmp_path, evil, good)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["imported"] == 1
    [failed] = out["failed"]
    assert failed["file"] == str(evil) and "\n" not in failed["reason"]
    assert failed["reason"].startswith("refused for safety") and "DTD/entity declarations are not allowed" in failed["reason"]
    assert "root:" not in res.output  # nothing of /etc/passwd


@pytest.mark.slow
def test_deeply_nested_xml_is_a_clean_result(tmp_path):
    deep = ('<?xml version="1.0"?><gpx version="1.1">' + "<a>" * 200_000 + "</a>" * 200_000 + "</gpx>").encode()
    (tmp_path / "deep.gpx").write_bytes(deep)
    res = _import(tmp_path, tmp_path / "deep.gpx")
    out = json.loads(res.stdout)
    assert out["imported"] == 0 and (out["skipped"] == 1 or out["failed"])


# -- archives -------------------------------------------------------------------------


def _zip(members, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def _reasons(res) -> dict[str, str]:
    out = json.loads(res.stdout)
    return {f["file"].split("!", 1)[-1]: f["reason"] for f in out["failed"]}


def test_zip_slip_absolute_and_symlink_members_through_import(tmp_path):
    link = zipfile.ZipInfo("link.gpx")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive = tmp_path / "evil.zip"
    archive.write_bytes(_zip([("../../escape.gpx", RUN), ("/etc/abs.gpx", RUN), ("..\\win.gpx", RUN),
                              ("\\\\server\\share.gpx", RUN), ("D:\\x.gpx", RUN), (link, b"/etc/passwd"),
                              ("ok/run.gpx", RUN)]))
    res = _import(tmp_path, archive)
    assert res.exit_code == 0
    assert json.loads(res.stdout)["imported"] == 1
    reasons = _reasons(res)
    assert set(reasons) == {"../../escape.gpx", "/etc/abs.gpx", "..\\win.gpx", "\\\\server\\share.gpx",
                            "D:\\x.gpx", "link.gpx"}
    assert all("\n" not in r for r in reasons.values())
    assert "'..' component" in reasons["../../escape.gpx"] and "'..' component" in reasons["..\\win.gpx"]
    assert "absolute path" in reasons["/etc/abs.gpx"] and "drive letter" in reasons["D:\\x.gpx"]
    assert "symbolic link" in reasons["link.gpx"]
    assert not (tmp_path.parent / "escape.gpx").exists()


@pytest.mark.slow
def test_zip_bomb_by_ratio_and_gz_bomb_through_import(tmp_path):
    archive = tmp_path / "bomb.zip"
    archive.write_bytes(_zip([("bomb.gpx", bytes(60 << 20)), ("run.gpx", RUN)]))
    gz = tmp_path / "bomb.fit.gz"
    gz.write_bytes(gzip.compress(bytes(60 << 20), compresslevel=9))
    res = _import(tmp_path, archive, gz)
    assert json.loads(res.stdout)["imported"] == 1
    reasons = _reasons(res)
    assert "compression ratio" in reasons["bomb.gpx"] and "possible zip bomb" in reasons["bomb.gpx"]
    assert "max_ratio" in reasons[str(gz)] and "possible gzip bomb" in reasons[str(gz)]


def test_zip_bomb_by_total_size_through_import(tmp_path, monkeypatch):
    real = pipeline.iter_sources
    small = Limits(max_entry_bytes=2 << 20, max_total_bytes=3 << 20)
    monkeypatch.setattr(pipeline, "iter_sources", lambda paths, limits, **kw: real(paths, small, **kw))
    import os

    chunk = os.urandom(1 << 20)  # incompressible: each entry passes the size and ratio limits
    archive = tmp_path / "total.zip"
    archive.write_bytes(_zip([("a/run.gpx", RUN)] + [(f"b/{i}.fit", chunk) for i in range(6)]))
    res = _import(tmp_path, archive, json_out=False)
    assert "1 imported" in res.stdout
    lines = [line for line in res.output.splitlines() if "max_total_bytes" in line]
    assert len(lines) == 1 and "archive expands to more than 3 MiB in total" in lines[0]
    assert "stopped reading it (possible zip bomb)" in lines[0]


def test_overlapping_entries_zip_bomb_is_bounded(tmp_path, monkeypatch):
    """Fifield's construction: many central-directory entries share one local file's data."""
    real = pipeline.iter_sources
    monkeypatch.setattr(pipeline, "iter_sources",
                        lambda paths, limits, **kw: real(paths, Limits(max_total_bytes=8 << 20), **kw))
    import os

    kernel = os.urandom(1 << 20)
    one = _zip([("k.fit", kernel)], zipfile.ZIP_STORED)
    cd_at = one.index(b"PK\x01\x02")
    eocd_at = one.index(b"PK\x05\x06")
    local, central = one[:cd_at], one[cd_at:eocd_at]
    entries = central * 100  # zipfile checks the name against the local header, so all are "k.fit"
    eocd = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 100, 100, len(entries), len(local), 0)
    archive = tmp_path / "overlap.zip"
    archive.write_bytes(local + entries + eocd)
    assert len(zipfile.ZipFile(archive).infolist()) == 100  # 100 MiB declared from 1 MiB on disk
    res = _import(tmp_path, archive, json_out=False)
    assert res.exit_code in (0, 1)
    assert sum("max_total_bytes" in line for line in res.output.splitlines()) == 1
    assert all(line.count("\n") == 0 for line in res.output.splitlines())


def test_deeply_nested_zips_through_import(tmp_path):
    inner = _zip([("deep.gpx", RUN)])
    for level in range(12):
        inner = _zip([(f"level{level}.zip", inner)])
    archive = tmp_path / "nested.zip"
    archive.write_bytes(inner)
    res = _import(tmp_path, archive)
    out = json.loads(res.stdout)
    assert out["imported"] == 0 and len(out["failed"]) == 1
    assert "nested inside 4 other zip(s), over the limit of 3 (max_depth)" in out["failed"][0]["reason"]
