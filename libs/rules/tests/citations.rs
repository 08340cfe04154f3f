//! No rule of the regulation is written outside `ce-rules`
//! (docs/architecture.md), and the articles are part of the rules: a
//! service that cites one takes the citation from here (`ART_21`,
//! `cite(&[ART_25, ART_26])`, `Activity::TRAINING`, a rule's own article),
//! never writes "Art. 21" itself. This test reads every service's source
//! and the shared server library and names each string literal that cites
//! an article by hand. Comments and doc comments may cite freely, and so
//! may `#[cfg(test)]` items, whose assertions pin the texts users see.

use std::path::{Path, PathBuf};

/// A string literal outside comments and test items: the line it starts
/// on and its text as written (escapes left as they are).
#[derive(Debug, PartialEq)]
struct Literal {
    line: usize,
    text: String,
}

/// The string literals of Rust source, skipping comments, character
/// literals and `#[cfg(test)]` items (to the end of their braces, or their
/// `;`).
fn literals(src: &str) -> Vec<Literal> {
    let s: Vec<char> = src.chars().collect();
    let n = s.len();
    let at = |i: usize, p: &str| p.chars().enumerate().all(|(k, c)| s.get(i + k) == Some(&c));
    let lines = |from: usize, to: usize| s[from..to].iter().filter(|c| **c == '\n').count();
    let mut out = Vec::new();
    let (mut i, mut line, mut depth) = (0, 1, 0usize);
    // Inside a #[cfg(test)] item: None before its first brace, then the
    // depth that brace opened.
    let mut test_item: Option<Option<usize>> = None;
    while i < n {
        let c = s[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if at(i, "//") {
            while i < n && s[i] != '\n' {
                i += 1;
            }
        } else if at(i, "/*") {
            let mut nested = 0;
            loop {
                if i >= n {
                    break;
                } else if at(i, "/*") {
                    nested += 1;
                    i += 2;
                } else if at(i, "*/") {
                    nested -= 1;
                    i += 2;
                    if nested == 0 {
                        break;
                    }
                } else {
                    if s[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if at(i, "#[cfg(test)]") {
            test_item = Some(None);
            i += "#[cfg(test)]".len();
        } else if (c == 'r' || at(i, "br"))
            && (i == 0 || !(s[i - 1].is_alphanumeric() || s[i - 1] == '_'))
            && {
                let mut j = i + if c == 'b' { 2 } else { 1 };
                while j < n && s[j] == '#' {
                    j += 1;
                }
                j < n && s[j] == '"'
            }
        {
            // A raw string: r"…", r#"…"#, br"…".
            let mut j = i + if c == 'b' { 2 } else { 1 };
            let mut hashes = 0;
            while s[j] == '#' {
                hashes += 1;
                j += 1;
            }
            let start = j + 1;
            let close: String = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let mut k = start;
            while k < n && !at(k, &close) {
                k += 1;
            }
            if test_item.is_none() {
                out.push(Literal {
                    line,
                    text: s[start..k.min(n)].iter().collect(),
                });
            }
            line += lines(start, k.min(n));
            i = k + close.chars().count();
        } else if c == '"' {
            let start = i + 1;
            let mut k = start;
            while k < n && s[k] != '"' {
                k += if s[k] == '\\' { 2 } else { 1 };
            }
            let k = k.min(n);
            if test_item.is_none() {
                out.push(Literal {
                    line,
                    text: s[start..k].iter().collect(),
                });
            }
            line += lines(start, k);
            i = k + 1;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\'', '\u{1F600}') or a lifetime.
            if s.get(i + 1) == Some(&'\\') {
                let mut k = i + 3;
                while k < n && s[k] != '\'' {
                    k += 1;
                }
                i = k + 1;
            } else if s.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else {
            match c {
                '{' => {
                    depth += 1;
                    if test_item == Some(None) {
                        test_item = Some(Some(depth));
                    }
                }
                '}' => {
                    if test_item == Some(Some(depth)) {
                        test_item = None;
                    }
                    depth = depth.saturating_sub(1);
                }
                ';' if test_item == Some(None) => test_item = None,
                _ => {}
            }
            i += 1;
        }
    }
    out
}

/// Where a literal's text cites an article by hand ("Art. 21", "Arts. 25
/// and 26", "Art.\<newline> 27"), as the line of the citation.
fn citations(lit: &Literal) -> Vec<usize> {
    let t: Vec<char> = lit.text.chars().collect();
    let mut found = Vec::new();
    for i in 0..t.len() {
        let word = |w: &str| w.chars().enumerate().all(|(k, c)| t.get(i + k) == Some(&c));
        let after = if word("Art.") {
            i + 4
        } else if word("Arts.") {
            i + 5
        } else {
            continue;
        };
        if i > 0 && t[i - 1].is_alphanumeric() {
            continue;
        }
        let mut j = after;
        while j < t.len() && (t[j].is_whitespace() || t[j] == '\\') {
            j += 1;
        }
        if t.get(j).is_some_and(char::is_ascii_digit) {
            found.push(lit.line + t[..i].iter().filter(|c| **c == '\n').count());
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn services_take_their_citations_from_the_rules_library() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    let services = std::fs::read_dir(root.join("services")).expect("services/");
    for s in services.flatten() {
        rust_files(&s.path().join("src"), &mut files);
    }
    rust_files(&root.join("libs/server/src"), &mut files);
    files.sort();
    assert!(
        files
            .iter()
            .any(|f| f.ends_with("services/crediting/src/records.rs")),
        "the scan found no service source under {}",
        root.display()
    );
    let mut hand_written = Vec::new();
    for f in &files {
        let src = std::fs::read_to_string(f).expect("readable source");
        for lit in literals(&src) {
            for line in citations(&lit) {
                let shown = f.strip_prefix(&root).unwrap_or(f).display().to_string();
                hand_written.push(format!("{shown}:{line}: \"{}\"", lit.text));
            }
        }
    }
    assert!(
        hand_written.is_empty(),
        "{} string literals cite an article by hand; take the citation from ce-rules \
         (ce_rules::article::ART_.., cite(), a rule's own article):\n{}",
        hand_written.len(),
        hand_written.join("\n")
    );
}

#[test]
fn the_scan_reads_literals_not_comments() {
    let src = r####"
//! Module docs cite Art. 20 freely.
/// So do doc comments: Art. 21.
fn f<'a>(x: &'a str) -> String {
    // and comments, Art. 27
    /* block comments, Art. 26 /* nested, Art. 25 */ */
    let _c = '"';
    let _d = '\'';
    let _e = "no citation, an article number 21";
    let _f = r#"a raw one (Art. 13)"#;
    let _g = "escaped \" quote, then (Art. 31)";
    format!("{x} across \
             lines (Arts.
             25, 26)")
}

#[cfg(test)]
mod tests {
    fn t() { assert!("(Art. 18(1))".is_empty()); }
}

fn after_tests() -> &'static str { "Art.18 without a space" }
"####;
    let cited: Vec<usize> = literals(src).iter().flat_map(citations).collect();
    assert_eq!(cited, [10, 11, 13, 22]);
}
