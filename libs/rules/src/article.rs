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
/// Art. 27, revocation of improperly obtained hours.
pub const ART_27: Article = Article::new(27);
/// Art. 31, in force from 2026-01-01.
pub const ART_31: Article = Article::new(31);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn articles_print_as_the_text_cites_them() {
        assert_eq!(Article::item(18, 5).to_string(), "Art. 18(5)");
        assert_eq!(ART_20.to_string(), "Art. 20");
    }
}
