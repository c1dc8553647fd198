"""Nothing lost, nothing mixed up: a richer or more complete copy of a run takes over its data
(and its feature record goes with the data it was computed from); impossible and spiking
positions stay out of a run's totals."""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from gaitrisk import schema as S
from gaitrisk.features.compute import compute_and_store_features
from gaitrisk.ingest.decoders import FAST, REFERENCE
from gaitrisk.ingest.pipeline import import_paths
from gaitrisk.ingest.sources import Limits, SourceFile, SourceProblem, estimate_count, iter_sources
from gaitrisk.model.flags import assess
from gaitrisk.store import Store
from gaitrisk.synth import RunSpec, generate_run, write_fit, write_gpx

from .helpers.gpxgen import gpx_run

pytestmark = pytest.mark.slow

UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def synth_run():
    return generate_run(RunSpec(seed=7, distance_m=4000.0, start_time=dt.datetime(2024, 4, 1, 6, 30, tzinfo=UTC)))


def test_richer_file_replacing_the_samples_drops_the_old_feature_record(tmp_path, synth_run):
    gpx = write_gpx(synth_run, tmp_path / "run.gpx")
    fit = write_fit(synth_run, tmp_path / "run.fit")
    with Store(tmp_path / "g.db") as st:
        import_paths([str(gpx)], st, "ann")
        compute_and_store_features(st, "ann")
        [rec] = st.activities("ann")
        before = st.features(rec.id)[1]
        assert before["gct_source"] == "estimated" and before["gct_balance_pct"] is None

        rep = import_paths([str(fit)], st, "ann")
        assert rep.replaced == 1
        assert st.features(rec.id) is None  # gone with the samples it was computed from
        fr = compute_and_store_features(st, "ann")
        assert fr.computed == 1
        after = st.features(rec.id)[1]
        assert after["gct_source"] == "measured"
        assert after["gct_balance_pct"] == pytest.approx(50.0, abs=1.0)


