//! How each typed row maps to its SQLite table: columns in bind order, key, binding,
//! reading by column index, and a fingerprint for change detection.
//!
//! Reading fills a caller-owned row (`read`), so loops over a million rows reuse one buffer.

use crate::dates::Date;
use crate::input::rows::{Labelled, ParseRow};
use crate::model::*;
use rusqlite::types::ValueRef;
use rusqlite::{Row, Statement};
use std::hash::{Hash, Hasher};

/// A typed row stored in its own table, with `extra` and `ingest_id` after its columns.
pub trait DbRow: ParseRow {
    /// Database columns in bind order (`?1` … `?n`); `extra` is `?n+1`, `ingest_id` `?n+2`.
    const COLUMNS: &'static [&'static str];
    /// The primary key columns (the upsert conflict target).
    const KEY: &'static [&'static str];
    /// Binds the columns to parameters `base + 1 ..= base + COLUMNS.len()`.
    fn bind_at(&self, st: &mut Statement, base: usize) -> rusqlite::Result<()>;
    fn bind(&self, st: &mut Statement) -> rusqlite::Result<()> {
        self.bind_at(st, 0)
    }
    /// Reads columns `0..COLUMNS.len()` of a `SELECT COLUMNS…` row into `self`.
    fn read(&mut self, row: &Row) -> rusqlite::Result<()>;
    /// Hashes every stored value (normalised), so equal rows hash equal.
    fn fingerprint<H: Hasher>(&self, h: &mut H);
}

/// Maps one field type to a column.
pub trait Codec<T> {
    fn bind(st: &mut Statement, i: usize, v: &T) -> rusqlite::Result<()>;
    fn read(row: &Row, i: usize, v: &mut T) -> rusqlite::Result<()>;
}

fn bad_value(i: usize, what: &str, v: ValueRef) -> rusqlite::Error {
    let shown = match v {
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        other => format!("{other:?}"),
    };
    rusqlite::Error::FromSqlConversionFailure(
        i,
        v.data_type(),
        format!("stored {what} is unreadable: {shown}").into(),
    )
}

pub(crate) fn text_of<'a>(row: &'a Row, i: usize) -> rusqlite::Result<Option<&'a str>> {
    match row.get_ref(i)? {
        ValueRef::Null => Ok(None),
        ValueRef::Text(t) => std::str::from_utf8(t)
            .map(Some)
            .map_err(|_| bad_value(i, "text", ValueRef::Text(t))),
        other => Err(bad_value(i, "text", other)),
    }
}

fn int_of(row: &Row, i: usize) -> rusqlite::Result<Option<i64>> {
    match row.get_ref(i)? {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(n) => Ok(Some(n)),
        other => Err(bad_value(i, "integer", other)),
    }
}

/// `YYYY-MM-DD` without allocating.
pub fn iso_bytes(d: Date) -> [u8; 10] {
    let (y, m, dd) = d.ymd();
    let y = y.clamp(0, 9999) as u32;
    let mut b = *b"0000-00-00";
    b[0] = b'0' + (y / 1000) as u8;
    b[1] = b'0' + (y / 100 % 10) as u8;
    b[2] = b'0' + (y / 10 % 10) as u8;
    b[3] = b'0' + (y % 10) as u8;
    b[5] = b'0' + (m / 10) as u8;
    b[6] = b'0' + (m % 10) as u8;
    b[8] = b'0' + (dd / 10) as u8;
    b[9] = b'0' + (dd % 10) as u8;
    b
}

fn bind_date(st: &mut Statement, i: usize, d: Date) -> rusqlite::Result<()> {
    let b = iso_bytes(d);
    st.raw_bind_parameter(i, std::str::from_utf8(&b).unwrap_or(""))
}

fn parse_stored_date(i: usize, s: &str) -> rusqlite::Result<Date> {
    Date::parse_iso(s).ok_or_else(|| bad_value(i, "date", ValueRef::Text(s.as_bytes())))
}

pub struct Text;
impl Codec<String> for Text {
    fn bind(st: &mut Statement, i: usize, v: &String) -> rusqlite::Result<()> {
        st.raw_bind_parameter(i, v.as_str())
    }
    fn read(row: &Row, i: usize, v: &mut String) -> rusqlite::Result<()> {
        v.clear();
        if let Some(s) = text_of(row, i)? {
            v.push_str(s);
        }
        Ok(())
    }
}

pub struct Int;
impl Codec<i32> for Int {
    fn bind(st: &mut Statement, i: usize, v: &i32) -> rusqlite::Result<()> {
        st.raw_bind_parameter(i, *v)
    }
    fn read(row: &Row, i: usize, v: &mut i32) -> rusqlite::Result<()> {
        *v = int_of(row, i)?.unwrap_or(0) as i32;
        Ok(())
    }
}

pub struct Money;
impl Codec<i64> for Money {
    fn bind(st: &mut Statement, i: usize, v: &i64) -> rusqlite::Result<()> {
        st.raw_bind_parameter(i, *v)
    }
    fn read(row: &Row, i: usize, v: &mut i64) -> rusqlite::Result<()> {
        *v = int_of(row, i)?.unwrap_or(0);
        Ok(())
    }
}

