//! Table files compressed as a whole: `claims.csv.gz` (gzip, as bureaus' export tools and
//! mail gateways make them) and `claims.csv.zst` (Zstandard, which decompresses several times
//! faster than gzip: for ledgers of tens of millions of claims). The input
//! stage reads them as it reads `claims.csv`; `generate --compress` writes them.
//!
//! Ground floor: the input stage and the generator both use it; it knows nothing of tables.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::Path;

/// How a CSV file is stored (also `generate --compress none|gz|zst`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Compression {
    /// Plain text: `claims.csv`.
    #[default]
    None,
    /// `claims.csv.gz`: one gzip stream, or several one after another (as `cat a.gz b.gz`).
    #[value(name = "gz")]
    Gzip,
    /// `claims.csv.zst`: one Zstandard frame, or several one after another.
    #[value(name = "zst")]
    Zstd,
}

/// Zstandard's level for written files: 3, its default (the generator's CSV comes to about a
/// quarter of its size).
const ZSTD_LEVEL: i32 = 3;

impl Compression {
    /// The file name's suffix after `.csv`.
    pub fn suffix(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip => ".gz",
            Compression::Zstd => ".zst",
        }
    }

    /// A CSV file's table name (its name without `.csv` and the compression's suffix) and
    /// its compression, from its file name: `claims.csv`, `claims.csv.gz`, `claims.csv.zst`,
    /// in any case. `None` for any other name.
    pub fn of_csv_name(name: &str) -> Option<(&str, Compression)> {
        let lower = name.to_ascii_lowercase();
        // ASCII lower-casing keeps every byte offset, so `name` is cut where `lower` is.
        for c in [Compression::Gzip, Compression::Zstd, Compression::None] {
            let suffix = format!(".csv{}", c.suffix());
            if lower.ends_with(&suffix) && lower.len() > suffix.len() {
                return Some((&name[..name.len() - suffix.len()], c));
            }
        }
        None
    }

    /// The file's content, decompressed as it is read.
    pub fn reader(self, file: File) -> std::io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Compression::None => Box::new(file),
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(file))),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(file)?),
        })
    }

    /// A writer that compresses into `file`; [`CompressedWriter::finish`] ends the stream.
    pub fn writer(self, file: File) -> std::io::Result<CompressedWriter> {
        Ok(match self {
            Compression::None => CompressedWriter::Plain(file),
            Compression::Gzip => CompressedWriter::Gzip(flate2::write::GzEncoder::new(
                file,
                flate2::Compression::default(),
            )),
            Compression::Zstd => {
                CompressedWriter::Zstd(zstd::stream::write::Encoder::new(file, ZSTD_LEVEL)?)
            }
        })
    }
}

/// Reads the whole file `path`, decompressed.
pub fn read_all(path: &Path, compression: Compression) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    compression
        .reader(File::open(path)?)?
        .read_to_end(&mut out)?;
    Ok(out)
}

/// A file being written, compressed or not.
pub enum CompressedWriter {
    Plain(File),
    Gzip(flate2::write::GzEncoder<File>),
    Zstd(zstd::stream::write::Encoder<'static, File>),
}

impl CompressedWriter {
    /// Ends the compressed stream (its last block and checksum) and flushes the file: a
    /// stream not finished is cut short, and a reader fails on it.
    pub fn finish(self) -> std::io::Result<()> {
        let mut file = match self {
            CompressedWriter::Plain(f) => f,
            CompressedWriter::Gzip(e) => e.finish()?,
            CompressedWriter::Zstd(e) => e.finish()?,
        };
        file.flush()
    }
}

impl Write for CompressedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            CompressedWriter::Plain(f) => f.write(buf),
            CompressedWriter::Gzip(e) => e.write(buf),
            CompressedWriter::Zstd(e) => e.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            CompressedWriter::Plain(f) => f.flush(),
            CompressedWriter::Gzip(e) => e.flush(),
            CompressedWriter::Zstd(e) => e.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_cut_before_csv_and_the_compression() {
        assert_eq!(
            Compression::of_csv_name("claims.csv"),
            Some(("claims", Compression::None))
        );
        assert_eq!(
            Compression::of_csv_name("Claims.CSV.GZ"),
            Some(("Claims", Compression::Gzip))
        );
        assert_eq!(
            Compression::of_csv_name("补贴申领.csv.zst"),
            Some(("补贴申领", Compression::Zstd))
        );
        for other in [
            "claims.gz",
            "claims.csv.bz2",
            "claims.zst",
            ".csv",
            ".csv.gz",
            "x.txt",
        ] {
            assert_eq!(Compression::of_csv_name(other), None, "{other}");
        }
    }

    #[test]
    fn what_is_written_reads_back_for_each_compression() {
        let dir = tempfile::tempdir().unwrap();
        let text: String = (0..20_000).map(|i| format!("C{i},张三{i}\r\n")).collect();
        for c in [Compression::None, Compression::Gzip, Compression::Zstd] {
            let path = dir.path().join(format!("t.csv{}", c.suffix()));
            let mut w = c.writer(File::create(&path).unwrap()).unwrap();
            w.write_all(text.as_bytes()).unwrap();
            w.finish().unwrap();
            let size = std::fs::metadata(&path).unwrap().len() as usize;
            assert_eq!(
                size < text.len(),
                c != Compression::None,
                "{c:?}: {size} bytes"
            );
            assert_eq!(read_all(&path, c).unwrap(), text.as_bytes(), "{c:?}");
        }
    }

    #[test]
    fn a_stream_cut_short_is_an_error_not_a_shorter_file() {
        let dir = tempfile::tempdir().unwrap();
        let text: String = (0..20_000).map(|i| format!("C{i},{i}\n")).collect();
        for c in [Compression::Gzip, Compression::Zstd] {
            let path = dir.path().join(format!("t.csv{}", c.suffix()));
            let mut w = c.writer(File::create(&path).unwrap()).unwrap();
            w.write_all(text.as_bytes()).unwrap();
            w.finish().unwrap();
            let whole = std::fs::read(&path).unwrap();
            std::fs::write(&path, &whole[..whole.len() - 8]).unwrap();
            assert!(read_all(&path, c).is_err(), "{c:?}");
        }
    }
}
