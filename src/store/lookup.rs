//! How the case pages and the report look claims up by ID number, phone and bank account:
//! through an index on a number taken from the value, not on the value itself.
//!
//! An index of the values themselves stores every ID number (18 bytes), phone (11) and
//! account (19) again beside the rows: at ten million claims the three came to 0.76 GB, a
//! quarter of the ledger. Each index here keeps a 6-byte integer made of the value's
//! distinctive digits (`CAST(substr(value, …) AS INTEGER)`), 0.46 GB for the three, and a
//! look-up tests the value itself beside it, so two values sharing a number cost one more row
//! read, never a wrong row. SQLite builds these from its own functions: the database stays
//! readable and writable by any SQLite tool.
//!
//! Every statement that looks claims up by these columns writes its test with
//! [`LookupKey::equals`] or [`LookupKey::within`], which spell the expression exactly as the
//! index has it (SQLite uses an index on an expression only for that same expression).

/// A claims column looked up through an index on a number taken from its values.
#[derive(Clone, Copy, Debug)]
pub struct LookupKey {
    /// The `claims` column.
    pub column: &'static str,
    /// The index's name.
    pub index: &'static str,
    /// `substr` arguments that take the value's distinctive digits (at most 13: a 6-byte
    /// integer).
    substr: &'static str,
}

/// A person's claims: an ID number's digits 5 to 17 (county within the city, date of birth,
/// sequence number), leaving out the province and city and the check digit.
pub const ID_NUMBER: LookupKey = LookupKey {
    column: "id_number",
    index: "claims_id_number_key",
    substr: "5, 13",
};

/// Everyone on a phone: its last 13 characters (all of a mobile or landline number).
pub const PHONE: LookupKey = LookupKey {
    column: "phone",
    index: "claims_phone_key",
    substr: "-13",
};

/// Everyone on a bank account: its last 13 digits.
pub const BANK_ACCOUNT: LookupKey = LookupKey {
    column: "bank_account",
    index: "claims_bank_account_key",
    substr: "-13",
};

/// The three, in the order an ingest builds their indexes.
pub const ALL: [LookupKey; 3] = [ID_NUMBER, PHONE, BANK_ACCOUNT];

impl LookupKey {
    /// The number of `value` (an SQL expression), as the index has it.
    fn number(&self, value: &str) -> String {
        format!("CAST(substr({value}, {}) AS INTEGER)", self.substr)
    }

    /// `CREATE INDEX` of this key on `claims`.
    pub fn create_index_sql(&self) -> String {
        format!(
            "CREATE INDEX IF NOT EXISTS {} ON claims({})",
            self.index,
            self.number(self.column)
        )
    }

    /// `{alias}column = value` through the index: `value` is an SQL expression (a parameter).
    pub fn equals(&self, alias: &str, value: &str) -> String {
        let column = format!("{alias}{}", self.column);
        format!(
            "{} = {} AND {column} = {value}",
            self.number(&column),
            self.number(value)
        )
    }

    /// `{alias}column IN (SELECT {item} FROM {from})` through the index: `item` is an
    /// expression of the rows of `from` (a table, or a table with its `WHERE`).
    pub fn within(&self, alias: &str, item: &str, from: &str) -> String {
        let column = format!("{alias}{}", self.column);
        format!(
            "{} IN (SELECT {} FROM {from}) AND {column} IN (SELECT {item} FROM {from})",
            self.number(&column),
            self.number(item)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE claims (claim_id TEXT PRIMARY KEY, id_number TEXT, phone TEXT,
             bank_account TEXT)",
        )
        .unwrap();
        for key in ALL {
            conn.execute_batch(&key.create_index_sql()).unwrap();
        }
        conn
    }

    fn plan(conn: &Connection, sql: &str) -> String {
        let mut st = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = st.query_map([], |r| r.get::<_, String>(3)).unwrap();
        rows.collect::<Result<Vec<_>, _>>().unwrap().join(" | ")
    }

    /// Every look-up searches its index, by a column of the table or of an alias.
    #[test]
    fn look_ups_search_their_index() {
        let conn = db();
        for key in ALL {
            let by_value = plan(
                &conn,
                &format!(
                    "SELECT claim_id FROM claims WHERE {}",
                    key.equals("", "'x'")
                ),
            );
            assert!(
                by_value.contains(&format!("USING INDEX {}", key.index)),
                "{by_value}"
            );
            let in_list = plan(
                &conn,
                &format!(
                    "SELECT c.claim_id FROM claims c WHERE {}",
                    key.within("c.", "value", "json_each('[\"1\",\"2\"]')")
                ),
            );
            assert!(
                in_list.contains(&format!("USING INDEX {}", key.index)),
                "{in_list}"
            );
        }
    }

    /// Values that share a number, values without digits and values shorter than the digits
    /// taken are found exactly: only the rows holding the value itself.
    #[test]
    fn values_sharing_a_number_are_told_apart() {
        let conn = db();
        let rows = [
            (
                "A",
                "370102199001011234",
                "13800000001",
                "6222020000000000001",
            ),
            // Same digits 5..17 in another province and with another check digit.
            (
                "B",
                "110102199001011239",
                "013800000001",
                "9996222020000000000001",
            ),
            ("C", "37010219900101123X", "无", "N/A"),
            ("D", "", "", "12"),
            ("E", "3701", "无号码", "12"),
        ];
        for (c, id, phone, bank) in rows {
            conn.execute(
                "INSERT INTO claims VALUES (?1, ?2, ?3, ?4)",
                [c, id, phone, bank],
            )
            .unwrap();
        }
        let find = |key: LookupKey, value: &str| -> Vec<String> {
            let mut st = conn
                .prepare(&format!(
                    "SELECT claim_id FROM claims WHERE {} ORDER BY claim_id",
                    key.equals("", "?1")
                ))
                .unwrap();
            let rows = st.query_map([value], |r| r.get(0)).unwrap();
            rows.collect::<Result<_, _>>().unwrap()
        };
        assert_eq!(find(ID_NUMBER, "370102199001011234"), ["A"]);
        assert_eq!(find(ID_NUMBER, "110102199001011239"), ["B"]);
        assert_eq!(find(ID_NUMBER, "37010219900101123X"), ["C"]);
        assert_eq!(find(ID_NUMBER, "3701"), ["E"]);
        assert_eq!(find(ID_NUMBER, ""), ["D"]);
        assert_eq!(find(PHONE, "13800000001"), ["A"]);
        assert_eq!(find(PHONE, "013800000001"), ["B"]);
        assert_eq!(find(PHONE, "无"), ["C"]);
        assert_eq!(find(PHONE, "无号码"), ["E"]);
        assert_eq!(find(BANK_ACCOUNT, "6222020000000000001"), ["A"]);
        assert_eq!(find(BANK_ACCOUNT, "9996222020000000000001"), ["B"]);
        assert_eq!(find(BANK_ACCOUNT, "12"), ["D", "E"]);
        assert!(find(BANK_ACCOUNT, "N/B").is_empty());
    }
}
