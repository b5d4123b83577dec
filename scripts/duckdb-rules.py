#!/usr/bin/env python3
"""Run scripts/duckdb-rules.sql over a generated CSV folder with the python `duckdb` package.

    python duckdb-rules.py DIR [--areacodes FILE] [--db FILE] [--threads N] [--memory-limit 8GB]
                               [--timings] [--flags-out FILE.tsv]

Sets the variables `dir` and `areacodes`, runs the statements of the SQL file one by one
(--timings prints the seconds of each to stderr) and prints the count of flagged claims per
rule as `rule<TAB>claims`. --flags-out writes every (rule, claim_id) pair, for comparisons.
The database is in memory unless --db names a file (DuckDB spills to a temp folder either way).
"""
import argparse
import os
import re
import sys
import time

import duckdb

HERE = os.path.dirname(os.path.abspath(__file__))


def statements(sql):
    # The SQL file keeps semicolons out of strings and comments, so ';' at a line end splits it.
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in re.split(r";\s*\n", body + "\n") if s.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", help="CSV folder (claimsweep generate --out DIR)")
    ap.add_argument("--areacodes", default=os.path.join(HERE, "..", "data", "areacodes.csv"))
    ap.add_argument("--sql", default=os.path.join(HERE, "duckdb-rules.sql"))
    ap.add_argument("--db", default=":memory:")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--memory-limit")
    ap.add_argument("--timings", action="store_true", help="seconds per statement on stderr")
    ap.add_argument("--flags-out", help="write rule<TAB>claim_id for every flagged claim")
    a = ap.parse_args()

    con = duckdb.connect(a.db)
    if a.threads:
        con.execute(f"SET threads = {int(a.threads)}")
    if a.memory_limit:
        con.execute(f"SET memory_limit = '{a.memory_limit}'")
    con.execute("SET VARIABLE dir = ?", [os.path.abspath(a.dir)])
    con.execute("SET VARIABLE areacodes = ?", [os.path.abspath(a.areacodes)])

    stmts = statements(open(a.sql, encoding="utf-8").read())
    t_all = time.perf_counter()
    rows = None
    for s in stmts:
        t = time.perf_counter()
        rel = con.execute(s)
        if s.upper().startswith("SELECT"):
            rows = rel.fetchall()
        if a.timings:
            m = re.search(r"TABLE\s+(\w+)", s)
            what = m.group(1) if m else s.split("\n")[0][:60]
            print(f"{time.perf_counter() - t:8.3f}s  {what}", file=sys.stderr)
    if a.timings:
        print(f"{time.perf_counter() - t_all:8.3f}s  total", file=sys.stderr)

    for rule, n in rows or []:
        print(f"{rule}\t{n}")

    if a.flags_out:
        with open(a.flags_out, "w", encoding="utf-8") as f:
            for (rule,) in con.execute("SELECT rule FROM rule_counts").fetchall():
                for (cid,) in con.execute(f"SELECT DISTINCT claim_id FROM r_{rule} ORDER BY 1").fetchall():
                    f.write(f"{rule}\t{cid}\n")


if __name__ == "__main__":
    main()
