//! Name normalisation and matching on the spellings found in real ledgers.

use claimsweep::names::{normalize, pinyin_of, same_person_name, NameKey};

/// The policy value of `identity.min_jaro_winkler`, read from the embedded policy so the tests
/// follow the file.
fn min_jw() -> f64 {
    claimsweep::policy::PolicySet::embedded_default().policies[0]
        .identity
        .min_jaro_winkler
}

fn same(a: &str, b: &str) -> bool {
    let r = same_person_name(a, b, min_jw());
    assert_eq!(
        r,
        same_person_name(b, a, min_jw()),
        "matching must be symmetric: {a} / {b}"
    );
    r
}

#[test]
fn normalize_folds_width_spaces_dots_case_and_traditional() {
    assert_eq!(normalize("  张 伟 "), "张伟");
    assert_eq!(normalize("張偉"), "张伟");
    assert_eq!(normalize("ＺＨＡＮＧ　ＷＥＩ"), "zhangwei");
    assert_eq!(normalize("阿卜杜·热合曼"), "阿卜杜热合曼");
    assert_eq!(normalize("阿卜杜•热合曼"), "阿卜杜热合曼");
    assert_eq!(normalize("阿卜杜．热合曼"), "阿卜杜热合曼");
    assert_eq!(normalize("歐陽鋒"), "欧阳锋");
    assert_eq!(
        normalize("鄭謝韓許鄧馮蕭葉蘇盧蔣"),
        "郑谢韩许邓冯萧叶苏卢蒋"
    );
    assert_eq!(
        normalize("國東軍紅麗強傑濤龍鳳靜潔輝鵬飛榮雲鋒莊鐘錢嚴賈顧龔譚陸"),
        "国东军红丽强杰涛龙凤静洁辉鹏飞荣云锋庄钟钱严贾顾龚谭陆"
    );
    // Characters that are the same in both scripts, and simplified names, are untouched.
    assert_eq!(normalize("沈燕"), "沈燕");
    assert_eq!(normalize("于乾"), "于乾");
    assert_eq!(normalize(""), "");
}

#[test]
fn normalize_is_idempotent() {
    for n in [
        "  張 偉 ",
        "ＺＨＡＮＧ",
        "阿卜杜·热合曼",
        "王丽",
        "Li Na",
        "劉德華",
        "",
        "·",
    ] {
        let once = normalize(n);
        assert_eq!(normalize(&once), once, "{n}");
    }
}

#[test]
fn spellings_of_one_name_are_the_same_person() {
    assert!(same("张偉", "张伟"));
    assert!(same("張偉", "张伟"));
    assert!(same("ＺＨＡＮＧ", "zhang"));
    assert!(same("李娜", " 李 娜 "));
    assert!(same("李娜", "李娜"));
    assert!(same("阿卜杜·热合曼", "阿卜杜热合曼"));
}

#[test]
fn pinyin_homophones_are_the_same_person() {
    assert!(same("王丽", "王莉"));
    assert!(same("张伟", "张玮"));
    assert!(same("刘洋", "刘阳"));
    assert!(same("陈静", "陈晶"));
    // Traditional and homophone at once.
    assert!(same("劉洋", "刘阳"));
}

#[test]
fn different_names_are_different_people() {
    assert!(!same("张伟", "李娜"));
    assert!(!same("王丽", "王磊"), "li and lei differ");
    assert!(!same("王丽", "王力宏"), "different length");
    assert!(
        !same("张伟", "张伟强"),
        "an added character is another given name"
    );
    assert!(!same("张伟", "章伟强"));
    assert!(!same("刘洋", "刘海"));
    assert!(!same("李娜", ""));
}

#[test]
fn typing_variants_need_long_names_and_the_policy_similarity() {
    // One character off in a long name: Jaro-Winkler 0.88 ≥ 0.85.
    assert!(same("欧阳建国华", "欧阳建国平"));
    assert!(same("zhangwei", "zhangwel"));
    // Two characters off: not a slip.
    assert!(!same("欧阳建国华", "欧阳建民平"));
    // Two-character names with different sounds: Jaro-Winkler 0.70, below the threshold.
    assert!(!same("张伟", "张三"));
    // The threshold is the caller's: at 0.6 a one-character slip in a short name is accepted.
    assert!(same_person_name("张伟", "张三", 0.6));
    assert!(!same_person_name("欧阳建国华", "欧阳建国平", 0.95));
}

#[test]
fn a_name_written_in_pinyin_is_the_same_name() {
    assert!(same("ZHANG WEI", "张伟"));
    assert!(same("Ｚｈａｎｇ　Ｗｅｉ", "張偉"));
    assert!(same("lv li", "吕丽"));
    assert!(same("lyuli", "吕丽"));
    assert!(!same("ZHANG WEI", "李娜"));
    assert!(
        !same("zhangwei", "张伟强"),
        "every character must be spelled"
    );
    assert!(!same("zhang", "张伟"));
}

#[test]
fn polyphonic_surnames_read_as_surnames() {
    assert_eq!(pinyin_of("单伟"), ["shan", "wei"]);
    assert_eq!(pinyin_of("曾丽")[0], "zeng");
    assert_eq!(pinyin_of("解放")[0], "xie");
    assert_eq!(pinyin_of("仇明")[0], "qiu");
    assert_eq!(pinyin_of("朴树")[0], "piao");
    assert_eq!(pinyin_of("区华")[0], "ou");
    assert_eq!(pinyin_of("翟勇")[0], "zhai");
    // 单 as a surname is Shan, so it sounds like 善 (shan) and not like 丹 (dan).
    assert!(same("单伟", "善伟"));
    assert!(!same("单伟", "丹伟"));
    // Outside the surname position every reading counts: 乐 (le/yue) sounds like 月.
    assert!(same("王乐", "王月"));
}

#[test]
fn name_keys_match_like_the_function() {
    let a = NameKey::new("張偉");
    let b = NameKey::new("张玮");
    assert_eq!(a.normalized, "张伟");
    assert!(a.sounds_like(&b));
    assert!(!a.typing_variant_of(&b, 0.85));
    assert!(a.same_person(&b, 0.85));
    assert!(NameKey::new("  ").is_empty());
}
