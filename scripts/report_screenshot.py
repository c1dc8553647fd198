"""Render the demo's HTML report in headless Chromium and save a PNG for the README.

    python scripts/report_screenshot.py [--out docs/img/report.png] [--width 1000] [--height 2600]

Builds the bundled demo store as ``gaitrisk demo --keep`` does in a temporary folder,
writes its HTML report and screenshots it with ``chromium``
(Debian package ``chromium``; no network: background networking and updates are off,
and the page's Content-Security-Policy forbids any load).  Exits 2 when Chromium is
missing, 1 when it logs a console error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

try:
    import gaitrisk  # noqa: F401
except ImportError:  # run as a file from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

log = logging.getLogger("report_screenshot")
REPO = Path(__file__).resolve().parents[1]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]


def demo_html(folder: Path) -> Path:
    """The demo athlete's HTML report as of the season's last day, written to ``folder``.

    The store is the one ``gaitrisk demo --keep`` builds (runs, pain log, OSTRC answers, the
    declared gap and the updated risk model), so the picture shows what the demo shows.
    """
    from click.testing import CliRunner

    from gaitrisk.cli import cli
    from gaitrisk.cli.demo import DEMO_ATHLETE
    from gaitrisk.model.persist import default_model_path
    from gaitrisk.report import build_athlete_report, render, write_private
    from gaitrisk.store import Store

    res = CliRunner().invoke(cli, ["demo", "--keep", str(folder)])
    if res.exit_code != 0:
        raise SystemExit(f"gaitrisk demo failed: {res.output.strip().splitlines()[-1:]}")
    zone = ZoneInfo("UTC")
    db = folder / "demo.db"
    with Store(db, read_only=True) as store:
        last = max(a.start_time for a in store.activities(DEMO_ATHLETE)).astimezone(zone).date()
        rep = build_athlete_report(store, DEMO_ATHLETE, zone, today=last, model_path=default_model_path(db))
    # A fixed time stamp: the picture changes only when the report does.
    html = render([rep], "html", generated_at=dt.datetime.combine(last + dt.timedelta(days=1), dt.time(6),
                                                                  tzinfo=dt.UTC))
    return write_private(folder / "report.html", html)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img" / "report.png")
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--height", type=int, default=2600, help="pixels from the top of the page")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    log.setLevel(logging.INFO)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        log.error("chromium not found (Debian: apt-get install chromium)")
        return 2
    with tempfile.TemporaryDirectory(prefix="gaitrisk-shot-") as tmp:
        page = demo_html(Path(tmp))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        res = subprocess.run([chromium, *FLAGS, f"--user-data-dir={Path(tmp) / 'profile'}",
                              f"--window-size={args.width},{args.height}", f"--screenshot={args.out.resolve()}",
                              page.as_uri()], capture_output=True, text=True, timeout=180, check=False)
    console = [ln for ln in res.stderr.splitlines() if ":CONSOLE" in ln]
    if res.returncode != 0 or console or not args.out.is_file():
        log.error("chromium failed (exit %s): %s", res.returncode, "\n".join(console) or res.stderr[-500:])
        return 1
    log.info("wrote %s (%d kB)", args.out, args.out.stat().st_size // 1000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
