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

// ---- explaining a match to an inspector ------------------------------------------------------

/// What normalisation changed in one spelling, so an inspector can see why two spellings are
/// compared as they are.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Spelling {
    /// As the ledger has it.
    pub raw: String,
    /// After [`normalize`].
    pub normalized: String,
    /// Full-width characters folded to half-width (`Ｚ` → `Z`).
    pub width_folded: Vec<(char, char)>,
    /// Spaces and middle dots removed.
    pub separators_removed: usize,
    /// Traditional characters simplified (`張` → `张`).
    pub simplified: Vec<(char, char)>,
    /// Toneless readings of each character of the normalised spelling (surname reading first
    /// in the first position); a character without pinyin stands for itself.
    pub readings: Vec<Vec<String>>,
}

impl Spelling {
    pub fn of(raw: &str) -> Spelling {
        let table = trad2simp();
        let mut width_folded = Vec::new();
        let mut simplified = Vec::new();
        let mut separators_removed = 0;
        for c in raw.trim().chars() {
            let f = crate::text::fold_char(c);
            if f != c {
                width_folded.push((c, f));
            }
            if is_name_separator(f) {
                separators_removed += 1;
                continue;
            }
            let l = f.to_ascii_lowercase();
            if let Some(&s) = table.get(&l) {
                simplified.push((l, s));
            }
        }
        let key = NameKey::new(raw);
        let readings = key
            .sounds
            .iter()
            .map(|s| match s {
                Sound::Readings(r) => r.iter().map(|x| x.to_string()).collect(),
                Sound::Literal(c) => vec![c.to_string()],
            })
            .collect();
        Spelling {
            raw: raw.to_string(),
            normalized: key.normalized,
            width_folded,
            separators_removed,
            simplified,
            readings,
        }
    }
}

/// Which test of [`same_person_name`] decided, or why none did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NameVerdict {
    /// Equal after normalisation.
    SameSpelling,
    /// Same length and a common toneless reading at every position.
    Homophone,
    /// One character different and Jaro-Winkler at or above the policy's threshold.
    TypingVariant,
    /// One is the other written in pinyin.
    Romanised,
    /// Different numbers of characters: different given names.
    DifferentLength,
    /// Same length, but some position has no reading in common and it is not a typing slip.
    DifferentSound,
}

impl NameVerdict {
    pub fn is_same(self) -> bool {
        matches!(
            self,
            NameVerdict::SameSpelling
                | NameVerdict::Homophone
                | NameVerdict::TypingVariant
                | NameVerdict::Romanised
        )
    }
}

/// One position of two equally long names compared.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Position {
    pub a: char,
    pub b: char,
    /// Readings the two characters share (empty: they sound different).
    pub shared: Vec<String>,
}

/// Why two spellings are, or are not, one name: the field-by-field account behind
/// [`same_person_name`], for case pages.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct NameMatch {
    pub a: Spelling,
    pub b: Spelling,
    pub verdict: NameVerdict,
    /// Position by position, when the two have the same number of characters.
    pub positions: Vec<Position>,
    /// Jaro-Winkler similarity of the normalised spellings, and the threshold it is held to.
    pub jaro_winkler: f64,
    pub min_jaro_winkler: f64,
}

