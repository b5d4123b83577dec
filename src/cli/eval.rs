//! `claimsweep eval` (being built; see the issue that owns it).

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`eval` is not available in this build yet")
}
