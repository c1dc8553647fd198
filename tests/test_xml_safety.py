"""Hostile and sloppy XML: refused or repaired, always with a clear one-line reason."""

from __future__ import annotations

import pytest

from gaitrisk.ingest.decoders import REFERENCE
from gaitrisk.ingest.xmlsafe import UnsafeXmlError, parse

GPX_HEAD = '<gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1" ' \
           'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">'
POINTS = "".join(
    f'<trkpt lat="46.0{i:02d}" lon="14.5"><ele>300</ele><time>2024-05-01T07:00:{i:02d}Z</time>'
    f'<extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>140</gpxtpx:hr><gpxtpx:cad>85</gpxtpx:cad>'
    f'</gpxtpx:TrackPointExtension></extensions></trkpt>' for i in range(10))
GOOD_GPX = f'<?xml version="1.0" encoding="UTF-8"?>{GPX_HEAD}<trk><type>running</type><trkseg>{POINTS}</trkseg></trk></gpx>'

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<gpx version="1.1" creator="&lol3;"></gpx>"""
QUADRATIC = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "' + "A" * 50_000 + '">]><gpx creator="' + "&a;" * 1000 + '"/>'
EXTERNAL = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><gpx creator="&e;"/>'


@pytest.mark.parametrize("doc", [BILLION_LAUGHS, QUADRATIC, EXTERNAL], ids=["billion-laughs", "quadratic", "xxe"])
@pytest.mark.parametrize("fmt", ["gpx", "tcx"])
def test_entity_attacks_are_refused(doc, fmt):
    with pytest.raises(UnsafeXmlError):
        parse(doc.encode())
    res = REFERENCE.decode(fmt, doc.encode(), f"evil.{fmt}")
    assert res.error and "refused for safety" in res.error and "\n" not in res.error
    assert not res.activities


def test_good_gpx_with_garmin_extensions():
    res = REFERENCE.decode("gpx", GOOD_GPX.encode(), "good.gpx")
    s = res.activities[0].samples
    assert len(s) == 10 and (s["cadence_spm"] == 170).all() and (s["heart_rate_bpm"] == 140).all()


def test_bom_and_leading_whitespace_are_repaired_and_reported():
    res = REFERENCE.decode("gpx", b"\xef\xbb\xbf \n\t" + GOOD_GPX.encode(), "bom.gpx")
    assert len(res.activities[0].samples) == 10
    assert any("byte-order mark" in p for p in res.problems)
    assert any("whitespace" in p for p in res.problems)


def test_undeclared_prefix_is_declared_and_reported():
    doc = GOOD_GPX.replace(' xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1"', "")
    res = REFERENCE.decode("gpx", doc.encode(), "prefix.gpx")
    assert (res.activities[0].samples["cadence_spm"] == 170).all()
    assert any("undeclared namespace prefix (gpxtpx)" in p for p in res.problems)


def test_garbage_is_a_one_line_error():
    for fmt in ("gpx", "tcx"):
        res = REFERENCE.decode(fmt, b"<gpx><trk>", f"cut.{fmt}")
        assert res.error and "\n" not in res.error and not res.activities


def test_gpx_without_times_is_skipped_not_failed():
    doc = GOOD_GPX
    import re

    doc = re.sub(r"<time>[^<]*</time>", "", doc)
    res = REFERENCE.decode("gpx", doc.encode(), "notimes.gpx")
    assert res.error is None and not res.activities and "no timestamps" in res.skipped_reason


@pytest.mark.parametrize("fmt", ["gpx", "tcx"])
def test_bomless_utf16_entity_attack_is_refused_by_the_fast_path_too(fmt):
    from gaitrisk.ingest.decoders import DEFAULT
    from gaitrisk.ingest.xmlsafe import parse_fast

    doc = BILLION_LAUGHS.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    data = doc.encode("utf-16-le")  # no byte-order mark
    with pytest.raises(UnsafeXmlError):
        parse_fast(data)
    res = DEFAULT.decode(fmt, data, f"evil.{fmt}")
    assert not res.activities and res.error
