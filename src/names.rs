//! Chinese personal names: normalisation and "same spelling of one name" matching.
//!
//! A name typed into a ledger may differ from the same person's name elsewhere by width
//! (`ＺＨＡＮＧ`), spaces and middle dots (`阿卜杜·热合曼`), traditional characters (`張偉`),
//! a homophone picked from a pinyin input method (`王莉` for `王丽`) or a typing slip in a long
//! name. [`normalize`] removes the first three; [`same_person_name`] accepts the last two.
//!
//! Decisions (documented because `identity_conflict` depends on them):
//! - Names of different length are different names: `张伟` and `张伟强` are two people, and so
//!   are `王丽` and `王力宏` (a dropped or added character is a different given name in practice).
//! - Homophones: same length and, position by position, a common toneless reading. Every
//!   reading of a polyphonic character counts (`乐` le/yue), except in the surname position,
//!   where the surname reading of [`SURNAME_READINGS`] replaces the dictionary readings
//!   (`单` as a surname is shan, never dan).
//! - Typing variants: same length, exactly one character different, and Jaro-Winkler on
//!   characters ≥ the policy's `identity.min_jaro_winkler`. With 0.85 this admits slips in names
//!   of four or more characters and in romanised names, not in two- or three-character names
//!   (`张伟`/`张玮` is judged by its pinyin, not by this test).
//! - A name in Latin letters matches a Chinese name it spells in toneless pinyin
//!   (`ZHANG WEI` / `张伟`); otherwise Latin and Chinese names are different names.
//! - Never `strsim::sorensen_dice`: it counts bytes, which is meaningless for Chinese.

use pinyin::ToPinyinMulti;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Traditional → simplified table shipped as data (see the file's header for its source).
const TRAD2SIMP: &str = include_str!("../data/trad2simp.txt");

fn trad2simp() -> &'static HashMap<char, char> {
    static TABLE: OnceLock<HashMap<char, char>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut m = HashMap::new();
        for (i, line) in TRAD2SIMP.lines().enumerate() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut it = line.split('\t').map(|f| f.chars());
            let pair = match (it.next(), it.next()) {
                (Some(mut t), Some(mut s)) => (t.next(), t.next(), s.next(), s.next()),
                _ => (None, None, None, None),
            };
            match pair {
                (Some(t), None, Some(s), None) => {
                    m.insert(t, s);
                }
                // The table is compiled in: a malformed line is a build defect, caught by tests.
                _ => panic!(
                    "data/trad2simp.txt:{}: expected `traditional<TAB>simplified`",
                    i + 1
                ),
            }
        }
        m
    })
}

/// Number of traditional characters the shipped table converts.
pub fn trad2simp_len() -> usize {
    trad2simp().len()
}

/// Separators that appear inside names and carry no meaning: spaces of every kind and the
/// middle-dot variants used in transcribed minority and foreign names.
fn is_name_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '·' | '•'
                | '．'
                | '.'
                | '・'
                | '‧'
                | '∙'
                | '⋅'
                | '･'
                | '\u{200B}'
                | '\u{FEFF}'
                | '\u{00A0}'
        )
}

/// The canonical spelling of a name: trimmed, without inner spaces or middle dots, full-width
/// folded to half-width, Latin letters lower-cased, traditional characters simplified.
/// Idempotent: `normalize(normalize(x)) == normalize(x)`.
pub fn normalize(name: &str) -> String {
    let table = trad2simp();
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let c = crate::text::fold_char(c);
        if is_name_separator(c) {
            continue;
        }
        let c = c.to_ascii_lowercase();
        out.push(*table.get(&c).unwrap_or(&c));
    }
    out
}