def _full_and_truncated_fit(tmp_path, run):
    full = write_fit(run, tmp_path / "full.fit")
    data = full.read_bytes()
    cut = tmp_path / "cut.fit"
    cut.write_bytes(data[:len(data) // 4])  # a copy interrupted a quarter of the way through
    return full, cut


def test_a_complete_copy_replaces_a_partial_one(tmp_path, synth_run):
    full, cut = _full_and_truncated_fit(tmp_path, synth_run)
    with Store(tmp_path / "g.db") as st:
        first = import_paths([str(cut)], st, "ann")
        [rec] = st.activities("ann")
        assert rec.partial and rec.distance_m < 1500
        compute_and_store_features(st, "ann")

        rep = import_paths([str(full)], st, "ann")
        assert (rep.imported, rep.duplicates, rep.replaced) == (0, 1, 1)
        [after] = st.activities("ann")
        assert after.id == rec.id == first.outcomes[0].activity_ids[0]
        assert not after.partial
        assert after.distance_m == pytest.approx(4000.0, rel=0.02)
        assert set(after.sources) == {str(cut), str(full)}
        assert st.features(rec.id) is None  # computed again from the whole run


def test_a_partial_copy_never_shortens_a_complete_one(tmp_path, synth_run):
    full, cut = _full_and_truncated_fit(tmp_path, synth_run)
    with Store(tmp_path / "g.db") as st:
        import_paths([str(full)], st, "ann")
        [rec] = st.activities("ann")
        rep = import_paths([str(cut)], st, "ann")
        assert (rep.imported, rep.duplicates, rep.replaced) == (0, 1, 0)
        [after] = st.activities("ann")
        assert not after.partial and after.distance_m == rec.distance_m
        assert st.samples(rec.id).shape == st.samples(after.id).shape
        assert set(after.sources) == {str(cut), str(full)}


def test_a_truncated_richer_file_does_not_replace_a_complete_poorer_one(tmp_path, synth_run):
    gpx = write_gpx(synth_run, tmp_path / "run.gpx")
    _, cut = _full_and_truncated_fit(tmp_path, synth_run)
    with Store(tmp_path / "g.db") as st:
        import_paths([str(gpx)], st, "ann")
        rep = import_paths([str(cut)], st, "ann")
        assert (rep.imported, rep.duplicates, rep.replaced) == (0, 1, 0)
        [rec] = st.activities("ann")
        assert (rec.fmt, rec.partial) == ("gpx", False)
        assert rec.distance_m == pytest.approx(4000.0, rel=0.02)


def _gpx_with(start: dt.datetime, bad: dict[int, tuple[str, str]], minutes: int = 10) -> bytes:
    """A gpxgen run whose points ``i`` (every 2 s) get the given lat/lon texts."""
    text = gpx_run(start, minutes=minutes).decode()
    parts = text.split('<trkpt lat="')
    for i, (lat, lon) in bad.items():
        rest = parts[i + 1]
        parts[i + 1] = f'{lat}" lon="{lon}"' + rest[rest.index('">') + 1:]
    return '<trkpt lat="'.join(parts).encode()


def test_one_antipodal_fix_neither_stretches_the_run_nor_fires_a_spike_flag(tmp_path):
    start = dt.datetime(2024, 3, 1, 7, tzinfo=UTC)
    for day in range(14):  # two weeks of 10-minute runs: the 30-day longest run is ~1.8 km
        (tmp_path / f"run{day:02d}.gpx").write_bytes(gpx_run(start + dt.timedelta(days=day), minutes=10))
    # 150 points into the 16th day's run, one fix on the other side of the Earth (46 N 14.5 E).
    spiky = tmp_path / "spiky.gpx"
    spiky.write_bytes(_gpx_with(start + dt.timedelta(days=15), {150: ("-46.0100000", "-165.5000000")}))
    with Store(tmp_path / "g.db") as st:
        import_paths([str(tmp_path)], st, "ann")
        rec = max(st.activities("ann"), key=lambda r: r.start_time)
        assert rec.sources == (str(spiky),)
        assert rec.distance_m == pytest.approx(3.0 * 598, rel=0.01)  # 10 min at 3 m/s, not 40,030 km
        compute_and_store_features(st, "ann")
        assert st.features(rec.id)[1]["distance_m"] == pytest.approx(rec.distance_m, rel=0.01)
        flags = assess(st, "ann", ZoneInfo("UTC")).flags
        assert "session_spike" not in {f.code for f in flags}


def test_impossible_coordinates_drop_the_position_not_the_file():
    start = dt.datetime(2024, 3, 1, 7, tzinfo=UTC)
    bad = {10: ("95.0", "14.5"), 11: ("46.0", "200.0"), 12: ("NaN", "14.5"), 13: ("-91", "-181")}
    for fmt, decoders in (("fast", FAST), ("gpxpy", REFERENCE)):
        res = decoders.decode("gpx", _gpx_with(start, bad), "bad.gpx")
        assert not res.error, fmt
        [act] = res.activities
        smp = act.samples
        assert len(smp) == 300  # every point kept, with its time, heart rate and cadence
        lat = smp[S.LAT].to_numpy()
        assert np.isnan(lat[10:14]).all() and np.isfinite(lat[:10]).all() and np.isfinite(lat[14:]).all()
        assert np.isnan(smp[S.LON].to_numpy()[10:14]).all()
        assert smp[S.HEART_RATE].notna().all()
        assert any("4 of 300 positions are off the globe" in p for p in res.problems), (fmt, res.problems)
        assert smp[S.DISTANCE].iloc[-1] == pytest.approx(3.0 * 598, rel=0.01)


_BOUNDED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from gaitrisk.features.compute import compute_and_store_features
from gaitrisk.ingest.pipeline import import_paths
from gaitrisk.store import Store
with Store(sys.argv[1]) as st:
    rep = import_paths(sys.argv[2:], st, "ann")
    assert rep.imported == len(sys.argv) - 2, rep.as_json()
    feats = compute_and_store_features(st, "ann")
    assert feats.computed == len(sys.argv) - 2 and not feats.failed, feats.as_json()
    for rec in st.activities("ann"):
        print(rec.id, rec.distance_m, st.features(rec.id)[1]["distance_m"])
"""


def test_wild_positions_cannot_make_the_features_allocate_gigabytes(tmp_path):
    """Under a 2 GiB address-space limit: a 150 KB-class GPX with latitude 95 on a quarter of its
    points, and one whose quarter of points jump to the other hemisphere in pairs (on the globe,
    and no single-fix spikes) -- a path of ~1.5 million km, 5 m grids of gigabytes each."""
    import os
    import subprocess
    import sys

    start = dt.datetime(2024, 3, 1, 7, tzinfo=UTC)
    off_globe = tmp_path / "lat95.gpx"
    off_globe.write_bytes(_gpx_with(start, {i: ("95.0000000", "14.5000000") for i in range(0, 300, 4)}))
    wild = tmp_path / "wild.gpx"
    wild.write_bytes(_gpx_with(start + dt.timedelta(days=1),
                               {i: ("-46.0000000", "14.5000000") for i in range(300) if i % 8 in (6, 7)}))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", _BOUNDED.format(limit=2 << 30), str(tmp_path / "g.db"),
                           str(off_globe), str(wild)], capture_output=True, text=True, env=env, cwd=os.getcwd())
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(proc.stdout.splitlines()) == 2


@pytest.fixture
def deep_tree(tmp_path):
    """An inbox with one run at the top and one 1,000 folders down (created and removed without
    recursion: os.makedirs and shutil.rmtree recurse once per level)."""
    start = dt.datetime(2024, 3, 1, 7, tzinfo=UTC)
    root = tmp_path / "inbox"
    root.mkdir()
    (root / "top.gpx").write_bytes(gpx_run(start, minutes=5))
    folders = []
    path = str(root)
    for _ in range(1000):
        path += "/d"
        os.mkdir(path)
        folders.append(path)
    with open(path + "/deep.gpx", "wb") as f:
        f.write(gpx_run(start + dt.timedelta(days=1), minutes=5))
    yield root
    os.remove(path + "/deep.gpx")
    for folder in reversed(folders):
        os.rmdir(folder)


def test_a_folder_1000_levels_deep_is_skipped_with_a_reason(deep_tree):
    assert estimate_count([deep_tree]) == 1
    items = list(iter_sources([str(deep_tree)]))
    files = [i.name for i in items if isinstance(i, SourceFile)]
    problems = [i for i in items if isinstance(i, SourceProblem)]
    assert files == [str(deep_tree / "top.gpx")]
    [problem] = problems
    assert problem.name == str(deep_tree) + "/d" * 65
    assert "folder nested 65 levels deep, over the limit of 64 (max_folder_depth)" in problem.reason
    # Within the limit the bottom file is found.
    items = list(iter_sources([str(deep_tree)], Limits(max_folder_depth=1000)))
    assert len([i for i in items if isinstance(i, SourceFile)]) == 2
    assert estimate_count([deep_tree], Limits(max_folder_depth=1000)) == 2


def test_import_of_an_inbox_with_a_1000_deep_folder_imports_the_rest(deep_tree, tmp_path):
    from click.testing import CliRunner

    from gaitrisk.cli.main import cli

    res = CliRunner().invoke(cli, ["--db", str(tmp_path / "g.db"), "import", "--athlete", "ann", "--json",
                                   str(deep_tree)])
    assert res.exit_code == 0, res.output
    assert "RecursionError" not in res.output
    with Store(tmp_path / "g.db") as st:
        assert len(st.activities("ann")) == 1


def test_a_gpx_or_tcx_over_128_mib_is_refused_with_one_line(tmp_path):
    """A 500 MB GPX took 4.4 GB to decode (XML parsing holds ~9x the file): one GPX or TCX file is
    capped at Limits.max_xml_bytes (128 MiB), before reading it when its size is known."""
    import gzip
    import zipfile

    sizes = {"huge.gpx": 200 << 20, "huge.tcx": 129 << 20}
    for name, size in sizes.items():
        with open(tmp_path / name, "wb") as f:
            f.truncate(size)  # sparse: refused from its size, never read
    # The same cap on what a .gz or a zip member decompresses to (no size known beforehand).
    limits = Limits(max_xml_bytes=1 << 20)
    run = gpx_run(dt.datetime(2024, 3, 1, 7, tzinfo=UTC), minutes=180)
    assert len(run) > 1 << 20
    (tmp_path / "long.gpx.gz").write_bytes(gzip.compress(run))
    with zipfile.ZipFile(tmp_path / "export.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a/long.gpx", run)
    big_fit = tmp_path / "big.fit"
    with open(big_fit, "wb") as f:
        f.truncate(2 << 20)  # FIT files keep the general limit

    problems = {p.name: p.reason for p in iter_sources([str(tmp_path / n) for n in sizes])
                if isinstance(p, SourceProblem)}
    assert problems == {
        str(tmp_path / "huge.gpx"): "file is 200 MiB, over the 128 MiB limit (max_xml_bytes, for one GPX or TCX "
                                    "file); skipped",
        str(tmp_path / "huge.tcx"): "file is 129 MiB, over the 128 MiB limit (max_xml_bytes, for one GPX or TCX "
                                    "file); skipped"}
    items = list(iter_sources([str(tmp_path / "long.gpx.gz"), str(tmp_path / "export.zip"), str(big_fit)], limits))
    problems = {p.name: p.reason for p in items if isinstance(p, SourceProblem)}
    assert problems == {
        str(tmp_path / "long.gpx.gz"): "gzip data decompresses to more than 1 MiB (max_xml_bytes, for one GPX or "
                                       "TCX file); skipped (possible gzip bomb)",
        str(tmp_path / "export.zip") + "!a/long.gpx": "zip entry 'a/long.gpx' declares "
                                                      f"{len(run) / 2**20:.4g} MiB uncompressed, over the 1 MiB limit "
                                                      "(max_xml_bytes, for one GPX or TCX file); skipped"}
    assert [i.name for i in items if isinstance(i, SourceFile)] == [str(big_fit)]


def test_the_cli_refuses_a_huge_gpx_and_imports_the_rest(tmp_path):
    from click.testing import CliRunner

    from gaitrisk.cli.main import cli

    huge = tmp_path / "huge.gpx"
    with open(huge, "wb") as f:
        f.truncate(500 * 10**6)
    good = tmp_path / "good.gpx"
    good.write_bytes(gpx_run(dt.datetime(2024, 3, 1, 7, tzinfo=UTC), minutes=5))
    res = CliRunner().invoke(cli, ["--db", str(tmp_path / "g.db"), "import", "--athlete", "ann", "--json",
                                   str(huge), str(good)])
    assert res.exit_code == 0, res.output
    assert '"imported": 1' in res.output
    assert "over the 128 MiB limit (max_xml_bytes, for one GPX or TCX file); skipped" in res.output
