//! Sweeps and their flags in the database (`sweeps`, `flags`, `flag_texts` of schema.sql;
//! `flag_claims` holds the claim lists of sweeps stored before `flags.claim_ids` was the one
//! list, see [`flag_claim_pairs_sql`]).
//!
//! A sweep is begun (policy fingerprint, ingest, threads), its flags are saved in one
//! transaction, and it is finished with its summary. Older sweeps are kept: every query names
//! its sweep, and "the latest" means the latest finished one.

use super::textblock::{self, BlockReader, BlockTable};
use crate::finding::{Flag, FlagRef, Flags};
use crate::policy::PolicySet;
use rusqlite::{params, Connection, OptionalExtension};

#[derive(Debug, thiserror::Error)]
pub enum FlagStoreError {
    #[error("数据库错误 / database error: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("没有第 {0} 次筛查 / sweep {0} not found")]
    NoSweep(i64),
    #[error("数据库中还没有完成的筛查（请先运行 `claimsweep sweep`） / no finished sweep in the database yet (run `claimsweep sweep` first)")]
    NoSweeps,
    #[error(transparent)]
    Store(#[from] super::StoreError),
    #[error("筛查摘要无法序列化 / sweep summary cannot be serialised: {0}")]
    Summary(#[from] serde_json::Error),
    #[error("标记说明无法压缩 / flag explanations cannot be compressed: {0}")]
    Texts(String),
}

/// What the flag writer needs of the snapshot (a stage above the store): the claim id of a
/// snapshot claim index.
pub trait ClaimIds {
    fn claim_id(&self, claim: usize) -> crate::intern::Text<'_>;
}

/// One flag as stored: claim ids are strings here (the snapshot is gone).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StoredFlag {
    pub sweep_id: i64,
    pub seq: i64,
    pub rule: String,
    pub subject_kind: String,
    pub subject: String,
    /// Sorted.
    pub claim_ids: Vec<String>,
    pub amount_at_risk_fen: i64,
    pub severity: String,
    pub explanation_zh: String,
    pub explanation_en: String,
}

/// What a finished sweep records besides its flags.
#[derive(Clone, Debug)]
pub struct SweepRecord {
    pub sweep_id: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub policy: String,
    pub ingest_id: Option<i64>,
    pub threads: i64,
    pub claims: i64,
    pub summary_json: String,
}

/// Records the start of a sweep: which policies (with their hashes), which ingest, how many
/// threads. Returns the new sweep id.
pub fn begin_sweep(
    conn: &Connection,
    policies: &PolicySet,
    threads: usize,
) -> Result<i64, FlagStoreError> {
    let ingest_id = super::latest_ingest_id(conn)?;
    conn.execute(
        "INSERT INTO sweeps (started_at, policy, ingest_id, threads) VALUES (?1, ?2, ?3, ?4)",
        params![
            crate::dates::now_timestamp(),
            policies.fingerprint(),
            ingest_id,
            threads as i64
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Saves the flags of a sweep in one transaction: one `flags` row per flag (`seq` = position
/// in `flags`, its claims in `claim_ids`), the explanations in compressed blocks.
pub fn save_flags(
    conn: &Connection,
    sweep_id: i64,
    snap: &impl ClaimIds,
    flags: &[Flag],
) -> Result<(), FlagStoreError> {
    let mut writer = FlagWriter::begin(conn, sweep_id)?;
    writer.write(snap, flags)?;
    writer.finish()
}

/// Flags whose explanations are compressed together into one `flag_texts` row: flags are
/// numbered from 0 without gaps, so blocks start at multiples of it.
pub const TEXT_BLOCK: i64 = textblock::BLOCK;

/// Where flag explanations are stored (`flag_texts`, numbered by `flags.seq`).
const FLAG_TEXTS: BlockTable<2> = BlockTable {
    table: "flag_texts",
    first: "first_seq",
    count: "flags",
    columns: ["zh", "en"],
};

/// One `flag_texts` row: the explanations of flags `first_seq .. first_seq + flags`, each
/// language compressed.
pub type TextBlock = textblock::Block<2>;

/// Packs flag explanations into `flag_texts` blocks as the flags are numbered (the n-th flag
/// pushed is `seq` n, as [`FlagWriter`] numbers them), taking the texts out of the flags. A
/// sweep packs on the thread that receives the rules' flags, so the explanations wait for
/// the writer compressed (an eighth of their size) and the writer only stores them.
#[derive(Debug, Default)]
pub struct TextPacker {
    next_seq: i64,
    packer: textblock::Packer<2>,
}

impl TextPacker {
    /// Takes the explanations out of `flags` (left empty) and returns the blocks they filled.
    pub fn push(&mut self, flags: &mut [Flag]) -> Result<Vec<TextBlock>, FlagStoreError> {
        let mut full = Vec::new();
        for f in flags {
            let (zh, en) = (
                std::mem::take(&mut f.explanation_zh),
                std::mem::take(&mut f.explanation_en),
            );
            full.extend(self.push_one(&zh, &en)?);
        }
        Ok(full)
    }

    /// Adds the explanations of the next flag; the block they filled, if they did.
    fn push_one(&mut self, zh: &str, en: &str) -> Result<Vec<TextBlock>, FlagStoreError> {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.packer.push(seq, [zh, en]).map_err(texts_error)
    }

    /// The last, partial block (none when the pushed flags filled whole blocks).
    pub fn finish(mut self) -> Result<Option<TextBlock>, FlagStoreError> {
        self.packer.finish().map_err(texts_error)
    }
}

fn texts_error(e: std::io::Error) -> FlagStoreError {
    FlagStoreError::Texts(e.to_string())
}

/// Reads flag explanations for one sweep by `seq` ([`BlockReader::fill`]): a flag row with
/// both explanation columns empty has them in `flag_texts`.
pub fn flag_texts(conn: &Connection, sweep_id: i64) -> BlockReader<'_, 2> {
    BlockReader::new(conn, FLAG_TEXTS, sweep_id)
}

/// Flags per multi-row `INSERT INTO flags` (10 parameters each).
const FLAG_ROWS: usize = 64;

/// Saves a sweep's flags in one transaction, in as many pieces as the caller likes: each
/// [`FlagWriter::write`] appends flags with the next `seq` numbers, so a sweep can store the
/// flags of early rules while later rules still run. Nothing is visible to other connections
/// before [`FlagWriter::finish`]; dropping the writer unfinished rolls everything back.
pub struct FlagWriter<'c> {
    conn: &'c Connection,
    sweep_id: i64,
    next_seq: i64,
    flags_many: rusqlite::Statement<'c>,
    flags_one: rusqlite::Statement<'c>,
    joined: Vec<String>,
    /// Packs the explanations of flags given to [`FlagWriter::write`].
    packer: TextPacker,
    texts: rusqlite::Statement<'c>,
    open: bool,
}

impl<'c> FlagWriter<'c> {
    pub fn begin(conn: &'c Connection, sweep_id: i64) -> Result<FlagWriter<'c>, FlagStoreError> {
        const FLAG_COLUMNS: &str = "flags (sweep_id, seq, rule, subject_kind, subject, claim_ids,
            amount_at_risk_fen, severity, explanation_zh, explanation_en)";
        conn.execute_batch("BEGIN")?;
        let prepared = (|| -> rusqlite::Result<_> {
            Ok((
                conn.prepare(&super::batch::values_sql(FLAG_COLUMNS, 10, FLAG_ROWS))?,
                conn.prepare(&super::batch::values_sql(FLAG_COLUMNS, 10, 1))?,
                conn.prepare(&FLAG_TEXTS.insert_sql())?,
            ))
        })();
        let (flags_many, flags_one, texts) = match prepared {
            Ok(p) => p,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e.into());
            }
        };
        Ok(FlagWriter {
            conn,
            sweep_id,
            next_seq: 0,
            flags_many,
            flags_one,
            joined: Vec::with_capacity(FLAG_ROWS),
            packer: TextPacker::default(),
            texts,
            open: true,
        })
    }

    /// Flags written so far.
    pub fn written(&self) -> usize {
        self.next_seq as usize
    }

    /// Appends `flags` (claim indices of `snap`) with the next sequence numbers, their
    /// explanations packed by the writer.
    pub fn write(&mut self, snap: &impl ClaimIds, flags: &[Flag]) -> Result<(), FlagStoreError> {
        self.write_rows(snap, flags)?;
        for f in flags {
            for block in self.packer.push_one(&f.explanation_zh, &f.explanation_en)? {
                self.store_block(&block)?;
            }
        }
        Ok(())
    }

    /// Appends `flags` whose explanations a [`TextPacker`] took out, with the blocks that
    /// filled. The packer numbers flags as this writer does when it is given every flag the
    /// writer gets, in the same order (and the writer gets only such flags); its last block
    /// comes with the last call, with no flags if need be.
    pub fn write_packed(
        &mut self,
        snap: &impl ClaimIds,
        flags: &(impl Flags + ?Sized),
        blocks: &[TextBlock],
    ) -> Result<(), FlagStoreError> {
        self.write_rows(snap, flags)?;
        // A block names flags by seq: it must be of flags this writer has numbered, and the
        // writer's own packer must not have numbered any (the two would disagree).
        for block in blocks {
            if self.packer.next_seq != 0 || block.first + block.count > self.next_seq {
                return Err(FlagStoreError::Texts(format!(
                    "explanations of flags {}..{} do not match the {} flags written",
                    block.first,
                    block.first + block.count,
                    self.next_seq
                )));
            }
            self.store_block(block)?;
        }
        Ok(())
    }

    /// The `flags` rows of `flags`, with the next sequence numbers.
    fn write_rows(
        &mut self,
        snap: &impl ClaimIds,
        flags: &(impl Flags + ?Sized),
    ) -> Result<(), FlagStoreError> {
        for first in (0..flags.count()).step_by(FLAG_ROWS) {
            let chunk: Vec<FlagRef<'_>> = (first..flags.count().min(first + FLAG_ROWS))
                .map(|k| flags.flag(k))
                .collect();
            let first_seq = self.next_seq;
            // Snapshot claims are sorted by claim id and flag claims are sorted indices, so the
            // joined ids come out sorted.
            self.joined.clear();
            for f in &chunk {
                let mut joined = String::with_capacity(f.claims.len() * 16);
                for (k, &c) in f.claims.iter().enumerate() {
                    if k > 0 {
                        joined.push(';');
                    }
                    joined.push_str(&snap.claim_id(c as usize));
                }
                self.joined.push(joined);
            }
            let stmt = if chunk.len() == FLAG_ROWS {
                &mut self.flags_many
            } else {
                &mut self.flags_one
            };
            for (k, (f, joined)) in chunk.iter().zip(&self.joined).enumerate() {
                let seq = first_seq + k as i64;
                if chunk.len() < FLAG_ROWS && k > 0 {
                    stmt.raw_execute()?;
                }
                let base = if chunk.len() == FLAG_ROWS { k * 10 } else { 0 };
                stmt.raw_bind_parameter(base + 1, self.sweep_id)?;
                stmt.raw_bind_parameter(base + 2, seq)?;
                stmt.raw_bind_parameter(base + 3, f.rule)?;
                stmt.raw_bind_parameter(base + 4, f.subject_kind.code())?;
                stmt.raw_bind_parameter(base + 5, f.subject)?;
                stmt.raw_bind_parameter(base + 6, joined.as_str())?;
                stmt.raw_bind_parameter(base + 7, f.amount_at_risk)?;
                stmt.raw_bind_parameter(base + 8, f.severity.code())?;
                // The explanations go into the sweep's compressed blocks (`flag_texts`).
                stmt.raw_bind_parameter(base + 9, "")?;
                stmt.raw_bind_parameter(base + 10, "")?;
            }
            stmt.raw_execute()?;
            self.next_seq += chunk.len() as i64;
        }
        Ok(())
    }

    /// One `flag_texts` row.
    fn store_block(&mut self, b: &TextBlock) -> Result<(), FlagStoreError> {
        BlockTable::insert(&mut self.texts, self.sweep_id, b)?;
        Ok(())
    }

    /// Stores the last block of the explanations [`FlagWriter::write`] packed, and commits.
    pub fn finish(mut self) -> Result<(), FlagStoreError> {
        if let Some(block) = std::mem::take(&mut self.packer).finish()? {
            self.store_block(&block)?;
        }
        self.conn.execute_batch("COMMIT")?;
        self.open = false;
        Ok(())
    }
}

impl Drop for FlagWriter<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// A claim no policy covers, as a sweep lists it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NotJudged {
    pub claim_id: String,
    /// The class's start date, else the claim date (what decides the policy).
    pub training_date: String,
    pub claim_date: String,
}

