"""Hostile and sloppy XML: refused or repaired, always with a clear one-line reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gaitrisk import schema as S
from gaitrisk.ingest.decoders import REFERENCE
from gaitrisk.ingest.xml.safe import UnsafeXmlError, parse

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
    from gaitrisk.ingest.xml.safe import parse_fast

    doc = BILLION_LAUGHS.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    data = doc.encode("utf-16-le")  # no byte-order mark
    with pytest.raises(UnsafeXmlError):
        parse_fast(data)
    res = DEFAULT.decode(fmt, data, f"evil.{fmt}")
    assert not res.activities and res.error


# --- TCX: read on the C parser (safe.parse_fast), with the same refusals -------------------

_TCX_LAUGHS = ('<?xml version="1.0" encoding="{enc}"?>\n<!DOCTYPE t [<!ENTITY a "aaaaaaaaaa">'
               '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
               '<TrainingCenterDatabase><Activities><Activity Sport="Running"><Notes>&b;</Notes>'
               '</Activity></Activities></TrainingCenterDatabase>')


@pytest.mark.parametrize("encoding", ["UTF-8", "UTF-16"])
def test_tcx_entities_are_refused_by_the_reader(encoding):
    from gaitrisk.ingest.xml.tcx import decode_tcx

    res = decode_tcx(_TCX_LAUGHS.format(enc=encoding).encode(encoding.lower()), "evil.tcx")
    assert res.error and "refused for safety" in res.error and not res.activities


_TCX_NS = "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
_AX_NS = "http://www.garmin.com/xmlschemas/ActivityExtension/v2"


def _tcx(position_ns: list[str]) -> bytes:
    """A small TCX run; point i's <Position> is in namespace ``position_ns[i]``."""
    pts = []
    for i, ns in enumerate(position_ns):
        hr = f"<HeartRateBpm><Value>{140 + i}</Value></HeartRateBpm>" if i != 3 else ""
        time = f"2024-05-01T07:00:{i * 2:02d}.000Z" if i != 5 else "2024-05-01T09:00:10+02:00"
        pts.append(f'<Trackpoint><Time>{time}</Time><Position xmlns="{ns}"><LatitudeDegrees>46.{i:03d}'
                   f'</LatitudeDegrees><LongitudeDegrees>14.5</LongitudeDegrees></Position>'
                   f"<AltitudeMeters>{300 + i}</AltitudeMeters><DistanceMeters>{i * 6.5}</DistanceMeters>{hr}"
                   f"<Cadence>{'x' if i == 4 else 85}</Cadence><Extensions><ax:TPX><ax:Speed>3.{i}</ax:Speed>"
                   f"<ax:RunCadence>{86 if i % 2 else ''}</ax:RunCadence></ax:TPX></Extensions></Trackpoint>")
    return (f'<?xml version="1.0" encoding="UTF-8"?><TrainingCenterDatabase xmlns="{_TCX_NS}" xmlns:ax="{_AX_NS}">'
            f'<Activities><Activity Sport="Running"><Lap StartTime="2024-05-01T07:00:00Z"><Track>{"".join(pts[:6])}'
            f'</Track><Track>{"".join(pts[6:])}</Track></Lap></Activity></Activities></TrainingCenterDatabase>').encode()


def test_tcx_points_read_by_column_equal_points_read_one_by_one():
    # One namespace per name: read a column at a time; one <Position> elsewhere: point by point.
    # Local names decide in both, so the values are the same (sloppy values included).
    import xml.etree.ElementTree as ET

    from gaitrisk.ingest.xml import tcx

    uniform, mixed = _tcx([_TCX_NS] * 10), _tcx([_TCX_NS] * 9 + ["urn:elsewhere"])
    assert tcx._point_tags(ET.fromstring(uniform)) is not None
    assert tcx._point_tags(ET.fromstring(mixed)) is None
    a, b = tcx.decode_tcx(uniform, "u.tcx"), tcx.decode_tcx(mixed, "m.tcx")
    assert not a.error and not b.error and a.problems == b.problems
    pd.testing.assert_frame_equal(a.activities[0].samples, b.activities[0].samples, check_exact=True)
    smp = a.activities[0].samples
    assert len(smp) == 10 and smp[S.HEART_RATE].isna().sum() == 1 and smp[S.SPEED].iloc[-1] == 3.9


def test_floats_follow_float_and_say_none_is_missing():
    from gaitrisk.ingest.xml.safe import floats

    got = floats(["1.5", " 2 ", None, "1_0", "nan"])
    assert got[:2].tolist() == [1.5, 2.0] and np.isnan(got[2]) and got[3] == 10.0 and np.isnan(got[4])
    with pytest.raises(ValueError):
        floats(["1", "x"])
    assert np.isnan(floats(["1", "x", None], lenient=True)[1:]).all()


def test_tcx_empty_elements_read_by_column_as_one_by_one():
    # Empty elements (text None, "" from the column path's findtext) read as missing in both paths.
    from gaitrisk.ingest.xml import tcx

    def emptied(doc: bytes) -> bytes:
        return (doc.replace(b"<AltitudeMeters>302</AltitudeMeters>", b"<AltitudeMeters/>")
                .replace(b"<Time>2024-05-01T07:00:14.000Z</Time>", b"<Time></Time>")
                .replace(b"<Value>148</Value>", b"<Value/>").replace(b"<Cadence>85</Cadence>", b"<Cadence/>", 1))

    uniform, mixed = emptied(_tcx([_TCX_NS] * 10)), emptied(_tcx([_TCX_NS] * 9 + ["urn:elsewhere"]))
    a, b = tcx.decode_tcx(uniform, "u.tcx"), tcx.decode_tcx(mixed, "m.tcx")
    assert not a.error and a.problems == b.problems
    assert any("1 track point(s) without a time dropped" in p for p in a.problems)
    pd.testing.assert_frame_equal(a.activities[0].samples, b.activities[0].samples, check_exact=True)
    smp = a.activities[0].samples
    assert len(smp) == 9 and np.isnan(smp[S.ALTITUDE].iloc[2]) and smp[S.ALTITUDE].iloc[3] == 303
    assert smp[S.HEART_RATE].isna().sum() == 2  # point 3 has none, point 8's is empty
