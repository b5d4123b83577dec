//! Writing the tables: plain UTF-8 CSV with English headers, or (`--messy`) GBK-encoded CSV
//! with Chinese headers, shuffled columns and the value variants real exports have.
//!
//! Messiness only changes how a value is spelled, never what it is: a messy dataset and a
//! plain one from the same seed hold the same ledger and the same labels.

use super::GenerateError;
use crate::dates::Date;
use crate::idcode::id_check_char;
use crate::model::{self, Fen, TableSpec};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// One CSV file being written.
pub struct TableWriter {
    path: PathBuf,
    out: BufWriter<File>,
    /// Output position → column index of the table spec.
    order: Vec<usize>,
    messy: bool,
    line: String,
    pub rows: u64,
}

impl TableWriter {
    /// Opens `<dir>/<table>.csv` and writes the header.
    pub fn create(
        dir: &Path,
        spec: &TableSpec,
        messy: bool,
        rng: &mut ChaCha8Rng,
    ) -> Result<TableWriter, GenerateError> {
        let mut order: Vec<usize> = (0..spec.columns.len()).collect();
        if messy {
            order.shuffle(rng);
        }
        let header: Vec<String> = order
            .iter()
            .map(|&i| {
                let c = &spec.columns[i];
                if messy {
                    c.zh[0].to_string()
                } else {
                    c.name.to_string()
                }
            })
            .collect();
        let path = dir.join(format!("{}.csv", spec.name));
        let file = File::create(&path).map_err(|source| GenerateError::Io {
            path: path.clone(),
            source,
        })?;
        let mut w = TableWriter {
            path,
            out: BufWriter::with_capacity(1 << 20, file),
            order: (0..header.len()).collect(),
            messy,
            line: String::with_capacity(512),
            rows: 0,
        };
        w.write_line(&header)?;
        w.order = order;
        w.rows = 0;
        Ok(w)
    }

    /// Writes one row given in the table spec's column order.
    pub fn write(&mut self, fields: &[Cow<str>]) -> Result<(), GenerateError> {
        self.line.clear();
        for (k, &i) in self.order.iter().enumerate() {
            if k > 0 {
                self.line.push(',');
            }
            push_csv_field(&mut self.line, &fields[i]);
        }
        self.line.push_str("\r\n");
        self.flush_line()
    }

    fn write_line(&mut self, fields: &[String]) -> Result<(), GenerateError> {
        self.line.clear();
        for (k, f) in fields.iter().enumerate() {
            if k > 0 {
                self.line.push(',');
            }
            push_csv_field(&mut self.line, f);
        }
        self.line.push_str("\r\n");
        self.flush_line()
    }

    fn flush_line(&mut self) -> Result<(), GenerateError> {
        let res = if self.messy {
            let (bytes, _, _) = encoding_rs::GBK.encode(&self.line);
            self.out.write_all(&bytes)
        } else {
            self.out.write_all(self.line.as_bytes())
        };
        res.map_err(|source| GenerateError::Io {
            path: self.path.clone(),
            source,
        })?;
        self.rows += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<u64, GenerateError> {
        self.out.flush().map_err(|source| GenerateError::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok(self.rows)
    }
}

/// A plain UTF-8 CSV file of ground truth (labels, rings, staged employers).
pub struct PlainWriter {
    path: PathBuf,
    out: BufWriter<File>,
    pub rows: u64,
}

impl PlainWriter {
    pub fn create(dir: &Path, file: &str, header: &str) -> Result<PlainWriter, GenerateError> {
        let path = dir.join(file);
        let f = File::create(&path).map_err(|source| GenerateError::Io {
            path: path.clone(),
            source,
        })?;
        let mut w = PlainWriter {
            path,
            out: BufWriter::with_capacity(1 << 18, f),
            rows: 0,
        };
        w.line(header)?;
        w.rows = 0;
        Ok(w)
    }

    pub fn line(&mut self, text: &str) -> Result<(), GenerateError> {
        self.out
            .write_all(text.as_bytes())
            .and_then(|_| self.out.write_all(b"\n"))
            .map_err(|source| GenerateError::Io {
                path: self.path.clone(),
                source,
            })?;
        self.rows += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<u64, GenerateError> {
        self.out.flush().map_err(|source| GenerateError::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok(self.rows)
    }
}

fn push_csv_field(line: &mut String, f: &str) {
    if f.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        line.push('"');
        for c in f.chars() {
            if c == '"' {
                line.push('"');
            }
            line.push(c);
        }
        line.push('"');
    } else {
        line.push_str(f);
    }
}

/// Spells values as exports do. With `on == false` every value has its canonical form.
pub struct Messer {
    rng: ChaCha8Rng,
    on: bool,
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| {
            if ('!'..='~').contains(&c) {
                char::from_u32(c as u32 + 0xFEE0).unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

impl Messer {
    pub fn new(rng: ChaCha8Rng, on: bool) -> Messer {
        Messer { rng, on }
    }

    fn chance(&mut self, p: f64) -> bool {
        self.on && self.rng.gen_bool(p)
    }

    /// Surrounding spaces or full-width characters on a code-like value.
    pub fn code<'s>(&mut self, s: &'s str) -> Cow<'s, str> {
        if s.is_empty() || !self.on {
            return Cow::Borrowed(s);
        }
        let x: u32 = self.rng.gen_range(0..100);
        if x < 6 {
            Cow::Owned(format!(" {s} "))
        } else if x < 10 {
            Cow::Owned(full_width(s))
        } else {
            Cow::Borrowed(s)
        }
    }

    /// An ID number: spaces, full width, lower-case `x`, or the 15-digit legacy form where the
    /// 18-digit number is a valid one of someone born in the 1900s.
    pub fn id<'s>(&mut self, id: &'s str) -> Cow<'s, str> {
        if !self.on || id.is_empty() {
            return Cow::Borrowed(id);
        }
        let x: u32 = self.rng.gen_range(0..100);
        if x < 8 && legacy_ok(id) {
            let mut s = String::with_capacity(15);
            s.push_str(&id[..6]);
            s.push_str(&id[8..17]);
            return Cow::Owned(s);
        }
        if id.ends_with('X') && x < 50 {
            return Cow::Owned(id.replace('X', "x"));
        }
        if x < 60 {
            return self.code(id);
        }
        Cow::Borrowed(id)
    }

    pub fn name<'s>(&mut self, name: &'s str) -> Cow<'s, str> {
        if self.chance(0.04) {
            Cow::Owned(format!(" {name} "))
        } else {
            Cow::Borrowed(name)
        }
    }

