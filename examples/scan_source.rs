fn main() {
    let p = std::env::args().nth(1).unwrap();
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let s = claimsweep::input::read_source(std::path::Path::new(&p)).unwrap();
        eprintln!("read_source {:?} {}", t.elapsed(), &s.content_hash[..12]);
    }
}
