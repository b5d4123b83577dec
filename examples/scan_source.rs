//! How long reading a source's files before loading them takes (hash, UTF-8 check, line
//! count), three times: `cargo run --release --example scan_source -- DIR`. The first run may
//! read from disk; the next ones read the page cache.

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: scan_source DIR");
        std::process::exit(2);
    };
    for _ in 0..3 {
        let t = std::time::Instant::now();
        match claimsweep::input::read_source(std::path::Path::new(&path)) {
            Ok(s) => eprintln!(
                "read_source {:.2} s, {} tables, content {}",
                t.elapsed().as_secs_f64(),
                s.tables.len(),
                &s.content_hash[..12]
            ),
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        }
    }
}
