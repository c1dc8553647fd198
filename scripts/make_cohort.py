#!/usr/bin/env python
"""Write the seeded synthetic cohort (runs as TCX/GPX, one pain CSV per athlete, truth.json).

    python scripts/make_cohort.py OUT_DIR [--seed 7] [--athletes 30] [--weeks 20] [--interval 20]

Then, per athlete folder:  gaitrisk import OUT/NAME/runs --athlete NAME
                           gaitrisk pain import OUT/NAME/pain.csv --athlete NAME --tz UTC
See gaitrisk/synth/cohort.py for the planted mechanisms.
"""

from __future__ import annotations

import argparse
import logging

from gaitrisk.synth.cohort import CohortConfig, write_cohort


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=CohortConfig.seed)
    ap.add_argument("--athletes", type=int, default=CohortConfig.athletes)
    ap.add_argument("--weeks", type=int, default=CohortConfig.weeks)
    ap.add_argument("--interval", type=int, default=CohortConfig.sample_interval_s, help="sample interval, s")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    truth = write_cohort(CohortConfig(seed=args.seed, athletes=args.athletes, weeks=args.weeks,
                                      sample_interval_s=args.interval), args.out)
    onsets = sum(len(a["onsets"]) for a in truth["athletes"].values())
    logging.info("%d athletes, %d onsets -> %s", len(truth["athletes"]), onsets, args.out)


if __name__ == "__main__":
    main()
