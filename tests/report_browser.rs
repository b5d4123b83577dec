//! The HTML report in a real headless browser (Chromium from Debian's packages): it loads
//! with no console message at all (no script error, no resource refused by the page's
//! Content Security Policy), its inline script runs to the end, the DOM shows the summary
//! and a case with its evidence, and its Chinese renders in glyphs rather than empty boxes
//! (a Chinese font such as Debian's `fonts-noto-cjk` must be installed).
//!
//! Without `/usr/bin/chromium` the test is skipped on a developer's machine, but fails when
//! `CI_REQUIRE_BROWSER=1` (CI installs Chromium and sets it), so CI never passes it silently.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
/// A browser that has not dumped the page by then is hung.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(120);

fn run_ok(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_claimsweep"))
        .args(args)
        .output()
        .expect("run claimsweep");
    assert!(
        out.status.success(),
        "claimsweep {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Loads a file in headless Chromium; returns (dumped DOM, stderr log).
fn dump_dom(page: &Path, profile: &Path) -> (String, String) {
    let url = format!("file://{}", page.display());
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.display()),
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            &url,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    // Read both pipes on threads so a full pipe never blocks the browser.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).map(|_| s)
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut s).map(|_| s)
    });
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait chromium").is_some() {
            break;
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {BROWSER_TIMEOUT:?} on {url}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (
        out.join().expect("stdout thread").expect("stdout utf-8"),
        err.join().expect("stderr thread").expect("stderr utf-8"),
    )
}

/// Takes a screenshot of a page; `fontconfig` replaces the fonts the browser can see.
fn screenshot(page: &Path, png: &Path, profile: &Path, fontconfig: Option<&Path>) -> Vec<u8> {
    let mut cmd = Command::new(CHROMIUM);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=800,300",
        &format!("--user-data-dir={}", profile.display()),
        &format!("--screenshot={}", png.display()),
        &format!("file://{}", page.display()),
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    if let Some(conf) = fontconfig {
        cmd.env("FONTCONFIG_FILE", conf);
    }
    let mut child = cmd.spawn().expect("start chromium");
    let started = Instant::now();
    while child.try_wait().expect("wait chromium").is_none() {
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not take a screenshot within {BROWSER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::read(png).unwrap_or_else(|e| panic!("{}: {e}", png.display()))
}

/// Whether the report's Chinese renders as glyphs rather than empty boxes (tofu): a heading
/// in the report's own style (its font stack) is drawn once with Chinese text and once with
/// as many unassigned code points, which every font draws as the same box. Without a font
/// covering Chinese both pictures are the same.
fn chinese_has_glyphs(report: &Path, dir: &Path, fontconfig: Option<&Path>) -> bool {
    let html = std::fs::read_to_string(report).expect("read report");
    let css = &html[html.find("<style>").expect("style") + 7..html.find("</style>").expect("end")];
    let chinese = "职业培训补贴筛查报告";
    let unassigned: String = std::iter::repeat_n('\u{0378}', chinese.chars().count()).collect();
    let mut shots = Vec::new();
    for (name, text) in [("zh", chinese.to_string()), ("tofu", unassigned)] {
        let page = dir.join(format!("probe-{name}.html"));
        std::fs::write(
            &page,
            format!(
                "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
                 <style>{css}</style></head><body><h1 style=\"font-size:32px;margin:8px\">{text}</h1></body></html>"
            ),
        )
        .expect("write probe");
        let profile = tempfile::tempdir().expect("profile dir");
        shots.push(screenshot(
            &page,
            &dir.join(format!("probe-{name}.png")),
            profile.path(),
            fontconfig,
        ));
    }
    shots[0] != shots[1]
}

/// Console lines of the page (any level: the report logs nothing, so any message is a fault).
fn console_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("CONSOLE(") || l.contains("Uncaught"))
        .collect()
}

#[test]
fn report_loads_in_chromium_without_console_errors() {
    if !Path::new(CHROMIUM).exists() {
        if std::env::var("CI_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!(
                "{CHROMIUM} is missing but CI_REQUIRE_BROWSER=1: install chromium (see .ci/run)"
            );
        }
        eprintln!("skipped: {CHROMIUM} not installed (apt-get install chromium)");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let db = dir.path().join("t.db");
    let (data_s, db_s) = (data.to_str().expect("utf-8"), db.to_str().expect("utf-8"));
    // A generated ledger has every kind of finding, rings included.
    run_ok(&[
        "generate", "--out", data_s, "--claims", "3000", "--seed", "11",
    ]);
    run_ok(&["ingest", "--db", db_s, data_s]);
    run_ok(&["sweep", "--db", db_s]);

    for (name, lang, summary_title) in [("zh.html", "zh", "摘要"), ("en.html", "en", "Summary")] {
        let page = dir.path().join(name);
        run_ok(&[
            "report",
            "--db",
            db_s,
            "--format",
            "html",
            "-o",
            page.to_str().expect("utf-8"),
            "--lang",
            lang,
        ]);
        let profile = tempfile::tempdir().expect("profile dir");
        let (dom, log) = dump_dom(&page, profile.path());
        assert!(
            dom.contains("data-ready=\"1\""),
            "{name}: the inline script did not run to its end"
        );
        assert!(
            dom.contains("<section id=\"summary\">") && dom.contains(summary_title),
            "{name}: no summary in the DOM"
        );
        assert!(
            dom.contains("<details class=\"case\" id=\"case-"),
            "{name}: no case in the DOM"
        );
        assert!(
            dom.contains("<section id=\"start\" class=\"start\">")
                && dom.contains("<div class=\"card\">"),
            "{name}: the page does not open with where to start"
        );
        assert!(
            dom.contains("<section id=\"rings\">") && dom.contains("class=\"ring\""),
            "{name}: no ring picture"
        );
        let console = console_lines(&log);
        assert!(
            console.is_empty(),
            "{name}: console messages:\n{}",
            console.join("\n")
        );
    }

    // Chinese renders in glyphs, not empty boxes. First the probe is shown to see tofu: with
    // only DejaVu (no Chinese) visible to the browser, the two pictures are the same.
    let zh = dir.path().join("zh.html");
    let dejavu = Path::new("/usr/share/fonts/truetype/dejavu");
    if dejavu.is_dir() {
        let conf = dir.path().join("fonts-no-cjk.conf");
        std::fs::write(
            &conf,
            format!(
                "<?xml version=\"1.0\"?><!DOCTYPE fontconfig SYSTEM \"fonts.dtd\">\
                 <fontconfig><dir>{}</dir><cachedir>{}</cachedir></fontconfig>",
                dejavu.display(),
                dir.path().join("fc-cache").display()
            ),
        )
        .expect("fonts.conf");
        assert!(
            !chinese_has_glyphs(&zh, dir.path(), Some(&conf)),
            "the tofu probe cannot tell boxes from glyphs"
        );
    }
    assert!(
        chinese_has_glyphs(&zh, dir.path(), None),
        "the report's Chinese renders as empty boxes: install a Chinese font \
         (Debian/Ubuntu: apt-get install fonts-noto-cjk)"
    );
}
