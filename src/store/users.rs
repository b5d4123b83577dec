//! Accounts of the inspectors' workspace (`claimsweep users`, `claimsweep serve`) and their
//! login sessions. Passwords arrive here already hashed (argon2, by the serve stage) and a
//! session is stored as the SHA-256 of its random token, so a copy of the database opens no
//! session. Times are stored UTC (`YYYY-MM-DDTHH:MM:SSZ`, which sorts as text).

use super::StoreError;
use crate::text::Lang;
use rusqlite::{params, Connection, OptionalExtension};

const USERS_SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS users (
  user_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,                    -- inspector | supervisor | admin
  password_hash TEXT NOT NULL,           -- argon2id PHC string
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
  token_hash TEXT PRIMARY KEY,           -- hex SHA-256 of the cookie's token
  user_id INTEGER NOT NULL,
  csrf TEXT NOT NULL,                    -- the token every form of this session carries
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions(expires_at);
"#;

pub fn ensure_schema(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(USERS_SCHEMA)?;
    Ok(())
}

/// What an account may do. Supervisors assign, approve, return and reopen; admins manage
/// accounts and may do what supervisors do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Inspector,
    Supervisor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Inspector, Role::Supervisor, Role::Admin];
    pub fn code(self) -> &'static str {
        match self {
            Role::Inspector => "inspector",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Role::Inspector => "核查员",
            Role::Supervisor => "主管",
            Role::Admin => "管理员",
        }
    }
    pub fn label(self, lang: Lang) -> &'static str {
        lang.pick(self.zh(), self.code())
    }
    pub fn parse(s: &str) -> Option<Role> {
        let s = s.trim();
        Role::ALL
            .into_iter()
            .find(|r| r.code().eq_ignore_ascii_case(s) || r.zh() == s)
    }
    /// Assign, approve, return, reopen, unmask, set due dates.
    pub fn supervises(self) -> bool {
        matches!(self, Role::Supervisor | Role::Admin)
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct User {
    pub user_id: i64,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: String,
}

fn user_from(r: &rusqlite::Row) -> rusqlite::Result<User> {
    let role: String = r.get(2)?;
    Ok(User {
        user_id: r.get(0)?,
        name: r.get(1)?,
        role: Role::parse(&role).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                format!("unknown role `{role}`").into(),
            )
        })?,
        disabled: r.get::<_, i64>(3)? != 0,
        created_at: r.get(4)?,
    })
}

const USER_COLUMNS: &str = "user_id, name, role, disabled, created_at";

/// Whether the database has any account: then every review action needs one.
pub fn has_accounts(conn: &Connection) -> Result<bool, StoreError> {
    if !super::table_exists(conn, "users")? {
        return Ok(false);
    }
    Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM users)", [], |r| r.get(0))?)
}

/// Adds an account; `Ok(None)` when the name is taken.
pub fn add(
    conn: &Connection,
    name: &str,
    role: Role,
    password_hash: &str,
) -> Result<Option<i64>, StoreError> {
    let n = conn.execute(
        "INSERT OR IGNORE INTO users (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![name, role.code(), password_hash, crate::dates::now_timestamp()],
    )?;
    Ok((n == 1).then(|| conn.last_insert_rowid()))
}

/// Disables or enables an account (its sessions end when disabled); false: no such account.
pub fn set_disabled(conn: &Connection, name: &str, disabled: bool) -> Result<bool, StoreError> {
    let n = conn.execute(
        "UPDATE users SET disabled = ?2 WHERE name = ?1",
        params![name, disabled as i64],
    )?;
    if disabled {
        conn.execute(
            "DELETE FROM sessions WHERE user_id IN (SELECT user_id FROM users WHERE name = ?1)",
            [name],
        )?;
    }
    Ok(n == 1)
}

/// Replaces an account's password hash (its sessions end); false: no such account.
pub fn set_password(conn: &Connection, name: &str, hash: &str) -> Result<bool, StoreError> {
    let n = conn.execute(
        "UPDATE users SET password_hash = ?2 WHERE name = ?1",
        params![name, hash],
    )?;
    conn.execute(
        "DELETE FROM sessions WHERE user_id IN (SELECT user_id FROM users WHERE name = ?1)",
        [name],
    )?;
    Ok(n == 1)
}

/// Every account, by name.
pub fn list(conn: &Connection) -> Result<Vec<User>, StoreError> {
    if !super::table_exists(conn, "users")? {
        return Ok(Vec::new());
    }
    let mut st = conn.prepare(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))?;
    let rows = st.query_map([], user_from)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// An account by name, with its password hash.
pub fn by_name(conn: &Connection, name: &str) -> Result<Option<(User, String)>, StoreError> {
    if !super::table_exists(conn, "users")? {
        return Ok(None);
    }
    Ok(conn
        .query_row(
            &format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE name = ?1"),
            [name],
            |r| Ok((user_from(r)?, r.get(5)?)),
        )
        .optional()?)
}

/// Stores a new session (the caller made the token, its hash and the CSRF token).
pub fn create_session(
    conn: &Connection,
    token_hash: &str,
    user_id: i64,
    csrf: &str,
    expires_at: &str,
) -> Result<(), StoreError> {
    let now = crate::dates::now_timestamp();
    // Expired sessions go when new ones come, so the table stays small.
    conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [&now])?;
    conn.execute(
        "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![token_hash, user_id, csrf, now, expires_at],
    )?;
    Ok(())
}

/// The enabled account of a live session and the session's CSRF token.
pub fn session(
    conn: &Connection,
    token_hash: &str,
    now: &str,
) -> Result<Option<(User, String)>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT u.user_id, u.name, u.role, u.disabled, u.created_at, s.csrf
             FROM sessions s JOIN users u ON u.user_id = s.user_id
             WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND u.disabled = 0",
            params![token_hash, now],
            |r| Ok((user_from(r)?, r.get(5)?)),
        )
        .optional()?)
}

/// Ends a session (logout).
pub fn end_session(conn: &Connection, token_hash: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
    Ok(())
}
