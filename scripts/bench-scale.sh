#!/usr/bin/env bash
# Issue 15 ("national scale"): claimsweep against the DuckDB baseline at ledger sizes.
#
#   scripts/bench-scale.sh [SIZES...]            default: 1000000 10000000
#
# For each size (number of claims): generate (seed 11) -> ingest -> sweep with claimsweep, and
# scripts/duckdb-rules.sql (15 deterministic rules) over the same CSV folder. Every step runs
# under /usr/bin/time; one table is printed at the end:
#   size, step, wall seconds, rows, rows/s, peak RSS MB, CSV folder MB, database MB
# rows = claims for generate/sweep/duckdb_rules, every loaded row of every table for ingest.
# database MB = <db> + <db>.snapshots after the step. A `ratio` line per size gives
# sweep / duckdb_rules (wall seconds and peak RSS), sweep / DuckDB's rules alone (its run less
# reading the CSV files, from its per-statement timings), and the database after a second
# sweep (`sweep_again`) over the CSV folder. Then the same folder is ingested again
# (`ingest_again`, every row unchanged), and last a bureau's month: next month's extract is
# made from the folder (`next_month`, scripts/next-month.py: 0.5 % of the claims gone, 1 %
# changed, 5 % new), ingested (`ingest_next`) and swept (`sweep_next`).
# The table is also written as TSV to $OUT_DIR/<UTC timestamp>.tsv (default
# target/bench-scale/ of the repository) with the run's metadata in <timestamp>.meta and the
# per-rule counts of flagged claims (claimsweep and DuckDB) in <timestamp>-counts.tsv, so a
# CI job can compare with the previous run; the run itself prints each step against the newest
# earlier <timestamp>.tsv in $OUT_DIR (wall time and peak RSS, now / before).
#
# Environment:
#   WORK=/tmp/bench-scale   work folder (CSV folders, databases, logs)
#   KEEP=1                  keep each size's CSV folder and database (default: removed
#                           after the size is measured; logs are kept)
#   CLAIMSWEEP=…            binary (default: target/release/claimsweep of the repository)
#   PYTHON=…                python with the `duckdb` package (default: python3)
#   OUT_DIR=…               where the TSV goes (default: <repo>/target/bench-scale)
#   SEED=11                 generator seed
#   THREADS=…               --threads for the sweep and DuckDB (default: every CPU)
#   DUCKDB_ARGS=…           more arguments of scripts/duckdb-rules.py, e.g. "--memory-limit 8GB"
#                           or "--db $WORK/rules.duckdb" (in memory by default: about 1.1 GB
#                           peak RSS per million claims)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${WORK:-/tmp/bench-scale}
KEEP=${KEEP:-0}
CLAIMSWEEP=${CLAIMSWEEP:-$REPO/target/release/claimsweep}
PYTHON=${PYTHON:-python3}
OUT_DIR=${OUT_DIR:-$REPO/target/bench-scale}
SEED=${SEED:-11}
THREADS=${THREADS:-}
read -r -a DUCKDB_EXTRA <<<"${DUCKDB_ARGS:-}"
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1000000 10000000)

die() { echo "bench-scale: $*" >&2; exit 1; }
[ -x "$CLAIMSWEEP" ] || die "no claimsweep binary at $CLAIMSWEEP (build it, or set CLAIMSWEEP)"
[ -x /usr/bin/time ] || die "/usr/bin/time is needed (GNU time)"
"$PYTHON" -c 'import duckdb' 2>/dev/null || die "$PYTHON has no duckdb package (set PYTHON)"
for s in "${SIZES[@]}"; do [[ $s =~ ^[0-9]+$ ]] || die "size '$s' is not a number"; done

mkdir -p "$WORK" "$OUT_DIR"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
TSV=$OUT_DIR/$STAMP.tsv
META=$OUT_DIR/$STAMP.meta
COUNTS=$OUT_DIR/$STAMP-counts.tsv
ROWS_TSV=$WORK/rows.$STAMP.tsv
printf 'size\tstep\twall_s\trows\trows_per_s\tpeak_rss_mb\tcsv_mb\tdb_mb\n' >"$ROWS_TSV"
printf 'size\trule\tclaimsweep_claims\tduckdb_claims\n' >"$COUNTS"

{
    echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit=$(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo unknown)"
    echo "claimsweep=$CLAIMSWEEP ($("$CLAIMSWEEP" --version 2>/dev/null || echo '?'))"
    echo "duckdb=$("$PYTHON" -c 'import duckdb; print(duckdb.__version__)')"
    echo "host=$(hostname) nproc=$(nproc) mem_gb=$(free -g | awk '/^Mem:/{print $2}')"
    echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "sizes=${SIZES[*]} seed=$SEED threads=${THREADS:-all} duckdb_args=${DUCKDB_ARGS:-}"
} >"$META"

