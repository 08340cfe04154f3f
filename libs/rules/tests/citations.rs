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
    let mut scan = Scanner {
        s: src.chars().collect(),
        i: 0,
        line: 1,
        depth: 0,
        test_item: None,
        out: Vec::new(),
    };
    while scan.i < scan.s.len() {
        scan.step();
    }
    scan.out
}

/// Reads Rust source a token at a time, keeping the line, the brace depth
/// and whether it is inside a `#[cfg(test)]` item.
struct Scanner {
    s: Vec<char>,
    i: usize,
    line: usize,
    depth: usize,
    /// Inside a #[cfg(test)] item: None before its first brace, then the
    /// depth that brace opened.
    test_item: Option<Option<usize>>,
    out: Vec<Literal>,
}

impl Scanner {
    fn at(&self, i: usize, p: &str) -> bool {
        p.chars()
            .enumerate()
            .all(|(k, c)| self.s.get(i + k) == Some(&c))
    }

    fn lines(&self, from: usize, to: usize) -> usize {
        self.s[from..to].iter().filter(|c| **c == '\n').count()
    }

    /// Keeps the literal `s[start..end]` that starts on `line`, unless it
    /// is in a test item.
    fn keep(&mut self, line: usize, start: usize, end: usize) {
        if self.test_item.is_none() {
            self.out.push(Literal {
                line,
                text: self.s[start..end].iter().collect(),
            });
        }
    }

    /// Reads the token at `i`.
    fn step(&mut self) {
        let c = self.s[self.i];
        if c == '\n' {
            self.line += 1;
            self.i += 1;
        } else if self.at(self.i, "//") {
            self.line_comment();
        } else if self.at(self.i, "/*") {
            self.block_comment();
        } else if self.at(self.i, "#[cfg(test)]") {
            self.test_item = Some(None);
            self.i += "#[cfg(test)]".len();
        } else if self.raw_string_starts(c) {
            self.raw_string(c);
        } else if c == '"' {
            self.string();
        } else if c == '\'' {
            self.char_or_lifetime();
        } else {
            self.other(c);
        }
    }

    fn line_comment(&mut self) {
        while self.i < self.s.len() && self.s[self.i] != '\n' {
            self.i += 1;
        }
    }

    /// A block comment, nested ones included.
    fn block_comment(&mut self) {
        let n = self.s.len();
        let mut nested = 0;
        loop {
            if self.i >= n {
                break;
            } else if self.at(self.i, "/*") {
                nested += 1;
                self.i += 2;
            } else if self.at(self.i, "*/") {
                nested -= 1;
                self.i += 2;
                if nested == 0 {
                    break;
                }
            } else {
                if self.s[self.i] == '\n' {
                    self.line += 1;
                }
                self.i += 1;
            }
        }
    }

    /// Whether a raw string starts at `i`: `r` or `br` (not ending an
    /// identifier), any `#`, then `"`.
    fn raw_string_starts(&self, c: char) -> bool {
        let (s, i, n) = (&self.s, self.i, self.s.len());
        (c == 'r' || self.at(i, "br"))
            && (i == 0 || !(s[i - 1].is_alphanumeric() || s[i - 1] == '_'))
            && {
                let mut j = i + if c == 'b' { 2 } else { 1 };
                while j < n && s[j] == '#' {
                    j += 1;
                }
                j < n && s[j] == '"'
            }
    }

    /// A raw string: r"…", r#"…"#, br"…".
    fn raw_string(&mut self, c: char) {
        let n = self.s.len();
        let mut j = self.i + if c == 'b' { 2 } else { 1 };
        let mut hashes = 0;
        while self.s[j] == '#' {
            hashes += 1;
            j += 1;
        }
        let start = j + 1;
        let close: String = std::iter::once('"')
            .chain(std::iter::repeat_n('#', hashes))
            .collect();
        let mut k = start;
        while k < n && !self.at(k, &close) {
            k += 1;
        }
        self.keep(self.line, start, k.min(n));
        self.line += self.lines(start, k.min(n));
        self.i = k + close.chars().count();
    }

    /// A string with escapes.
    fn string(&mut self) {
        let n = self.s.len();
        let start = self.i + 1;
        let mut k = start;
        while k < n && self.s[k] != '"' {
            k += if self.s[k] == '\\' { 2 } else { 1 };
        }
        let k = k.min(n);
        self.keep(self.line, start, k);
        self.line += self.lines(start, k);
        self.i = k + 1;
    }

    /// A character literal ('x', '\n', '\'', '\u{1F600}') or a lifetime.
    fn char_or_lifetime(&mut self) {
        let (s, i, n) = (&self.s, self.i, self.s.len());
        if s.get(i + 1) == Some(&'\\') {
            let mut k = i + 3;
            while k < n && s[k] != '\'' {
                k += 1;
            }
            self.i = k + 1;
        } else if s.get(i + 2) == Some(&'\'') {
            self.i += 3;
        } else {
            self.i += 1;
        }
    }

    /// Any other character: braces open and close test items, and a `;`
    /// ends one that has none.
    fn other(&mut self, c: char) {
        match c {
            '{' => {
                self.depth += 1;
                if self.test_item == Some(None) {
                    self.test_item = Some(Some(self.depth));
                }
            }
            '}' => {
                if self.test_item == Some(Some(self.depth)) {
                    self.test_item = None;
                }
                self.depth = self.depth.saturating_sub(1);
            }
            ';' if self.test_item == Some(None) => self.test_item = None,
            _ => {}
        }
        self.i += 1;
    }
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