/// Readings of polyphonic characters when they are a surname (toneless pinyin). These replace
/// the dictionary readings in the first position of a name.
pub static SURNAME_READINGS: &[(char, &[&str])] = &[
    ('单', &["shan"]),
    ('曾', &["zeng"]),
    ('解', &["xie"]),
    ('仇', &["qiu"]),
    ('朴', &["piao"]),
    ('查', &["zha"]),
    ('区', &["ou"]),
    ('盖', &["ge"]),
    ('乐', &["yue", "le"]),
    // 尉 alone is Wei; in 尉迟 it is Yu.
    ('尉', &["yu", "wei"]),
    ('折', &["she"]),
    ('种', &["chong"]),
    ('翟', &["zhai"]),
    ('覃', &["qin"]),
    ('缪', &["miao"]),
    ('秘', &["bi"]),
    ('召', &["shao"]),
    ('繁', &["po"]),
    ('句', &["gou"]),
    ('员', &["yun"]),
    ('宿', &["su"]),
    ('柏', &["bai"]),
    ('薄', &["bo"]),
    ('隗', &["wei"]),
    ('黑', &["he"]),
    ('任', &["ren"]),
    ('沈', &["shen"]),
    ('车', &["che"]),
    ('卜', &["bu"]),
    ('藏', &["zang"]),
    ('祭', &["zhai"]),
    ('都', &["du"]),
    ('过', &["guo"]),
    ('能', &["nai"]),
    ('贲', &["ben"]),
    ('佴', &["nai"]),
    ('纪', &["ji"]),
    ('么', &["yao"]),
    ('牟', &["mu", "mou"]),
    ('长', &["zhang"]),
    ('令', &["ling"]),
    ('万', &["wan", "mo"]),
    ('叶', &["ye"]),
    ('石', &["shi"]),
    ('华', &["hua"]),
    ('朝', &["chao"]),
    ('番', &["pan"]),
    ('洗', &["xian"]),
    ('冼', &["xian"]),
    ('谌', &["chen", "shen"]),
    ('阚', &["kan"]),
    ('哈', &["ha"]),
    ('燕', &["yan"]),
    ('应', &["ying"]),
    ('相', &["xiang"]),
    ('将', &["jiang"]),
    ('强', &["qiang"]),
    ('重', &["chong"]),
    ('调', &["diao"]),
    ('戚', &["qi"]),
    ('蕃', &["pi", "fan"]),
    ('眭', &["sui"]),
];

fn surname_readings(c: char) -> Option<&'static [&'static str]> {
    SURNAME_READINGS
        .iter()
        .find(|(s, _)| *s == c)
        .map(|(_, r)| *r)
}

/// How one character of a name sounds: its toneless pinyin readings, or — for characters
/// without pinyin (Latin letters, digits, rare characters) — the character itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sound {
    Readings(Vec<&'static str>),
    Literal(char),
}

impl Sound {
    fn of(c: char, surname_position: bool) -> Sound {
        if surname_position {
            if let Some(r) = surname_readings(c) {
                return Sound::Readings(r.to_vec());
            }
        }
        match c.to_pinyin_multi() {
            Some(multi) => {
                // Keep the crate's order (most common reading first) while dropping repeats
                // that differ only in tone.
                let mut r: Vec<&'static str> = Vec::new();
                for p in multi.into_iter() {
                    if !r.contains(&p.plain()) {
                        r.push(p.plain());
                    }
                }
                if r.is_empty() {
                    Sound::Literal(c)
                } else {
                    Sound::Readings(r)
                }
            }
            None => Sound::Literal(c),
        }
    }

    /// Two characters sound alike when they share a toneless reading.
    fn alike(&self, other: &Sound) -> bool {
        match (self, other) {
            (Sound::Readings(a), Sound::Readings(b)) => a.iter().any(|x| b.contains(x)),
            (Sound::Literal(a), Sound::Literal(b)) => a == b,
            _ => false,
        }
    }

    /// The most common reading, or the literal character.
    pub fn primary(&self) -> String {
        match self {
            Sound::Readings(r) => r[0].to_string(),
            Sound::Literal(c) => c.to_string(),
        }
    }
}

/// A name prepared for matching: its normalised spelling and the sound of each character.
/// Build once per distinct name and compare many times.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameKey {
    pub normalized: String,
    chars: Vec<char>,
    sounds: Vec<Sound>,
}