mb() { # size in MB of the paths that exist (0 if none)
    local total=0 p
    for p in "$@"; do
        [ -e "$p" ] && total=$((total + $(du -sb "$p" | cut -f1)))
    done
    awk -v b="$total" 'BEGIN { printf "%.1f", b / 1048576 }'
}

# run SIZE STEP ROWS_CMD -- COMMAND...: time COMMAND, then record one row. ROWS_CMD is evaluated
# after the step (so it can read the step's log).
run() {
    local size=$1 step=$2 rows_cmd=$3; shift 4
    local log=$WORK/$size.$step.log tfile=$WORK/$size.$step.time
    echo "[$(date -u +%H:%M:%S)] $size $step: $*" >&2
    if ! /usr/bin/time -f '%e %M' -o "$tfile" "$@" >"$log" 2>&1; then
        tail -20 "$log" >&2
        die "$step failed at size $size (log: $log)"
    fi
    local wall rss rows
    read -r wall rss <"$tfile"
    rows=$(eval "$rows_cmd")
    local csv_mb db_mb
    csv_mb=$(mb "$WORK/$size.csv")
    db_mb=$(mb "$WORK/$size.db" "$WORK/$size.db.snapshots" "$WORK/$size.db-wal")
    awk -v s="$size" -v st="$step" -v w="$wall" -v r="$rows" -v m="$rss" -v c="$csv_mb" -v d="$db_mb" 'BEGIN {
        printf "%s\t%s\t%.2f\t%d\t%.0f\t%.1f\t%s\t%s\n", s, st, w, r, (w > 0 ? r / w : 0), m / 1024, c, d }' >>"$ROWS_TSV"
    echo "[$(date -u +%H:%M:%S)] $size $step: ${wall}s, peak RSS $((rss / 1024)) MB" >&2
}

# Rows an ingest loaded: the "total" line of its summary, column "loaded".
ingest_rows() {
    awk -F'|' '/^(合计 )?total|^合计/ { gsub(/ /, "", $3); print $3; exit }' "$1"
}

