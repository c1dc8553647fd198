"""Tiny GPX builder for tests that need many distinct runs quickly (no known-truth claims)."""

from __future__ import annotations

import datetime as dt
import math


def gpx_run(start: dt.datetime, minutes: int = 10, speed_mps: float = 3.0, cad_per_foot: int = 85,
            lat0: float = 46.0, lon0: float = 14.5, type_: str = "running") -> bytes:
    pts = []
    m_per_deg = 111_195.0
    for i in range(0, minutes * 60, 2):
        lat = lat0 + speed_mps * i / m_per_deg
        t = (start + dt.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        pts.append(f'<trkpt lat="{lat:.7f}" lon="{lon0:.7f}"><ele>{300 + 5 * math.sin(i / 60):.1f}</ele>'
                   f"<time>{t}</time><extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>140</gpxtpx:hr>"
                   f"<gpxtpx:cad>{cad_per_foot}</gpxtpx:cad></gpxtpx:TrackPointExtension></extensions></trkpt>")
    return ('<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="test" '
            'xmlns="http://www.topografix.com/GPX/1/1" '
            'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">'
            f"<trk><name>run</name><type>{type_}</type><trkseg>{''.join(pts)}</trkseg></trk></gpx>").encode()
