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

/// Art. 2, scope: the employers (state organs, enterprises, public
/// institutions, social organisations) whose engineers it covers.
pub const ART_2: Article = Article::new(2);
/// Art. 10, content: public and professional subjects.
pub const ART_10: Article = Article::new(10);
/// Art. 11, the nine forms of continuing education.
pub const ART_11: Article = Article::new(11);
/// Art. 12, activities run directly by departments are free of charge.
pub const ART_12: Article = Article::new(12);
/// Art. 13, institutions' duties: online providers track attendance.
pub const ART_13: Article = Article::new(13);
/// Art. 15, institutions' fee items and levels made public.
pub const ART_15: Article = Article::new(15);
/// Art. 16, institutions' teaching and assessment duties.
pub const ART_16: Article = Article::new(16);
/// Art. 17, hours registered once they are earned.
pub const ART_17: Article = Article::new(17);
/// Art. 18, the annual requirement and the table of credits.
pub const ART_18: Article = Article::new(18);
/// Art. 19, aid assignments deemed complete.
pub const ART_19: Article = Article::new(19);
/// Art. 20, validity in the year earned, and make-up after a deferral.
pub const ART_20: Article = Article::new(20);
/// Art. 21, registration routes and deadlines.
pub const ART_21: Article = Article::new(21);
/// Art. 22, one record nationwide that follows the engineer.
pub const ART_22: Article = Article::new(22);
/// Art. 24, inspections ("double random").
pub const ART_24: Article = Article::new(24);
/// Art. 25, quality monitoring of institutions.
pub const ART_25: Article = Article::new(25);
/// Art. 26, sanctions on institutions, poor quality results among them.
pub const ART_26: Article = Article::new(26);
/// Art. 27, revocation of improperly obtained hours.
pub const ART_27: Article = Article::new(27);
/// Art. 28, officials' neglect, abuse of power or favouritism.
pub const ART_28: Article = Article::new(28);
/// Art. 29, the engineering fields.
pub const ART_29: Article = Article::new(29);
/// Art. 31, in force from 2026-01-01.
pub const ART_31: Article = Article::new(31);

/// Several articles as the text cites them together: "Art. 25, 26", and
/// items of one article after the first as their number only:
/// "Art. 11(2), (3)".
pub fn cite(articles: &[Article]) -> String {
    let mut out = String::new();
    let mut previous: Option<Article> = None;
    for a in articles {
        if previous.is_some() {
            out.push_str(", ");
        }
        match (previous, a.item) {
            (None, _) => out.push_str(&a.to_string()),
            (Some(p), Some(i)) if p.number == a.number && p.item.is_some() => {
                out.push_str(&format!("({i})"));
            }
            (Some(_), Some(i)) => out.push_str(&format!("{}({i})", a.number)),
            (Some(_), None) => out.push_str(&a.number.to_string()),
        }
        previous = Some(*a);
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
        assert_eq!(cite(&[ART_15, ART_26]), "Art. 15, 26");
        assert_eq!(cite(&[ART_17, ART_21]), "Art. 17, 21");
        assert_eq!(
            cite(&[Article::item(11, 2), Article::item(11, 3)]),
            "Art. 11(2), (3)"
        );
        assert_eq!(cite(&[ART_18, Article::item(20, 1)]), "Art. 18, 20(1)");
        assert_eq!(cite(&[]), "");
    }

    #[test]
    fn articles_print_as_the_text_cites_them() {
        assert_eq!(Article::item(18, 5).to_string(), "Art. 18(5)");
        assert_eq!(ART_20.to_string(), "Art. 20");
    }
}
