#!/usr/bin/env python3
"""Next month's extract of a generated ledger, for benchmarking a bureau's periodic re-ingest.

    scripts/next-month.py SRC DST [--seed 11]

SRC is a folder `claimsweep generate` wrote; DST gets the same tables, with `claims.csv` as
next month's export of the same system would hold it:
- 0.5 % of the claims gone (withdrawn, or moved to another bureau's ledger);
- 1 % changed (the phone number corrected: its last digit);
- 5 % new, after the old rows: copies of existing claims (same person, class and
  certificate) under new claim ids `SN…`, dated a month later. New claims of people already
  paid raise the person-level rules' flags, as a month of repeated claims would.
Every other table is linked (or copied) unchanged. The same SRC and seed give the same bytes.
Only the standard library: it runs wherever the benchmark does.
"""

import argparse
import csv
import datetime
import os
import random
import shutil
import sys

GONE_PER_MILLE = 5
CHANGED_PER_MILLE = 10
NEW_PER_MILLE = 50


def next_month(day: str) -> str:
    """`day` (YYYY-MM-DD) a month later, clamped to the month's last day."""
    d = datetime.date.fromisoformat(day)
    year, month = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
    for last in (31, 30, 29, 28):
        try:
            return datetime.date(year, month, min(d.day, last)).isoformat()
        except ValueError:
            continue
    raise ValueError(day)


def main() -> int:
    try:
        return write_next()
    except UnicodeDecodeError:
        print(
            "next-month: claims.csv is not UTF-8: the script reads what "
            "`claimsweep generate` writes without --messy",
            file=sys.stderr,
        )
        return 1


def write_next() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    src_claims = os.path.join(args.src, "claims.csv")
    if not os.path.isfile(src_claims):
        print(f"next-month: no claims.csv in {args.src}", file=sys.stderr)
        return 1
    os.makedirs(args.dst, exist_ok=True)
    for name in sorted(os.listdir(args.src)):
        if name == "claims.csv":
            continue
        target = os.path.join(args.dst, name)
        if os.path.exists(target):
            os.remove(target)
        try:
            os.link(os.path.join(args.src, name), target)
        except OSError:
            shutil.copyfile(os.path.join(args.src, name), target)

    rng = random.Random(args.seed)
    new_rows = []
    with open(src_claims, newline="", encoding="utf-8") as f, open(
        os.path.join(args.dst, "claims.csv"), "w", newline="", encoding="utf-8"
    ) as out:
        reader = csv.reader(f)
        writer = csv.writer(out, lineterminator="\r\n")
        header = next(reader)
        col = {name: k for k, name in enumerate(header)}
        for need in ("claim_id", "phone", "claim_date"):
            if need not in col:
                print(f"next-month: {src_claims} has no column {need}", file=sys.stderr)
                return 1
        writer.writerow(header)
        for row in reader:
            draw = rng.randrange(1000)
            if draw < GONE_PER_MILLE:
                continue
            if draw < GONE_PER_MILLE + CHANGED_PER_MILLE and row[col["phone"]]:
                phone = row[col["phone"]]
                row[col["phone"]] = phone[:-1] + str((int(phone[-1]) + 1) % 10) if phone[-1].isdigit() else phone + "0"
            if rng.randrange(1000) < NEW_PER_MILLE:
                copy = list(row)
                copy[col["claim_id"]] = f"SN{len(new_rows) + 1:010d}"
                copy[col["claim_date"]] = next_month(row[col["claim_date"]])
                new_rows.append(copy)
            writer.writerow(row)
        writer.writerows(new_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
