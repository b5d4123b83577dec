//! `claimsweep ingest` (being built; see the issue that owns it).

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`ingest` is not available in this build yet")
}