/// Explains [`same_person_name`]`(a, b, min_jw)`: its verdict is always the same as that
/// function's answer (tested).
pub fn explain(a: &str, b: &str, min_jw: f64) -> NameMatch {
    let (ka, kb) = (NameKey::new(a), NameKey::new(b));
    let verdict = if ka.normalized == kb.normalized {
        NameVerdict::SameSpelling
    } else if ka.sounds_like(&kb) {
        NameVerdict::Homophone
    } else if ka.typing_variant_of(&kb, min_jw) {
        NameVerdict::TypingVariant
    } else if ka.romanises(&kb) || kb.romanises(&ka) {
        NameVerdict::Romanised
    } else if ka.chars.len() != kb.chars.len() {
        NameVerdict::DifferentLength
    } else {
        NameVerdict::DifferentSound
    };
    let positions = if ka.chars.len() == kb.chars.len() {
        (0..ka.chars.len())
            .map(|i| Position {
                a: ka.chars[i],
                b: kb.chars[i],
                shared: match (&ka.sounds[i], &kb.sounds[i]) {
                    (Sound::Readings(x), Sound::Readings(y)) => x
                        .iter()
                        .filter(|r| y.contains(r))
                        .map(|r| r.to_string())
                        .collect(),
                    (Sound::Literal(x), Sound::Literal(y)) if x == y => vec![x.to_string()],
                    _ => Vec::new(),
                },
            })
            .collect()
    } else {
        Vec::new()
    };
    NameMatch {
        jaro_winkler: strsim::jaro_winkler(&ka.normalized, &kb.normalized),
        a: Spelling::of(a),
        b: Spelling::of(b),
        verdict,
        positions,
        min_jaro_winkler: min_jw,
    }
}

