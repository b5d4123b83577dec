//! `claimsweep users`: accounts of the web workspace (and of `cases … --user`).

use crate::store::users::{self, Role};
use anyhow::Context;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: UsersCommand,
    /// Database file
    #[arg(long, default_value = "claimsweep.db", global = true)]
    pub db: PathBuf,
}

#[derive(clap::Subcommand, Debug)]
pub enum UsersCommand {
    /// Add an account; the password is read from CLAIMSWEEP_PASSWORD or the first line of stdin
    #[command(
        after_help = "Example:\n  CLAIMSWEEP_PASSWORD=… claimsweep users add 王敏 --role inspector --db audit.db"
    )]
    Add {
        /// Account name (the name history entries carry)
        name: String,
        /// inspector | supervisor | admin
        #[arg(long)]
        role: String,
    },
    /// List accounts
    #[command(after_help = "Example:\n  claimsweep users list --db audit.db")]
    List,
    /// Disable an account (its sessions end)
    #[command(after_help = "Example:\n  claimsweep users disable 王敏 --db audit.db")]
    Disable {
        /// Account name
        name: String,
    },
    /// Enable a disabled account
    #[command(after_help = "Example:\n  claimsweep users enable 王敏 --db audit.db")]
    Enable {
        /// Account name
        name: String,
    },
    /// Set a new password (read like `add`); the account's sessions end
    #[command(after_help = "Example:\n  claimsweep users passwd 王敏 --db audit.db")]
    Passwd {
        /// Account name
        name: String,
    },
}

/// The password from `CLAIMSWEEP_PASSWORD`, else the first line of stdin (never an argument:
/// arguments are visible to every user of the machine).
fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("CLAIMSWEEP_PASSWORD") {
        return Ok(p);
    }
    eprint!("密码 / password: ");
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let conn = crate::cases::open_db(&args.db)?;
    match args.command {
        UsersCommand::Add { name, role } => {
            let role = Role::parse(&role).with_context(|| {
                format!("--role: unknown role `{role}` (inspector, supervisor, admin)")
            })?;
            let name = name.trim();
            anyhow::ensure!(!name.is_empty(), "the account name must not be empty");
            let hash = crate::serve::auth::hash_password(&read_password()?)?;
            users::add(&conn, name, role, &hash)?
                .with_context(|| format!("account `{name}` exists already"))?;
            println!(
                "账号 {name}（{}）已添加 / account {name} ({}) added",
                role.zh(),
                role.code()
            );
        }
        UsersCommand::List => {
            for u in users::list(&conn)? {
                println!(
                    "{}\t{}\t{}\t{}",
                    crate::text::terminal_safe(&u.name),
                    u.role.code(),
                    if u.disabled { "disabled" } else { "enabled" },
                    crate::dates::display_time(&u.created_at, true)
                );
            }
        }
        UsersCommand::Disable { name } => {
            anyhow::ensure!(
                users::set_disabled(&conn, &name, true)?,
                "no account `{name}`"
            );
            println!("账号 {name} 已停用 / account {name} disabled");
        }
        UsersCommand::Enable { name } => {
            anyhow::ensure!(
                users::set_disabled(&conn, &name, false)?,
                "no account `{name}`"
            );
            println!("账号 {name} 已启用 / account {name} enabled");
        }
        UsersCommand::Passwd { name } => {
            let hash = crate::serve::auth::hash_password(&read_password()?)?;
            anyhow::ensure!(
                users::set_password(&conn, &name, &hash)?,
                "no account `{name}`"
            );
            println!("账号 {name} 的密码已更新 / password of {name} changed");
        }
    }
    Ok(())
}