for size in "${SIZES[@]}"; do
    csv=$WORK/$size.csv db=$WORK/$size.db
    rm -rf "$csv" "$csv.next" "$db" "$db.snapshots" "$db-wal" "$db-shm" "$db.lock"
    thr=(); [ -n "$THREADS" ] && thr=(--threads "$THREADS")

    run "$size" generate "echo $size" -- \
        "$CLAIMSWEEP" generate --claims "$size" --seed "$SEED" --out "$csv"
    run "$size" ingest "ingest_rows $WORK/$size.ingest.log" -- \
        "$CLAIMSWEEP" ingest --db "$db" "$csv"
    run "$size" sweep "echo $size" -- \
        "$CLAIMSWEEP" sweep --db "$db" --rules "$REPO/rules" "${thr[@]}"
    run "$size" duckdb_rules "echo $size" -- \
        "$PYTHON" "$REPO/scripts/duckdb-rules.py" "$csv" --areacodes "$REPO/data/areacodes.csv" \
        --timings ${THREADS:+--threads "$THREADS"} "${DUCKDB_EXTRA[@]}"

    # DuckDB's own split of that run (its per-statement timings): reading the CSV files into
    # tables, then the rules alone (what the issue compares the sweep with).
    awk -F'\t' -v s="$size" 'BEGIN {
            n = split("claims classes institutions certificates projects employment staff registry_pension registry_death registry_ui registry_poverty living_standards area_codes amount_caps", t, " ")
            for (i = 1; i <= n; i++) table[t[i]] = 1 }
        { split($0, f, " ") }
        f[1] ~ /^[0-9.]+s$/ { v = f[1]; sub(/s$/, "", v); if (f[2] == "total") total = v + 0; else if (f[2] in table) load += v }
        END { printf "%s\tduckdb_load (in duckdb_rules)\t%.2f\t%d\t%.0f\t\t\t\n", s, load, s, (load > 0 ? s / load : 0)
              printf "%s\tduckdb_rules_only\t%.2f\t%d\t%.0f\t\t\t\n", s, total - load, s, (total > load ? s / (total - load) : 0) }' \
        "$WORK/$size.duckdb_rules.log" >>"$ROWS_TSV"
    # A second sweep of the same state: the database after two sweeps is the issue's disk figure.
    run "$size" sweep_again "echo $size" -- \
        "$CLAIMSWEEP" sweep --db "$db" --rules "$REPO/rules" "${thr[@]}"
    # The same folder ingested again, as a bureau re-ingests its ledger every period (after the
    # disk figure: its snapshot is a second one beside the first).
    run "$size" ingest_again "ingest_rows $WORK/$size.ingest_again.log" -- \
        "$CLAIMSWEEP" ingest --db "$db" "$csv"
    # A bureau's month: next month's extract of the same ledger, ingested and swept.
    run "$size" next_month "echo $size" -- \
        "$PYTHON" "$REPO/scripts/next-month.py" "$csv" "$csv.next" --seed "$SEED"
    run "$size" ingest_next "ingest_rows $WORK/$size.ingest_next.log" -- \
        "$CLAIMSWEEP" ingest --db "$db" "$csv.next"
    run "$size" sweep_next "echo $size" -- \
        "$CLAIMSWEEP" sweep --db "$db" --rules "$REPO/rules" "${thr[@]}"

    # Per-rule counts of flagged claims, side by side (person-level rules differ: DuckDB counts
    # ID numbers, claimsweep resolved persons; see the report of issue 15).
    # The sweep's own per-rule table ("rule | claims flagged | flags | …"): the claims of a flag
    # are stored packed in `flags.claim_ids`, so SQL cannot count them.
    awk -F'|' '{ n = split($1, w, " "); r = w[n]; c = $2; gsub(/ /, "", c) }
        r ~ /^[a-z_]+$/ && c ~ /^[0-9]+$/ { print r "\t" c }' "$WORK/$size.sweep.log" >"$WORK/$size.sweep-counts.tsv"
    [ -s "$WORK/$size.sweep-counts.tsv" ] || die "no per-rule table in $WORK/$size.sweep.log"
    awk -F'\t' '/^[a-z_]+\t[0-9]+$/' "$WORK/$size.duckdb_rules.log" >"$WORK/$size.duckdb-counts.tsv"
    awk -F'\t' -v s="$size" 'FNR == NR { d[$1] = $2; next } { print s "\t" $1 "\t" $2 "\t" ($1 in d ? d[$1] : "-") }' \
        "$WORK/$size.duckdb-counts.tsv" "$WORK/$size.sweep-counts.tsv" >>"$COUNTS"

    # sweep / DuckDB ratio (wall seconds, peak RSS); DuckDB parses the CSV files itself while the
    # sweep reads the ingested snapshot, so ingest + sweep / DuckDB is given too.
    awk -F'\t' -v s="$size" '$1 == s && $2 == "ingest" { iw = $3 } $1 == s && $2 == "sweep" { sw = $3; sm = $6 }
        $1 == s && $2 == "duckdb_rules" { dw = $3; dm = $6 } $1 == s && $2 == "duckdb_rules_only" { dr = $3 }
        $1 == s && $2 == "sweep_again" { csv = $7; db2 = $8 }
        END { if (dw > 0) {
            printf "%s\tratio sweep/duckdb_rules\t%.2f\t\t\t%.2f\t\t\n", s, sw / dw, (dm > 0 ? sm / dm : 0)
            if (dr > 0) printf "%s\tratio sweep/duckdb_rules_only\t%.2f\t\t\t\t\t\n", s, sw / dr
            printf "%s\tratio ingest+sweep/duckdb_rules\t%.2f\t\t\t\t\t\n", s, (iw + sw) / dw }
            if (csv > 0) printf "%s\tratio db+snapshots after 2 sweeps/csv\t%.2f\t\t\t\t\t\n", s, db2 / csv }' \
        "$ROWS_TSV" >>"$ROWS_TSV"

    if [ "$KEEP" != 1 ]; then
        rm -rf "$csv" "$csv.next" "$db" "$db.snapshots" "$db-wal" "$db-shm" "$db.lock"
    fi
done

echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$META"
cp "$ROWS_TSV" "$TSV"
# Against the previous run in $OUT_DIR: each step's wall time and peak RSS now / before.
PREV=$(ls "$OUT_DIR"/*Z.tsv 2>/dev/null | grep -v "/$STAMP.tsv$" | sort | tail -1 || true)
if [ -n "$PREV" ]; then
    awk -F'\t' -v OFS='\t' 'FNR == NR { if (FNR > 1) { w[$1 "\t" $2] = $3; m[$1 "\t" $2] = $6 }; next }
        FNR == 1 { next } ($1 "\t" $2) in w && w[$1 "\t" $2] > 0 && $2 !~ /^ratio/ {
            k = $1 "\t" $2
            printf "%s\tvs previous: %s\t%.2f\t\t\t%s\t\t\n", $1, $2, $3 / w[k], (m[k] > 0 && $6 > 0 ? sprintf("%.2f", $6 / m[k]) : "-") }' \
        "$PREV" "$ROWS_TSV" >"$WORK/vs-previous.$STAMP.tsv"
fi
echo
awk -F'\t' '{ for (i = 1; i <= NF; i++) if ($i == "") $i = "-"
    printf "%-9s %-40s %9s %9s %11s %11s %9s %9s\n", $1, $2, $3, $4, $5, $6, $7, $8 }' "$TSV"
if [ -n "${PREV:-}" ] && [ -s "$WORK/vs-previous.$STAMP.tsv" ]; then
    echo
    echo "now / previous run ($(basename "$PREV")): wall time, peak RSS"
    awk -F'\t' '{ printf "%-9s %-48s %9s %9s\n", $1, $2, $3, $6 }' "$WORK/vs-previous.$STAMP.tsv"
fi
echo
echo "table: $TSV"
echo "meta: $META"
echo "per-rule counts: $COUNTS"
