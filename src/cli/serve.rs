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