impl NameMatch {
    /// The explanation as lines for a person: Chinese, or English when `english`.
    pub fn lines(&self, english: bool) -> Vec<String> {
        let mut out = Vec::new();
        for (label, s) in [("A", &self.a), ("B", &self.b)] {
            let pinyin: Vec<String> = s.readings.iter().map(|r| r.join("/")).collect();
            let mut changes = Vec::new();
            if !s.width_folded.is_empty() {
                changes.push(if english {
                    format!("{} full-width character(s) folded", s.width_folded.len())
                } else {
                    format!("全角转半角 {} 个", s.width_folded.len())
                });
            }
            if s.separators_removed > 0 {
                changes.push(if english {
                    format!("{} space(s)/middle dot(s) removed", s.separators_removed)
                } else {
                    format!("去掉空格或间隔号 {} 个", s.separators_removed)
                });
            }
            if !s.simplified.is_empty() {
                let pairs: Vec<String> = s
                    .simplified
                    .iter()
                    .map(|(t, x)| format!("{t}→{x}"))
                    .collect();
                changes.push(if english {
                    format!("traditional to simplified: {}", pairs.join(", "))
                } else {
                    format!("繁转简：{}", pairs.join("、"))
                });
            }
            let changes = if changes.is_empty() {
                if english {
                    "unchanged".to_string()
                } else {
                    "无变化".to_string()
                }
            } else {
                changes.join(if english { "; " } else { "；" })
            };
            out.push(if english {
                format!(
                    "{label}: “{}” → “{}” ({changes}); pinyin {}",
                    s.raw,
                    s.normalized,
                    pinyin.join(" ")
                )
            } else {
                format!(
                    "{label}：“{}” → 规范写法“{}”（{changes}）；拼音 {}",
                    s.raw,
                    s.normalized,
                    pinyin.join(" ")
                )
            });
        }
        if !self.positions.is_empty() {
            let cells: Vec<String> = self
                .positions
                .iter()
                .map(|p| {
                    if p.a == p.b {
                        format!("{}={}", p.a, p.b)
                    } else if !p.shared.is_empty() {
                        format!("{}≈{}({})", p.a, p.b, p.shared.join("/"))
                    } else {
                        format!("{}≠{}", p.a, p.b)
                    }
                })
                .collect();
            out.push(if english {
                format!("Character by character: {}", cells.join("  "))
            } else {
                format!("逐字比对：{}", cells.join("  "))
            });
        }
        let jw = format!("{:.3}", self.jaro_winkler);
        let min = format!("{:.2}", self.min_jaro_winkler);
        out.push(match (self.verdict, english) {
            (NameVerdict::SameSpelling, false) => "结论：规范写法相同，视为同一姓名。".into(),
            (NameVerdict::SameSpelling, true) => {
                "Verdict: the same spelling once normalised — one name.".into()
            }
            (NameVerdict::Homophone, false) => {
                "结论：字数相同、逐字同音（不计声调），视为同一姓名的同音写法。".into()
            }
            (NameVerdict::Homophone, true) => {
                "Verdict: same length and every character shares a toneless reading — homophone spellings of one name.".into()
            }
            (NameVerdict::TypingVariant, false) => format!(
                "结论：仅一字不同，相似度 {jw} ≥ 阈值 {min}，视为录入笔误。"
            ),
            (NameVerdict::TypingVariant, true) => format!(
                "Verdict: one character differs and Jaro-Winkler {jw} ≥ threshold {min} — a typing slip."
            ),
            (NameVerdict::Romanised, false) => "结论：一方是另一方的拼音写法，视为同一姓名。".into(),
            (NameVerdict::Romanised, true) => {
                "Verdict: one is the other written in pinyin — one name.".into()
            }
            (NameVerdict::DifferentLength, false) => {
                "结论：字数不同，视为不同姓名（多一字或少一字通常是另一个人）。".into()
            }
            (NameVerdict::DifferentLength, true) => {
                "Verdict: different numbers of characters — different names.".into()
            }
            (NameVerdict::DifferentSound, false) => format!(
                "结论：有字读音不同，且不属于一字笔误（相似度 {jw}，阈值 {min}），视为不同姓名。"
            ),
            (NameVerdict::DifferentSound, true) => format!(
                "Verdict: some character sounds different and it is not a one-character slip (Jaro-Winkler {jw}, threshold {min}) — different names."
            ),
        });
        out
    }
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
    fn explain_agrees_with_the_matcher_and_says_why() {
        let pairs = [
            ("张伟", "張偉"),
            ("王丽", "王莉"),
            ("张伟", "张伟强"),
            ("ＺＨＡＮＧ ＷＥＩ", "张伟"),
            ("阿卜杜·热合曼", "阿卜杜热合曼"),
            ("张伟", "李娜"),
            ("欧阳娜娜娜", "欧阳娜娜纳"),
            ("欧阳娜娜娜", "欧阳娜娜丽"),
        ];
        for (a, b) in pairs {
            let m = explain(a, b, 0.85);
            assert_eq!(
                m.verdict.is_same(),
                same_person_name(a, b, 0.85),
                "{a} / {b}"
            );
        }
        let m = explain("張偉", "张伟", 0.85);
        assert_eq!(m.verdict, NameVerdict::SameSpelling);
        assert_eq!(m.a.simplified, vec![('張', '张'), ('偉', '伟')]);
        assert!(
            m.lines(false)[0].contains("繁转简：張→张、偉→伟"),
            "{:?}",
            m.lines(false)
        );
        let m = explain("王丽", "王莉", 0.85);
        assert_eq!(m.verdict, NameVerdict::Homophone);
        assert_eq!(m.positions[1].shared, vec!["li".to_string()]);
        assert!(m.lines(false)[2].contains("丽≈莉(li)"));
        let m = explain("张伟", "张伟强", 0.85);
        assert_eq!(m.verdict, NameVerdict::DifferentLength);
        let m = explain("ＺＨＡＮＧ ＷＥＩ", "张伟", 0.85);
        assert_eq!(m.verdict, NameVerdict::Romanised);
        assert_eq!(m.a.width_folded.len(), 8);
        assert_eq!(m.a.separators_removed, 1);
        let m = explain("张伟", "李娜", 0.85);
        assert_eq!(m.verdict, NameVerdict::DifferentSound);
        assert!(m.lines(true).last().unwrap().contains("different names"));
    }

    #[test]
    fn surname_override_applies_only_in_first_position() {
        assert_eq!(pinyin_of("单伟"), ["shan", "wei"]);
        assert_eq!(pinyin_of("曾国藩")[0], "zeng");
    }
}
