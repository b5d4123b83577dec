//! Value pools of the generator: surnames with realistic weights, given-name characters,
//! commonly subsidised occupations, area codes of birth places, phone and bank prefixes.

use rand::Rng;

/// Surnames with relative frequencies (per mille of the population, rounded; Shandong-leaning).
pub static SURNAMES: &[(&str, u32)] = &[
    ("王", 90),
    ("李", 78),
    ("张", 76),
    ("刘", 60),
    ("陈", 40),
    ("杨", 35),
    ("赵", 26),
    ("黄", 22),
    ("周", 19),
    ("吴", 18),
    ("徐", 17),
    ("孙", 17),
    ("胡", 13),
    ("朱", 12),
    ("高", 12),
    ("林", 11),
    ("何", 11),
    ("郭", 11),
    ("马", 10),
    ("罗", 8),
    ("梁", 8),
    ("宋", 7),
    ("郑", 7),
    ("谢", 6),
    ("韩", 6),
    ("唐", 6),
    ("冯", 6),
    ("于", 6),
    ("董", 5),
    ("萧", 2),
    ("程", 5),
    ("曹", 5),
    ("袁", 5),
    ("邓", 5),
    ("许", 5),
    ("傅", 4),
    ("沈", 4),
    ("曾", 4),
    ("彭", 4),
    ("吕", 4),
    ("苏", 4),
    ("卢", 4),
    ("蒋", 4),
    ("蔡", 4),
    ("贾", 3),
    ("丁", 3),
    ("魏", 3),
    ("薛", 3),
    ("叶", 3),
    ("阎", 3),
    ("余", 3),
    ("潘", 3),
    ("杜", 3),
    ("戴", 3),
    ("夏", 3),
    ("钟", 3),
    ("汪", 3),
    ("田", 3),
    ("任", 3),
    ("姜", 3),
    ("范", 3),
    ("方", 3),
    ("石", 3),
    ("姚", 3),
    ("谭", 2),
    ("廖", 2),
    ("邹", 2),
    ("熊", 2),
    ("金", 2),
    ("陆", 2),
    ("郝", 2),
    ("孔", 2),
    ("白", 2),
    ("崔", 2),
    ("康", 2),
    ("毛", 2),
    ("邱", 2),
    ("秦", 2),
    ("江", 2),
    ("史", 2),
    ("顾", 2),
    ("侯", 2),
    ("邵", 2),
    ("孟", 2),
    ("龙", 2),
    ("万", 2),
    ("段", 2),
    ("雷", 2),
    ("钱", 2),
    ("汤", 2),
    ("尹", 2),
    ("黎", 1),
    ("易", 1),
    ("常", 1),
    ("武", 1),
    ("乔", 1),
    ("贺", 1),
    ("赖", 1),
    ("龚", 1),
    ("文", 1),
    ("庞", 1),
    ("颜", 1),
    ("公", 1),
    ("诸葛", 1),
    ("欧阳", 1),
];

/// Given-name characters, male-leaning.
pub static GIVEN_MALE: &[char] = &[
    '伟', '强', '磊', '军', '洋', '勇', '杰', '涛', '明', '超', '刚', '平', '辉', '鹏', '飞', '建',
    '国', '文', '力', '斌', '宇', '浩', '凯', '健', '俊', '帅', '鑫', '峰', '波', '志', '海', '东',
    '亮', '成', '庆', '永', '德', '宏', '新', '振', '家', '安', '立', '博', '昊', '轩', '晨', '阳',
    '玮', '炜', '龙', '利', '武', '兵', '春', '林', '华', '民', '金', '云',
];

/// Given-name characters, female-leaning.
pub static GIVEN_FEMALE: &[char] = &[
    '芳', '娜', '敏', '静', '丽', '艳', '娟', '秀', '霞', '桂', '英', '玉', '萍', '红', '琳', '婷',
    '雪', '慧', '莉', '燕', '颖', '玲', '倩', '晶', '梅', '兰', '凤', '云', '洁', '欣', '怡', '佳',
    '嘉', '涵', '丹', '蕾', '薇', '璐', '琪', '晓', '华', '春', '丽', '莹', '影', '婕', '洁', '捷',
    '悦', '月', '岚', '兰', '芬', '芳', '霞', '夏', '静', '晶', '菁', '京',
];

/// Simplified → traditional forms of characters of the pools (names written in traditional
/// characters by some systems). Every pair is checked against `names::normalize` before use.
pub static TRADITIONAL: &[(char, char)] = &[
    ('伟', '偉'),
    ('丽', '麗'),
    ('强', '強'),
    ('军', '軍'),
    ('艳', '艷'),
    ('杰', '傑'),
    ('涛', '濤'),
    ('华', '華'),
    ('红', '紅'),
    ('鹏', '鵬'),
    ('飞', '飛'),
    ('国', '國'),
    ('辉', '輝'),
    ('凯', '凱'),
    ('帅', '帥'),
    ('颖', '穎'),
    ('兰', '蘭'),
    ('凤', '鳳'),
    ('云', '雲'),
    ('洁', '潔'),
    ('阳', '陽'),
    ('东', '東'),
    ('庆', '慶'),
    ('晓', '曉'),
    ('刘', '劉'),
    ('陈', '陳'),
    ('张', '張'),
    ('杨', '楊'),
    ('赵', '趙'),
    ('黄', '黃'),
    ('吴', '吳'),
    ('孙', '孫'),
    ('马', '馬'),
    ('罗', '羅'),
    ('郑', '鄭'),
    ('谢', '謝'),
    ('韩', '韓'),
    ('冯', '馮'),
    ('龙', '龍'),
    ('莹', '瑩'),
    ('岚', '嵐'),
    ('玮', '瑋'),
];