pub struct Flag;
impl Codec<bool> for Flag {
    fn bind(st: &mut Statement, i: usize, v: &bool) -> rusqlite::Result<()> {
        st.raw_bind_parameter(i, *v as i64)
    }
    fn read(row: &Row, i: usize, v: &mut bool) -> rusqlite::Result<()> {
        *v = int_of(row, i)?.unwrap_or(0) != 0;
        Ok(())
    }
}

pub struct Day;
impl Codec<Date> for Day {
    fn bind(st: &mut Statement, i: usize, v: &Date) -> rusqlite::Result<()> {
        bind_date(st, i, *v)
    }
    fn read(row: &Row, i: usize, v: &mut Date) -> rusqlite::Result<()> {
        match text_of(row, i)? {
            Some(s) => *v = parse_stored_date(i, s)?,
            None => return Err(bad_value(i, "date", ValueRef::Null)),
        }
        Ok(())
    }
}

/// An optional date stored as NULL when absent.
pub struct OptDay;
impl Codec<Option<Date>> for OptDay {
    fn bind(st: &mut Statement, i: usize, v: &Option<Date>) -> rusqlite::Result<()> {
        match v {
            Some(d) => bind_date(st, i, *d),
            None => st.raw_bind_parameter(i, rusqlite::types::Null),
        }
    }
    fn read(row: &Row, i: usize, v: &mut Option<Date>) -> rusqlite::Result<()> {
        *v = match text_of(row, i)? {
            None | Some("") => None,
            Some(s) => Some(parse_stored_date(i, s)?),
        };
        Ok(())
    }
}

/// An optional date in a key column (`registry_ui.as_of`): stored as '' when absent.
pub struct KeyDay;
impl Codec<Option<Date>> for KeyDay {
    fn bind(st: &mut Statement, i: usize, v: &Option<Date>) -> rusqlite::Result<()> {
        match v {
            Some(d) => bind_date(st, i, *d),
            None => st.raw_bind_parameter(i, ""),
        }
    }
    fn read(row: &Row, i: usize, v: &mut Option<Date>) -> rusqlite::Result<()> {
        OptDay::read(row, i, v)
    }
}

pub struct Lvl;
impl Codec<Option<u8>> for Lvl {
    fn bind(st: &mut Statement, i: usize, v: &Option<u8>) -> rusqlite::Result<()> {
        st.raw_bind_parameter(i, v.map(i64::from))
    }
    fn read(row: &Row, i: usize, v: &mut Option<u8>) -> rusqlite::Result<()> {
        *v = int_of(row, i)?.map(|n| n as u8);
        Ok(())
    }
}

/// Enumerations are stored as their English codes.
pub struct Enum;
impl<E: Labelled> Codec<Option<E>> for Enum {
    fn bind(st: &mut Statement, i: usize, v: &Option<E>) -> rusqlite::Result<()> {
        st.raw_bind_parameter(i, v.map(|e| e.code_str()))
    }
    fn read(row: &Row, i: usize, v: &mut Option<E>) -> rusqlite::Result<()> {
        *v = match text_of(row, i)? {
            None | Some("") => None,
            Some(s) => Some(
                E::parse_label(s)
                    .ok_or_else(|| bad_value(i, "label", ValueRef::Text(s.as_bytes())))?,
            ),
        };
        Ok(())
    }
}

macro_rules! db_row {
    ($ty:ty, key = [$($k:literal),*], [$($field:ident : $col:literal => $codec:ident),* $(,)?]) => {
        impl DbRow for $ty {
            const COLUMNS: &'static [&'static str] = &[$($col),*];
            const KEY: &'static [&'static str] = &[$($k),*];
            fn bind_at(&self, st: &mut Statement, base: usize) -> rusqlite::Result<()> {
                let mut i = base;
                $( i += 1; $codec::bind(st, i, &self.$field)?; )*
                let _ = i;
                Ok(())
            }
            fn read(&mut self, row: &Row) -> rusqlite::Result<()> {
                let mut i = 0usize;
                $( $codec::read(row, i, &mut self.$field)?; i += 1; )*
                let _ = i;
                Ok(())
            }
            fn fingerprint<H: Hasher>(&self, h: &mut H) {
                $( self.$field.hash(h); )*
            }
        }
    };
}

db_row!(ClaimRow, key = ["claim_id"], [
    claim_id: "claim_id" => Text,
    id_number: "id_number" => Text,
    name: "name" => Text,
    phone: "phone" => Text,
    bank_account: "bank_account" => Text,
    category: "category" => Enum,
    county_code: "county_code" => Text,
    institution_id: "institution_id" => Text,
    class_id: "class_id" => Text,
    subsidy_type: "subsidy_type" => Enum,
    occupation_code: "occupation_code" => Text,
    level: "level" => Lvl,
    cert_no: "cert_no" => Text,
    funding_source: "funding_source" => Enum,
    amount: "amount_fen" => Money,
    living_days: "living_days" => Int,
    living_amount: "living_amount_fen" => Money,
    claim_date: "claim_date" => Day,
]);