/// One link of identity resolution as stored (`person_links`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PersonLinkRow {
    pub person: String,
    pub id_a: String,
    pub id_b: String,
    pub birth_date: String,
    pub via: String,
    pub contact: String,
    pub name_a: String,
    pub name_b: String,
    pub name_match: String,
}

/// The identity links of a sweep, by person then ID numbers.
pub fn person_links(
    conn: &Connection,
    sweep_id: i64,
) -> Result<Vec<PersonLinkRow>, FlagStoreError> {
    let mut st = conn.prepare(
        "SELECT person, id_a, id_b, birth_date, via, contact, name_a, name_b, name_match
         FROM person_links WHERE sweep_id = ?1 ORDER BY person, id_a, id_b",
    )?;
    let rows = st
        .query_map([sweep_id], |r| {
            Ok(PersonLinkRow {
                person: r.get(0)?,
                id_a: r.get(1)?,
                id_b: r.get(2)?,
                birth_date: r.get(3)?,
                via: r.get(4)?,
                contact: r.get(5)?,
                name_a: r.get(6)?,
                name_b: r.get(7)?,
                name_match: r.get(8)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Stores what a sweep resolved before judging: the claims no policy covers, every ID number
/// of a person with several (`(id_number, person)`), and the links between them. One
/// transaction.
pub fn save_resolution(
    conn: &Connection,
    sweep_id: i64,
    not_judged: &[NotJudged],
    person_ids: &[(String, String)],
    links: &[PersonLinkRow],
) -> Result<(), FlagStoreError> {
    let tx = conn.unchecked_transaction()?;
    {
        let mut st = tx.prepare(
            "INSERT INTO unjudged_claims (sweep_id, claim_id, training_date, claim_date) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for n in not_judged {
            st.execute(params![sweep_id, n.claim_id, n.training_date, n.claim_date])?;
        }
        let mut st =
            tx.prepare("INSERT INTO person_ids (sweep_id, id_number, person) VALUES (?1, ?2, ?3)")?;
        for (id, person) in person_ids {
            st.execute(params![sweep_id, id, person])?;
        }
        let mut st = tx.prepare(
            "INSERT INTO person_links (sweep_id, person, id_a, id_b, birth_date, via, contact, name_a, name_b, name_match)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        for l in links {
            st.execute(params![
                sweep_id,
                l.person,
                l.id_a,
                l.id_b,
                l.birth_date,
                l.via,
                l.contact,
                l.name_a,
                l.name_b,
                l.name_match
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// The claims a sweep could not judge (no policy covers them), by claim id.
pub fn not_judged(conn: &Connection, sweep_id: i64) -> Result<Vec<NotJudged>, FlagStoreError> {
    let mut st = conn.prepare(
        "SELECT claim_id, training_date, claim_date FROM unjudged_claims WHERE sweep_id = ?1 ORDER BY claim_id",
    )?;
    let rows = st
        .query_map([sweep_id], |r| {
            Ok(NotJudged {
                claim_id: r.get(0)?,
                training_date: r.get(1)?,
                claim_date: r.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Marks a sweep finished with its claim count and summary (any serialisable value).
pub fn finish_sweep<S: serde::Serialize>(
    conn: &Connection,
    sweep_id: i64,
    claims: usize,
    summary: &S,
) -> Result<(), FlagStoreError> {
    let json = serde_json::to_string(summary)?;
    let n = conn.execute(
        "UPDATE sweeps SET finished_at = ?2, claims = ?3, summary_json = ?4 WHERE sweep_id = ?1",
        params![sweep_id, crate::dates::now_timestamp(), claims as i64, json],
    )?;
    if n == 0 {
        return Err(FlagStoreError::NoSweep(sweep_id));
    }
    Ok(())
}

/// Replaces the stored summary of a finished sweep (its timings, once its last checkpoint is
/// done).
pub fn update_sweep_summary<S: serde::Serialize>(
    conn: &Connection,
    sweep_id: i64,
    summary: &S,
) -> Result<(), FlagStoreError> {
    let json = serde_json::to_string(summary)?;
    let n = conn.execute(
        "UPDATE sweeps SET summary_json = ?2 WHERE sweep_id = ?1 AND finished_at IS NOT NULL",
        params![sweep_id, json],
    )?;
    if n == 0 {
        return Err(FlagStoreError::NoSweep(sweep_id));
    }
    Ok(())
}

/// What [`prune_unfinished_sweeps`] removed.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct PrunedSweeps {
    /// Sweeps that stopped before their end, whose rows were removed (those with rows left).
    pub sweeps: Vec<i64>,
    /// Their rows removed, all tables together.
    pub rows: u64,
    /// Sweeps not marked finished that did write cases (a database written before a sweep
    /// ended in its cases' transaction): their rows are cases' evidence and stay.
    pub kept: Vec<i64>,
}

/// Removes the rows (flags, graph findings, person links, …) of the sweeps that stopped before
/// their end, in one transaction; their `sweeps` rows stay, listed as not finished. A sweep
/// ends in its cases' transaction, so no case refers to them. Run under the exclusive ledger
/// lock, while no sweep runs (`claimsweep gc`).
pub fn prune_unfinished_sweeps(conn: &mut Connection) -> Result<PrunedSweeps, FlagStoreError> {
    let tx = conn.transaction()?;
    let mut out = PrunedSweeps::default();
    let unfinished: Vec<(i64, bool)> = tx
        .prepare(
            "SELECT w.sweep_id, EXISTS (SELECT 1 FROM sqlite_master
                 WHERE type = 'table' AND name = 'case_builds')
             FROM sweeps w WHERE w.finished_at IS NULL ORDER BY w.sweep_id",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    // Every per-sweep table but the sweeps and the cases' own (found by their `sweep_id`
    // column, so a table added later is not forgotten).
    let tables: Vec<String> = tx
        .prepare(
            "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) p
             WHERE m.type = 'table' AND p.name = 'sweep_id'
               AND m.name <> 'sweeps' AND substr(m.name, 1, 5) <> 'case_'
             ORDER BY m.name",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for (sweep_id, have_cases) in unfinished {
        let built = have_cases
            && tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM case_builds WHERE sweep_id = ?1)",
                [sweep_id],
                |r| r.get::<_, bool>(0),
            )?;
        if built {
            out.kept.push(sweep_id);
            continue;
        }
        let mut rows = 0;
        for table in &tables {
            rows += tx.execute(
                &format!("DELETE FROM \"{table}\" WHERE sweep_id = ?1"),
                [sweep_id],
            )? as u64;
        }
        // A sweep pruned before has nothing left to say.
        if rows > 0 {
            out.sweeps.push(sweep_id);
            out.rows += rows;
        }
    }
    tx.commit()?;
    Ok(out)
}

/// The latest finished sweep, if any.
pub fn latest_sweep_id(conn: &Connection) -> Result<Option<i64>, FlagStoreError> {
    Ok(conn.query_row(
        "SELECT MAX(sweep_id) FROM sweeps WHERE finished_at IS NOT NULL",
        [],
        |r| r.get(0),
    )?)
}

/// `Some(id)` if that sweep exists, else the latest finished sweep; an error if there is none.
pub fn resolve_sweep(conn: &Connection, sweep: Option<i64>) -> Result<i64, FlagStoreError> {
    match sweep {
        Some(id) => sweep_record(conn, id).map(|r| r.sweep_id),
        None => latest_sweep_id(conn)?.ok_or(FlagStoreError::NoSweeps),
    }
}

pub fn sweep_record(conn: &Connection, sweep_id: i64) -> Result<SweepRecord, FlagStoreError> {
    conn.query_row(
        "SELECT sweep_id, started_at, finished_at, policy, ingest_id, threads, claims, summary_json
         FROM sweeps WHERE sweep_id = ?1",
        [sweep_id],
        |r| {
            Ok(SweepRecord {
                sweep_id: r.get(0)?,
                started_at: r.get(1)?,
                finished_at: r.get(2)?,
                policy: r.get(3)?,
                ingest_id: r.get(4)?,
                threads: r.get(5)?,
                claims: r.get(6)?,
                summary_json: r.get(7)?,
            })
        },
    )
    .optional()?
    .ok_or(FlagStoreError::NoSweep(sweep_id))
}

/// Every sweep id, oldest first.
pub fn sweep_ids(conn: &Connection) -> Result<Vec<i64>, FlagStoreError> {
    let mut st = conn.prepare("SELECT sweep_id FROM sweeps ORDER BY sweep_id")?;
    let ids = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(ids)
}

/// The flags of a sweep in their stored order.
pub fn load_flags(conn: &Connection, sweep_id: i64) -> Result<Vec<StoredFlag>, FlagStoreError> {
    let mut st = conn.prepare(
        "SELECT seq, rule, subject_kind, subject, claim_ids, amount_at_risk_fen, severity,
                explanation_zh, explanation_en
         FROM flags WHERE sweep_id = ?1 ORDER BY seq",
    )?;
    let rows = st.query_map([sweep_id], |r| {
        let ids: String = r.get(4)?;
        Ok(StoredFlag {
            sweep_id,
            seq: r.get(0)?,
            rule: r.get(1)?,
            subject_kind: r.get(2)?,
            subject: r.get(3)?,
            claim_ids: if ids.is_empty() {
                Vec::new()
            } else {
                ids.split(';').map(str::to_string).collect()
            },
            amount_at_risk_fen: r.get(5)?,
            severity: r.get(6)?,
            explanation_zh: r.get(7)?,
            explanation_en: r.get(8)?,
        })
    })?;
    let mut flags: Vec<StoredFlag> = rows.collect::<Result<_, _>>()?;
    let texts = flag_texts(conn, sweep_id);
    for f in &mut flags {
        texts.fill(f.seq, &mut f.explanation_zh, &mut f.explanation_en)?;
    }
    Ok(flags)
}

/// A query of the `(seq, claim_id)` pairs of sweep `?1`: one row per claim a flag names, split
/// from `flags.claim_ids`. Sweeps stored before that column was the one list kept one
/// `flag_claims` row per pair, and those rows are read instead. The `;` separator cannot occur
/// in a claim id (ingest rejects it).
pub fn flag_claim_pairs_sql(conn: &Connection, sweep_id: i64) -> rusqlite::Result<&'static str> {
    let rows_kept: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM flag_claims WHERE sweep_id = ?1)",
        [sweep_id],
        |r| r.get(0),
    )?;
    Ok(if rows_kept {
        "SELECT seq, claim_id FROM flag_claims WHERE sweep_id = ?1"
    } else {
        "WITH RECURSIVE split(seq, claim_id, rest) AS (
           SELECT seq, NULL, claim_ids || ';' FROM flags WHERE sweep_id = ?1 AND claim_ids <> ''
           UNION ALL
           SELECT seq, substr(rest, 1, instr(rest, ';') - 1), substr(rest, instr(rest, ';') + 1)
           FROM split WHERE rest <> '')
         SELECT seq, claim_id FROM split WHERE claim_id IS NOT NULL"
    })
}

/// Distinct (rule, claim id) pairs flagged in a sweep, sorted: what evaluation compares with
/// the labels.
pub fn flagged_pairs(
    conn: &Connection,
    sweep_id: i64,
) -> Result<Vec<(String, String)>, FlagStoreError> {
    let mut st = conn.prepare(&format!(
        "SELECT DISTINCT f.rule, c.claim_id FROM ({}) c
         JOIN flags f ON f.sweep_id = ?1 AND f.seq = c.seq
         ORDER BY f.rule, c.claim_id",
        flag_claim_pairs_sql(conn, sweep_id)?
    ))?;
    let pairs = st
        .query_map([sweep_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::Date;
    use crate::model::*;
    use crate::policy::Severity;
    use crate::snapshot::Snapshot;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(super::super::SCHEMA).unwrap();
        conn
    }

    fn snap() -> Snapshot {
        let d = Date::from_ymd(2020, 1, 1).unwrap();
        let mk = |id: &str| ClaimRow {
            claim_id: id.into(),
            id_number: "X".into(),
            claim_date: d,
            ..Default::default()
        };
        Snapshot::from_ledger(&Ledger {
            claims: vec![mk("C3"), mk("C1"), mk("C2")],
            ..Default::default()
        })
    }

    fn flag(rule: &'static str, claims: Vec<u32>) -> Flag {
        Flag {
            rule,
            subject_kind: crate::finding::FlagSubject::Person,
            subject: "X".into(),
            claims,
            amount_at_risk: 12_345,
            severity: Severity::High,
            explanation_zh: "说明".into(),
            explanation_en: "why".into(),
        }
    }

    /// `n` flags of `rule`, flag `k` explained as 说明k：张伟 / why k.
    fn explained(n: usize, rule: &'static str) -> Vec<Flag> {
        (0..n)
            .map(|k| Flag {
                explanation_zh: format!("说明{k}：张伟"),
                explanation_en: format!("why {k}"),
                ..flag(rule, vec![(k % 3) as u32])
            })
            .collect()
    }

    #[test]
    fn explanations_packed_before_the_writer_store_the_blocks_the_writer_packs() {
        let conn = db();
        let snap = snap();
        let policies = PolicySet::embedded_default();
        let n = (TEXT_BLOCK * 2 + 300) as usize;
        let flags = explained(n, "deceased");
        let by_writer = begin_sweep(&conn, &policies, 1).unwrap();
        save_flags(&conn, by_writer, &snap, &flags).unwrap();

        // As a sweep does: packed in pieces that do not line up with the blocks, the last
        // block sent alone after the last flags.
        let packed = begin_sweep(&conn, &policies, 1).unwrap();
        let mut w = FlagWriter::begin(&conn, packed).unwrap();
        let mut packer = TextPacker::default();
        for piece in flags.chunks(700) {
            let mut piece = piece.to_vec();
            let blocks = packer.push(&mut piece).unwrap();
            assert!(
                piece.iter().all(|f| f.explanation_zh.is_empty()),
                "taken out"
            );
            w.write_packed(&snap, &piece, &blocks).unwrap();
        }
        let last: Vec<TextBlock> = packer.finish().unwrap().into_iter().collect();
        assert_eq!(last.len(), 1, "300 flags of a third block");
        w.write_packed(&snap, &[], &last).unwrap();
        w.finish().unwrap();
        // Blocks of flags the writer has not numbered are refused, not stored under other flags.
        let refused = begin_sweep(&conn, &policies, 1).unwrap();
        let mut w = FlagWriter::begin(&conn, refused).unwrap();
        let mut early = TextPacker::default();
        let blocks = early
            .push(&mut flags[..TEXT_BLOCK as usize].to_vec())
            .unwrap();
        assert!(matches!(
            w.write_packed(&snap, &[], &blocks),
            Err(FlagStoreError::Texts(_))
        ));
        drop(w);

        let blocks = |sweep: i64| -> Vec<(i64, i64, Vec<u8>, Vec<u8>)> {
            let mut st = conn
                .prepare("SELECT first_seq, flags, zh, en FROM flag_texts WHERE sweep_id = ?1 ORDER BY first_seq")
                .unwrap();
            st.query_map([sweep], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
        };
        assert_eq!(blocks(packed).len(), 3);
        assert_eq!(blocks(packed), blocks(by_writer));
        let (a, b) = (
            load_flags(&conn, by_writer).unwrap(),
            load_flags(&conn, packed).unwrap(),
        );
        assert_eq!(a.len(), n);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(
                (x.seq, &x.explanation_zh, &x.explanation_en, &x.claim_ids),
                (y.seq, &y.explanation_zh, &y.explanation_en, &y.claim_ids)
            );
        }
        assert_eq!(b[n - 1].explanation_zh, format!("说明{}：张伟", n - 1));
    }

    #[test]
    fn explanations_come_back_from_their_compressed_blocks_and_inline_rows_stay() {
        let conn = db();
        let snap = snap();
        let policies = PolicySet::embedded_default();
        let sweep = begin_sweep(&conn, &policies, 1).unwrap();
        // Two and a half blocks, written in pieces that do not line up with the blocks.
        let n = (TEXT_BLOCK * 2 + TEXT_BLOCK / 2) as usize;
        let flags = explained(n, "over_cap");
        let mut w = FlagWriter::begin(&conn, sweep).unwrap();
        for piece in flags.chunks(700) {
            w.write(&snap, piece).unwrap();
        }
        w.finish().unwrap();
        let blocks: i64 = conn
            .query_row(
                "SELECT count(*) FROM flag_texts WHERE sweep_id = ?1",
                [sweep],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(blocks, 3);
        let inline: i64 = conn
            .query_row(
                "SELECT count(*) FROM flags WHERE sweep_id = ?1 AND explanation_zh = '' AND explanation_en = ''",
                [sweep],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            inline as usize, n,
            "the flags rows hold no explanation text"
        );
        let stored = load_flags(&conn, sweep).unwrap();
        assert_eq!(stored.len(), n);
        for (k, f) in stored.iter().enumerate() {
            assert_eq!(f.explanation_zh, format!("说明{k}：张伟"));
            assert_eq!(f.explanation_en, format!("why {k}"));
        }
        // A row of an older sweep keeps its inline explanations.
        conn.execute(
            "UPDATE flags SET explanation_zh = '旧', explanation_en = 'old' WHERE sweep_id = ?1 AND seq = 5",
            [sweep],
        )
        .unwrap();
        let texts = flag_texts(&conn, sweep);
        let (mut zh, mut en) = ("旧".to_string(), "old".to_string());
        texts.fill(5, &mut zh, &mut en).unwrap();
        assert_eq!((zh.as_str(), en.as_str()), ("旧", "old"));
        // A damaged block is an error, not an empty explanation.
        conn.execute(
            "UPDATE flag_texts SET zh = x'00010203' WHERE sweep_id = ?1 AND first_seq = ?2",
            params![sweep, TEXT_BLOCK],
        )
        .unwrap();
        let texts = flag_texts(&conn, sweep);
        let (mut zh, mut en) = (String::new(), String::new());
        assert!(texts.fill(TEXT_BLOCK + 1, &mut zh, &mut en).is_err());
    }

    #[test]
    fn flags_round_trip_and_sweeps_are_kept() {
        let conn = db();
        let snap = snap();
        let policies = PolicySet::embedded_default();
        assert_eq!(latest_sweep_id(&conn).unwrap(), None);
        assert!(matches!(
            resolve_sweep(&conn, None),
            Err(FlagStoreError::NoSweeps)
        ));

        let s1 = begin_sweep(&conn, &policies, 4).unwrap();
        save_flags(
            &conn,
            s1,
            &snap,
            &[flag("over_cap", vec![0, 2]), flag("deceased", vec![1])],
        )
        .unwrap();
        // Not finished yet: not the latest.
        assert_eq!(latest_sweep_id(&conn).unwrap(), None);
        finish_sweep(&conn, s1, 3, &serde_json::json!({"flags": 2})).unwrap();
        let s2 = begin_sweep(&conn, &policies, 1).unwrap();
        save_flags(&conn, s2, &snap, &[flag("deceased", vec![1])]).unwrap();
        finish_sweep(&conn, s2, 3, &serde_json::json!({})).unwrap();

        assert_eq!(latest_sweep_id(&conn).unwrap(), Some(s2));
        assert_eq!(sweep_ids(&conn).unwrap(), vec![s1, s2]);
        let f1 = load_flags(&conn, s1).unwrap();
        assert_eq!(f1.len(), 2);
        assert_eq!(f1[0].claim_ids, vec!["C1", "C3"]);
        assert_eq!(
            (f1[0].seq, f1[0].rule.as_str(), f1[0].severity.as_str()),
            (0, "over_cap", "high")
        );
        assert_eq!(f1[0].amount_at_risk_fen, 12_345);
        assert_eq!(load_flags(&conn, s2).unwrap().len(), 1);
        assert_eq!(
            flagged_pairs(&conn, s1).unwrap(),
            vec![
                ("deceased".to_string(), "C2".to_string()),
                ("over_cap".to_string(), "C1".to_string()),
                ("over_cap".to_string(), "C3".to_string())
            ]
        );
        let rec = sweep_record(&conn, s1).unwrap();
        assert_eq!((rec.threads, rec.claims), (4, 3));
        assert_eq!(rec.policy, policies.fingerprint());
        assert!(rec.finished_at.is_some());
        assert!(matches!(
            resolve_sweep(&conn, Some(99)),
            Err(FlagStoreError::NoSweep(99))
        ));
    }

    /// Every stored row of a sweep's flags and flag claims, in order.
    fn stored_rows(conn: &Connection, sweep: i64) -> (Vec<StoredFlag>, Vec<(i64, String)>) {
        let sql = format!(
            "SELECT seq, claim_id FROM ({}) ORDER BY seq, claim_id",
            flag_claim_pairs_sql(conn, sweep).unwrap()
        );
        let mut st = conn.prepare(&sql).unwrap();
        let claims = st
            .query_map([sweep], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        (load_flags(conn, sweep).unwrap(), claims)
    }

    // Regression guard for the multi-row inserts: pieces of any size, across and below the
    // batch sizes, store exactly what one call stores, row for row and in order.
    #[test]
    fn writing_in_pieces_stores_the_same_rows_as_one_save() {
        let conn = db();
        let snap = snap();
        let flags: Vec<Flag> = (0..(FLAG_ROWS * 2 + 7))
            .map(|i| {
                let mut f = flag(
                    if i % 2 == 0 { "over_cap" } else { "deceased" },
                    match i % 3 {
                        0 => vec![0, 1, 2],
                        1 => vec![1],
                        _ => vec![0, 2],
                    },
                );
                f.subject = format!("S{i}");
                f.amount_at_risk = i as i64;
                f
            })
            .collect();
        let policies = PolicySet::embedded_default();
        let whole = begin_sweep(&conn, &policies, 1).unwrap();
        save_flags(&conn, whole, &snap, &flags).unwrap();
        let pieces = begin_sweep(&conn, &policies, 1).unwrap();
        let mut w = FlagWriter::begin(&conn, pieces).unwrap();
        for piece in [
            &flags[..1],
            &flags[1..FLAG_ROWS + 3],
            &flags[FLAG_ROWS + 3..],
        ] {
            w.write(&snap, piece).unwrap();
        }
        assert_eq!(w.written(), flags.len());
        w.finish().unwrap();

        let (a_flags, a_claims) = stored_rows(&conn, whole);
        let (b_flags, b_claims) = stored_rows(&conn, pieces);
        assert_eq!(a_flags.len(), flags.len());
        assert_eq!(a_claims.len(), b_claims.len());
        assert_eq!(a_claims, b_claims);
        for (k, (a, b)) in a_flags.iter().zip(&b_flags).enumerate() {
            assert_eq!(a.seq, k as i64);
            assert_eq!(a.subject, format!("S{k}"));
            assert_eq!(a.amount_at_risk_fen, k as i64);
            assert_eq!(
                (&a.subject, &a.claim_ids, &a.rule, a.seq),
                (&b.subject, &b.claim_ids, &b.rule, b.seq)
            );
        }
        assert_eq!(a_flags[0].claim_ids, vec!["C1", "C2", "C3"]);
        assert_eq!(a_flags[2].claim_ids, vec!["C1", "C3"]);
        // One (seq, claim) pair per claim a flag names, split from its claim_ids.
        let pairs = flags.iter().map(|f| f.claims.len()).sum::<usize>();
        assert_eq!(a_claims.len(), pairs);
        assert_eq!(
            &a_claims[..4],
            &[
                (0, "C1".to_string()),
                (0, "C2".to_string()),
                (0, "C3".to_string()),
                (1, "C2".to_string())
            ]
        );
    }

    #[test]
    fn claim_pairs_of_sweeps_that_kept_flag_claims_rows_come_from_those_rows() {
        let conn = db();
        let sweep = begin_sweep(&conn, &PolicySet::embedded_default(), 1).unwrap();
        // An older sweep: its flags list claims in claim_ids and, once each, in flag_claims.
        conn.execute_batch(&format!(
            "INSERT INTO flags (sweep_id, seq, rule, subject_kind, subject, claim_ids,
                amount_at_risk_fen, severity, explanation_zh, explanation_en)
             VALUES ({sweep}, 0, 'over_cap', 'person', 'P', 'C1;C2', 1, 'high', 'z', 'e'),
                    ({sweep}, 1, 'deceased', 'claim', 'C3', '', 1, 'high', 'z', 'e');
             INSERT INTO flag_claims (sweep_id, seq, claim_id)
             VALUES ({sweep}, 0, 'C1'), ({sweep}, 0, 'C2'), ({sweep}, 1, 'C3');"
        ))
        .unwrap();
        let (_, pairs) = stored_rows(&conn, sweep);
        assert_eq!(
            pairs,
            vec![
                (0, "C1".to_string()),
                (0, "C2".to_string()),
                (1, "C3".to_string())
            ]
        );
        assert_eq!(
            flagged_pairs(&conn, sweep).unwrap(),
            vec![
                ("deceased".to_string(), "C3".to_string()),
                ("over_cap".to_string(), "C1".to_string()),
                ("over_cap".to_string(), "C2".to_string())
            ]
        );
    }

    #[test]
    fn an_unfinished_writer_rolls_back() {
        let conn = db();
        let snap = snap();
        let sweep = begin_sweep(&conn, &PolicySet::embedded_default(), 1).unwrap();
        {
            let mut w = FlagWriter::begin(&conn, sweep).unwrap();
            w.write(&snap, &[flag("over_cap", vec![0])]).unwrap();
        }
        assert!(load_flags(&conn, sweep).unwrap().is_empty());
        // The connection is usable again: no transaction was left open.
        save_flags(&conn, sweep, &snap, &[flag("over_cap", vec![0])]).unwrap();
        assert_eq!(load_flags(&conn, sweep).unwrap().len(), 1);
    }

    #[test]
    fn timestamp_is_iso_utc() {
        let t = crate::dates::now_timestamp();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.ends_with('Z') && &t[10..11] == "T");
    }
}
