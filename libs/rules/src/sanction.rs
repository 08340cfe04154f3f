//! Sanctions (Art. 24, 26, 27): which article a violation falls under for
//! the party it names, which decisions apply to which party, and when an
//! institution is reinstated.
