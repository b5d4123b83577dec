//! The import direction of ARCHITECTURE.md, checked: every module imports only modules on a
//! lower floor (the order data flows), and the files of one module import each other without
//! loops. Test code (`#[cfg(test)]` and below) is exempt: a test may build its input from any
//! stage.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Floors, lowest first. A module may import its own floor's ground types only when they are on
/// a lower floor; modules on one floor do not import each other.
const FLOORS: &[&[&str]] = &[
    &["text", "dates", "memory", "intern", "compression"],
    &["output"],
    &["model"],
    &["refdata", "names", "money"],
    &["idcode"],
    &["policy"],
    &["finding"],
    &["input"],
    &["store"],
    &["snapshot"],
    &["resolve"],
    &["rules"],
    &["graph"],
    &["cases"],
    &["report", "handoff"],
    &["sweep"],
    &["eval"],
    &["generate"],
    &["serve"],
    &["cli"],
];

fn floor_of(module: &str) -> Option<usize> {
    FLOORS.iter().position(|f| f.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The file's code before its test module.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    match text.find("#[cfg(test)]") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Every `prefix::name` in `code`, as `name`.
fn paths_after<'a>(code: &'a str, prefix: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    code.match_indices(prefix).filter_map(move |(i, _)| {
        let rest = &code[i + prefix.len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        (end > 0).then(|| &rest[..end])
    })
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn imports_run_down_the_floors() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    let mut wrong = Vec::new();
    for path in &files {
        let rel = path.strip_prefix(src()).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(floor) = floor_of(&module) else {
            wrong.push(format!(
                "{}: module {module} is on no floor of this test",
                rel.display()
            ));
            continue;
        };
        let code = code_of(path);
        let used: BTreeSet<&str> = paths_after(&code, "crate::").collect();
        for target in used {
            if target == module {
                continue;
            }
            match floor_of(target) {
                Some(f) if f < floor => {}
                Some(_) => wrong.push(format!("{}: {module} imports {target}", rel.display())),
                None => wrong.push(format!("{}: unknown module {target}", rel.display())),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the data flow:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn files_of_a_module_import_each_other_without_loops() {
    let mut loops = Vec::new();
    for e in std::fs::read_dir(src()).unwrap().flatten() {
        let dir = e.path();
        if !dir.is_dir() {
            continue;
        }
        let module = dir.file_name().unwrap().to_string_lossy().to_string();
        // mod.rs is the module's face: it re-exports its files and they use its shared types.
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut files = Vec::new();
        rust_files(&dir, &mut files);
        let names: BTreeSet<String> = files
            .iter()
            .filter(|p| p.parent() == Some(dir.as_path()))
            .map(|p| p.file_stem().unwrap().to_string_lossy().to_string())
            .filter(|n| n != "mod")
            .collect();
        for name in &names {
            let code = code_of(&dir.join(format!("{name}.rs")));
            let own = format!("crate::{module}::");
            let targets: BTreeSet<String> = paths_after(&code, "super::")
                .chain(paths_after(&code, &own))
                .filter(|t| names.contains(*t) && *t != name)
                .map(str::to_string)
                .collect();
            edges.insert(name.clone(), targets);
        }
        // A loop is a file reachable from itself.
        for start in &names {
            let mut stack: Vec<&String> = edges[start].iter().collect();
            let mut seen = BTreeSet::new();
            while let Some(n) = stack.pop() {
                if n == start {
                    loops.push(format!("src/{module}: {start} reaches itself"));
                    break;
                }
                if seen.insert(n) {
                    stack.extend(edges[n].iter());
                }
            }
        }
    }
    assert!(loops.is_empty(), "import loops:\n{}", loops.join("\n"));
}

#[test]
fn every_rule_is_described_in_its_own_file() {
    // The registry, ids and titles come from one list of descriptors: each id is its file's name.
    let rules_dir = src().join("rules");
    for rule in claimsweep::rules::RULES {
        let file = rules_dir.join(format!("{}.rs", rule.id));
        let code = std::fs::read_to_string(&file)
            .unwrap_or_else(|_| panic!("rule {} has no file {}", rule.id, file.display()));
        assert!(
            code.contains("pub const RULE: RuleDef"),
            "{}",
            file.display()
        );
        assert!(
            !rule.title_zh.is_empty() && !rule.title_en.is_empty(),
            "{}",
            rule.id
        );
    }
    assert_eq!(
        claimsweep::rules::RULE_IDS,
        claimsweep::rules::RULES
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>()
    );
}
