//! References to the regulation: every credited hour and every refusal
//! names the article (and item) that produced it.

use std::fmt;

/// An article of the regulation, optionally one of its numbered items:
/// `Art. 18(5)` is Article 18, item (五).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Article {
    pub number: u8,
    pub item: Option<u8>,
}

impl Article {
    pub const fn new(number: u8) -> Article {
        Article { number, item: None }
    }

    pub const fn item(number: u8, item: u8) -> Article {
        Article {
            number,
            item: Some(item),
        }
    }
}

impl fmt::Display for Article {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.item {
            Some(i) => write!(f, "Art. {}({i})", self.number),
            None => write!(f, "Art. {}", self.number),
        }
    }
}

/// Art. 13, institutions' duties: online providers track attendance.
pub const ART_13: Article = Article::new(13);
/// Art. 18, the annual requirement and the table of credits.
pub const ART_18: Article = Article::new(18);
/// Art. 19, aid assignments deemed complete.
pub const ART_19: Article = Article::new(19);
/// Art. 20, validity in the year earned, and make-up after a deferral.
pub const ART_20: Article = Article::new(20);
/// Art. 21, registration routes and deadlines.
pub const ART_21: Article = Article::new(21);
/// Art. 24, inspections ("double random").
pub const ART_24: Article = Article::new(24);
/// Art. 25, quality monitoring of institutions.
pub const ART_25: Article = Article::new(25);
/// Art. 26, sanctions on institutions, poor quality results among them.
pub const ART_26: Article = Article::new(26);
/// Art. 27, revocation of improperly obtained hours.
pub const ART_27: Article = Article::new(27);
/// Art. 31, in force from 2026-01-01.
pub const ART_31: Article = Article::new(31);

/// Several articles as the text cites them together: "Art. 25, 26".
pub fn cite(articles: &[Article]) -> String {
    let mut out = String::new();
    for (i, a) in articles.iter().enumerate() {
        let one = a.to_string();
        let number = one.strip_prefix("Art. ").unwrap_or(&one);
        out.push_str(if i == 0 { &one } else { number });
        if i + 1 < articles.len() {
            out.push_str(", ");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn articles_cited_together_name_art_once() {
        assert_eq!(cite(&[ART_25, ART_26]), "Art. 25, 26");
        assert_eq!(cite(&[Article::item(18, 8)]), "Art. 18(8)");
    }

    #[test]
    fn articles_print_as_the_text_cites_them() {
        assert_eq!(Article::item(18, 5).to_string(), "Art. 18(5)");
        assert_eq!(ART_20.to_string(), "Art. 20");
    }
}