db_row!(ClassRow, key = ["class_id"], [
    class_id: "class_id" => Text,
    institution_id: "institution_id" => Text,
    county_code: "county_code" => Text,
    occupation_code: "occupation_code" => Text,
    level: "level" => Lvl,
    training_type: "training_type" => Enum,
    start_date: "start_date" => Day,
    end_date: "end_date" => Day,
    hours: "hours" => Int,
    project_based: "project_based" => Flag,
]);

db_row!(InstitutionRow, key = ["institution_id"], [
    institution_id: "institution_id" => Text,
    name: "name" => Text,
    county_code: "county_code" => Text,
    kind: "kind" => Text,
    legal_rep_id: "legal_rep_id" => Text,
    phone: "phone" => Text,
    address: "address" => Text,
]);

db_row!(CertificateRow, key = ["cert_no"], [
    cert_no: "cert_no" => Text,
    id_number: "id_number" => Text,
    name: "name" => Text,
    occupation_code: "occupation_code" => Text,
    level: "level" => Lvl,
    cert_type: "cert_type" => Text,
    issue_date: "issue_date" => OptDay,
]);

db_row!(ProjectRow, key = ["class_id"], [
    class_id: "class_id" => Text,
    trainees: "trainees" => Int,
    employed_claimed: "employed_claimed" => Int,
    total_amount: "total_amount_fen" => Money,
    prepaid_amount: "prepaid_amount_fen" => Money,
    paid_amount: "paid_amount_fen" => Money,
    check_date: "check_date" => OptDay,
]);

db_row!(EmploymentRow, key = ["id_number", "employer_id", "start_date"], [
    id_number: "id_number" => Text,
    employer_id: "employer_id" => Text,
    start_date: "start_date" => Day,
    end_date: "end_date" => OptDay,
]);

db_row!(StaffRow, key = ["institution_id", "id_number"], [
    institution_id: "institution_id" => Text,
    id_number: "id_number" => Text,
    role: "role" => Text,
]);

db_row!(PensionRow, key = ["id_number"], [
    id_number: "id_number" => Text,
    start_date: "start_date" => Day,
]);

db_row!(DeathRow, key = ["id_number"], [
    id_number: "id_number" => Text,
    death_date: "death_date" => Day,
]);

db_row!(UiRow, key = ["id_number", "as_of"], [
    id_number: "id_number" => Text,
    months_paid: "months_paid" => Int,
    as_of: "as_of" => KeyDay,
]);

db_row!(PovertyRow, key = ["id_number"], [
    id_number: "id_number" => Text,
]);

db_row!(LivingStandardRow, key = ["county_code", "year"], [
    county_code: "county_code" => Text,
    year: "year" => Int,
    monthly_amount: "monthly_amount_fen" => Money,
]);

/// `SELECT cols…, extra, rowid FROM table` (extra and rowid follow the row's own columns).
pub fn select_sql<R: DbRow>() -> String {
    format!(
        "SELECT {}, extra, rowid FROM {}",
        R::COLUMNS.join(", "),
        R::TABLE
    )
}

/// `SELECT cols… FROM table NOT INDEXED`: what `read` needs, without `extra` (loading never
/// uses it), in rowid order. Without `NOT INDEXED` SQLite scans a table whose primary key
/// covers every column read (`registry_poverty`) in key order instead; rowid order is the
/// order the rows were written in, which ingest's snapshot fast path builds from.
pub fn load_sql<R: DbRow>() -> String {
    format!(
        "SELECT {} FROM {} NOT INDEXED",
        R::COLUMNS.join(", "),
        R::TABLE
    )
}

/// `INSERT INTO table (cols…, extra, ingest_id) VALUES (?1 …)`.
pub fn insert_sql<R: DbRow>() -> String {
    let n = R::COLUMNS.len() + 2;
    let params: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO {} ({}, extra, ingest_id) VALUES ({})",
        R::TABLE,
        R::COLUMNS.join(", "),
        params.join(", ")
    )
}

/// One INSERT of `rows` rows (`?` parameters in row order: columns, extra, ingest_id): fewer
/// statement executions per row in bulk loads.
pub fn insert_many_sql<R: DbRow>(rows: usize) -> String {
    let head = format!("{} ({}, extra, ingest_id)", R::TABLE, R::COLUMNS.join(", "));
    super::batch::values_sql(&head, R::COLUMNS.len() + 2, rows)
}

/// The insert, updating every non-key column of an existing row with the same key.
pub fn upsert_sql<R: DbRow>() -> String {
    let sets: Vec<String> = R::COLUMNS
        .iter()
        .filter(|c| !R::KEY.contains(c))
        .chain(["extra", "ingest_id"].iter())
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        "{} ON CONFLICT ({}) DO UPDATE SET {}",
        insert_sql::<R>(),
        R::KEY.join(", "),
        sets.join(", ")
    )
}
