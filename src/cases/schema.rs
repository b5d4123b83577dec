//! Opening a database for the cases commands. The cases tables and the statements that write
//! them are the store's (`store::cases`); they and the table helpers are re-exported here for
//! the readers and tools that name them through `cases`.

use super::CaseError;
use rusqlite::Connection;
use std::path::Path;

pub use crate::store::cases::{ensure_schema, prepare_connection};
pub use crate::store::{table_columns, table_exists};

/// Opens a database for the cases commands: busy timeout set, the shared schema and the cases
/// tables created if missing. A missing file is an error (there is nothing to review).
pub fn open_db(path: &Path) -> Result<Connection, CaseError> {
    if !path.exists() {
        return Err(CaseError::NoDatabase(path.to_path_buf()));
    }
    let conn = crate::store::open(path)?;
    ensure_schema(&conn)?;
    Ok(conn)
}