/// Occupations commonly paid under the notice, with weights; codes of the 2022 classification.
pub static COMMON_OCCUPATIONS: &[(&str, u32)] = &[
    ("4-10-01-06", 120), // 家政服务员
    ("6-31-01-03", 80),  // 电工
    ("4-03-02-01", 90),  // 中式烹调师
    ("4-10-01-05", 80),  // 养老护理员
    ("4-03-02-02", 60),  // 中式面点师
    ("4-10-01-01", 40),  // 婴幼儿发展引导员
    ("4-14-02-02", 20),  // 健康管理师
    ("6-29-01-01", 20),  // 砌筑工
    ("4-07-05-01", 25),  // 保安员
    ("4-01-02-01", 30),  // 营销员
    ("4-10-03-01", 30),  // 美容师
    ("5-01-02-01", 40),  // 农艺工
    ("6-25-03-00", 15),  // 计算机及外部设备装配调试员
    ("4-08-08-06", 10),  // 装潢美术设计师
    ("4-13-01-01", 5),   // 群众文化指导员
];

/// Mobile prefixes in use in the period.
pub static PHONE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "170", "176", "177", "178", "180", "181",
    "182", "183", "184", "185", "186", "187", "188", "189", "191", "198", "199",
];

/// Card BINs (6 digits) of banks paying subsidies in Linyi; 19-digit card numbers.
pub static BANK_BINS: &[&str] = &["622848", "621700", "622202", "622188", "623058", "622908"];

/// Birth places outside Linyi (Shandong and elsewhere), current codes.
pub static OTHER_AREAS: &[&str] = &[
    "370102", "370112", "370202", "370211", "370302", "370683", "370702", "370811", "370902",
    "371102", "371121", "371122", "371402", "371502", "371602", "371702", "320102", "320311",
    "410102", "410305", "130102", "340102", "220102", "510104",
];

/// Codes of the former 临沂地区 (retired in 1994): valid for people born before.
pub static OLD_LINYI_AREAS: &[&str] = &[
    "372801", "372822", "372823", "372824", "372827", "372829", "372830", "372831", "372832",
    "372833",
];

/// Codes that were never GB/T 2260 codes (checked against the reference table before use).
pub static NEVER_AREAS: &[&str] = &["379901", "371399", "370099", "999999", "100000", "371388"];

/// Weighted choice from `(item, weight)` pairs via a prepared cumulative table.
pub struct Weighted {
    cumulative: Vec<u32>,
}

impl Weighted {
    pub fn new(weights: impl IntoIterator<Item = u32>) -> Weighted {
        let mut total = 0;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                total += w;
                total
            })
            .collect();
        Weighted { cumulative }
    }

    pub fn pick<R: Rng>(&self, rng: &mut R) -> usize {
        let total = *self.cumulative.last().unwrap_or(&1);
        let x = rng.gen_range(0..total);
        self.cumulative.partition_point(|&c| c <= x)
    }
}

/// A bijection on `0..modulus` (modulus a power of ten): unique numbers from a counter that
/// do not look sequential.
pub fn scramble(x: u64, modulus: u64) -> u64 {
    // Odd and not a multiple of 5, so invertible modulo any power of ten.
    const A: u64 = 7_919_393_117;
    ((x % modulus) as u128 * A as u128 % modulus as u128) as u64
}

/// Luhn check digit of a digit string.
pub fn luhn_digit(digits: &str) -> char {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = (b - b'0') as u32;
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scramble_is_injective_on_a_sample() {
        let mut seen = std::collections::HashSet::new();
        for x in 0..100_000u64 {
            assert!(seen.insert(scramble(x, 100_000_000)));
        }
    }

    #[test]
    fn luhn_matches_a_known_card() {
        // 79927398713 is the textbook Luhn example.
        assert_eq!(luhn_digit("7992739871"), '3');
    }

    #[test]
    fn traditional_pairs_fold_to_simplified() {
        for &(s, t) in TRADITIONAL {
            assert_eq!(
                crate::names::normalize(&t.to_string()),
                s.to_string(),
                "{t}"
            );
        }
    }

    #[test]
    fn occupations_exist_in_reference_data() {
        let rd = crate::refdata::RefData::embedded();
        for (code, _) in COMMON_OCCUPATIONS {
            assert!(rd.occupation_name(code).is_some(), "{code}");
        }
    }
}