    pub fn date(&mut self, d: Date) -> Cow<'static, str> {
        if !self.on {
            return Cow::Owned(d.to_string());
        }
        let (y, m, dd) = d.ymd();
        Cow::Owned(match self.rng.gen_range(0..100u32) {
            0..=54 => d.to_string(),
            55..=69 => format!("{y}/{m}/{dd}"),
            70..=84 => format!("{y:04}{m:02}{dd:02}"),
            _ => format!("{y}年{m}月{dd}日"),
        })
    }

    pub fn opt_date(&mut self, d: Option<Date>) -> Cow<'static, str> {
        d.map(|d| self.date(d)).unwrap_or_default()
    }

    pub fn amount(&mut self, f: Fen) -> Cow<'static, str> {
        Cow::Owned(self.amount_text(f))
    }

    fn amount_text(&mut self, f: Fen) -> String {
        let plain = model::fen_to_yuan(f);
        if !self.on {
            return plain;
        }
        match self.rng.gen_range(0..100u32) {
            0..=59 => plain,
            60..=84 => {
                let yuan = f / 100;
                let mut digits = yuan.to_string();
                let mut grouped = String::new();
                while digits.len() > 3 {
                    let tail = digits.split_off(digits.len() - 3);
                    grouped = format!(",{tail}{grouped}");
                }
                format!("{digits}{grouped}.{:02}", f % 100)
            }
            _ if f % 100 == 0 => (f / 100).to_string(),
            _ => plain,
        }
    }

    pub fn enum_label(&mut self, code: &'static str, zh: &'static str) -> Cow<'static, str> {
        Cow::Borrowed(if self.chance(0.5) { zh } else { code })
    }

    pub fn level(&mut self, level: Option<u8>) -> Cow<'static, str> {
        const DIGIT: [&str; 6] = ["", "1", "2", "3", "4", "5"];
        const NUM: [&str; 6] = ["", "一", "二", "三", "四", "五"];
        let Some(l) = level.filter(|l| (1..=5).contains(l)) else {
            return Cow::Borrowed("");
        };
        if !self.on {
            return Cow::Borrowed(DIGIT[l as usize]);
        }
        match self.rng.gen_range(0..100u32) {
            0..=49 => Cow::Borrowed(DIGIT[l as usize]),
            50..=69 => Cow::Borrowed(model::level::zh(l)),
            70..=84 if l >= 3 => Cow::Owned(format!("{}工", model::level::zh(l))),
            _ => Cow::Owned(format!("{}级", NUM[l as usize])),
        }
    }
}

/// Whether the 15-digit form of an ID number converts back to exactly this number.
fn legacy_ok(id: &str) -> bool {
    id.len() == 18
        && id.is_ascii()
        && id[6..8] == *"19"
        && id_check_char(&id[..17]).map(|c| id.ends_with(c)) == Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn legacy_form_round_trips() {
        let mut m = Messer::new(ChaCha8Rng::seed_from_u64(1), true);
        let id17 = "37130219850312123";
        let id = format!("{id17}{}", id_check_char(id17).unwrap());
        for _ in 0..200 {
            let spelled = m.id(&id);
            assert_eq!(crate::idcode::normalize_id(&spelled), id, "{spelled}");
        }
    }

    #[test]
    fn amounts_keep_their_value() {
        let mut m = Messer::new(ChaCha8Rng::seed_from_u64(2), true);
        for _ in 0..100 {
            let s = m.amount(123_456_700);
            let back: String = s.chars().filter(|c| *c != ',').collect();
            let v: f64 = back.parse().unwrap();
            assert_eq!((v * 100.0).round() as i64, 123_456_700, "{s}");
        }
    }
}