impl NameKey {
    pub fn new(name: &str) -> NameKey {
        let normalized = normalize(name);
        let chars: Vec<char> = normalized.chars().collect();
        let sounds = chars
            .iter()
            .enumerate()
            .map(|(i, &c)| Sound::of(c, i == 0))
            .collect();
        NameKey {
            normalized,
            chars,
            sounds,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// Toneless pinyin of each character (first reading; surname reading in first position).
    pub fn pinyin(&self) -> Vec<String> {
        self.sounds.iter().map(Sound::primary).collect()
    }

    /// Same length and, position by position, a common toneless reading.
    pub fn sounds_like(&self, other: &NameKey) -> bool {
        self.sounds.len() == other.sounds.len()
            && self
                .sounds
                .iter()
                .zip(&other.sounds)
                .all(|(a, b)| a.alike(b))
    }

    /// Same length, exactly one character different, Jaro-Winkler on characters ≥ `min_jw`.
    pub fn typing_variant_of(&self, other: &NameKey, min_jw: f64) -> bool {
        if self.chars.len() != other.chars.len() {
            return false;
        }
        let differing = self
            .chars
            .iter()
            .zip(&other.chars)
            .filter(|(a, b)| a != b)
            .count();
        differing == 1 && strsim::jaro_winkler(&self.normalized, &other.normalized) >= min_jw
    }

    /// See [`same_person_name`].
    pub fn same_person(&self, other: &NameKey, min_jw: f64) -> bool {
        self.normalized == other.normalized
            || self.sounds_like(other)
            || self.typing_variant_of(other, min_jw)
            || self.romanises(other)
            || other.romanises(self)
    }

    /// This name is the toneless pinyin of `other` written in Latin letters (`ZHANG WEI` for
    /// `张伟`; `ü` may be written `v` or `u`).
    pub fn romanises(&self, other: &NameKey) -> bool {
        let latin = self.normalized.as_bytes();
        !latin.is_empty()
            && latin.iter().all(u8::is_ascii_lowercase)
            && other.sounds.iter().all(|s| matches!(s, Sound::Readings(_)))
            && spells(latin, &other.sounds)
    }
}

/// Whether `latin` is the concatenation of one reading of each sound, in order.
fn spells(latin: &[u8], sounds: &[Sound]) -> bool {
    let Some((first, rest)) = sounds.split_first() else {
        return latin.is_empty();
    };
    let Sound::Readings(readings) = first else {
        return false;
    };
    readings.iter().any(|r| {
        let spellings: [Option<String>; 3] = if r.contains('ü') {
            [
                Some(r.replace('ü', "v")),
                Some(r.replace('ü', "u")),
                Some(r.replace('ü', "yu")),
            ]
        } else {
            [Some(r.to_string()), None, None]
        };
        spellings
            .iter()
            .flatten()
            .any(|sp| latin.starts_with(sp.as_bytes()) && spells(&latin[sp.len()..], rest))
    })
}

/// True when `a` and `b` are spellings of one name: equal after [`normalize`], homophones
/// (same length, equal toneless pinyin), a one-character typing variant with Jaro-Winkler
/// ≥ `min_jw`, or one is the other written in pinyin. See the module documentation for the decisions behind each test.
pub fn same_person_name(a: &str, b: &str, min_jw: f64) -> bool {
    NameKey::new(a).same_person(&NameKey::new(b), min_jw)
}

/// Toneless pinyin of a name, one syllable per character (see [`NameKey::pinyin`]).
pub fn pinyin_of(name: &str) -> Vec<String> {
    NameKey::new(name).pinyin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_and_covers_common_surnames() {
        assert!(trad2simp_len() > 2000);
        assert_eq!(normalize("劉陳張楊趙黃"), "刘陈张杨赵黄");
    }

    #[test]
    fn surname_override_applies_only_in_first_position() {
        assert_eq!(pinyin_of("单伟"), ["shan", "wei"]);
        assert_eq!(pinyin_of("曾国藩")[0], "zeng");
    }
}
