//! `claimsweep serve`: the inspectors' web workspace over the database.

use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Database file
    #[arg(long, default_value = "claimsweep.db")]
    pub db: PathBuf,
    /// Address to listen on; loopback unless told otherwise (port 0: any free port)
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Hours a login lasts
    #[arg(long, default_value_t = 8)]
    pub session_hours: u64,
    /// Mark cookies `Secure` (when an HTTPS proxy stands in front)
    #[arg(long)]
    pub secure_cookies: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let conn = crate::cases::open_db(&args.db)?;
    if !crate::cases::workflow::accounts_in_use(&conn)? {
        eprintln!(
            "尚无账号：先运行 claimsweep users add 姓名 --role admin --db {0} / no accounts yet: run `claimsweep users add NAME --role admin --db {0}` first",
            args.db.display()
        );
    }
    drop(conn);
    crate::serve::run(&crate::serve::ServeOptions {
        db: args.db,
        bind: args.bind,
        session_secs: args.session_hours.max(1) * 3600,
        secure_cookies: args.secure_cookies,
    })?;
    Ok(())
}

/// The end of `claimsweep demo`: demo accounts (an inspector and a supervisor, each with a
/// fresh random password, made only when the database has none) and the `serve` command.
pub fn print_demo_login(db: &std::path::Path, en: bool) -> anyhow::Result<()> {
    let conn = crate::cases::open_db(db)?;
    let mut logins = Vec::new();
    if !crate::cases::workflow::accounts_in_use(&conn)? {
        for (name, role) in [("demo-inspector", crate::store::users::Role::Inspector), ("demo-supervisor", crate::store::users::Role::Supervisor)] {
            let password = crate::serve::auth::random_token()[..12].to_string();
            crate::store::users::add(&conn, name, role, &crate::serve::auth::hash_password(&password)?)?;
            logins.push(format!("{name} / {password}"));
        }
    }
    let cmd = format!("claimsweep serve --db {}", db.display());
    let mut text = if en {
        format!("Web workspace: {cmd}  → http://127.0.0.1:8080\n")
    } else {
        format!("网页工作台 web workspace: {cmd}  → http://127.0.0.1:8080\n")
    };
    if !logins.is_empty() {
        text.push_str(&format!("  {}: {}\n", if en { "demo logins" } else { "演示账号 demo logins" }, logins.join(", ")));
    }
    super::out(&text)
}
