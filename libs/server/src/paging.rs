//! Page tokens for List methods (AIP-158): opaque to the client, bound to
//! the filters of the first request so a changed filter is refused instead
//! of silently skipping rows.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{ApiError, Violations};

pub const DEFAULT_PAGE_SIZE: i64 = 50;
pub const MAX_PAGE_SIZE: i64 = 1000;

/// How many rows a request's `page_size` asks for: `default` for 0, at most
/// [`MAX_PAGE_SIZE`]. A negative size is noted in `v` against `page_size`
/// (and `default` returned, for the other checks to go on).
pub fn page_size(v: &mut Violations, requested: i32, default: i64) -> i64 {
    match i64::from(requested) {
        n if n < 0 => {
            v.add("page_size", "must not be negative");
            default
        }
        0 => default,
        n => n.min(MAX_PAGE_SIZE),
    }
}

/// A validated page request: how many rows, and the key to start after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub size: i64,
    pub after: Option<String>,
    fingerprint: u64,
}

/// FNV-1a over the request's filters, so a token only fits its own query.
fn fingerprint(filters: &str) -> u64 {
    crate::hash::fnv1a64(filters.as_bytes())
}

impl Page {
    /// Reads `page_size` and `page_token`; `filters` is any stable rendering
    /// of the request's filter fields.
    pub fn parse(requested: i32, page_token: &str, filters: &str) -> Result<Page, ApiError> {
        let mut v = Violations::new();
        let size = page_size(&mut v, requested, DEFAULT_PAGE_SIZE);
        v.finish()?;
        let fp = fingerprint(filters);
        let after = if page_token.is_empty() {
            None
        } else {
            let bad = || ApiError::invalid("page_token", "not a token this method issued");
            let raw = URL_SAFE_NO_PAD.decode(page_token).map_err(|_| bad())?;
            let text = String::from_utf8(raw).map_err(|_| bad())?;
            let (fp_hex, after) = text.split_once(':').ok_or_else(bad)?;
            if u64::from_str_radix(fp_hex, 16).map_err(|_| bad())? != fp {
                return Err(ApiError::invalid(
                    "page_token",
                    "the filters changed since this token was issued; start again without a token",
                ));
            }
            Some(after.to_owned())
        };
        Ok(Page {
            size,
            after,
            fingerprint: fp,
        })
    }

    /// How many rows to fetch: one more than the page, to know if another
    /// page follows.
    pub fn fetch_limit(&self) -> i64 {
        self.size + 1
    }

    /// Loads one page with `query(conn, after, limit)` off the async
    /// runtime, and returns its rows and the next token.
    pub async fn load<R, Q, K>(
        &self,
        db: &ce_db::Db,
        query: Q,
        key: K,
    ) -> Result<(Vec<R>, String), ApiError>
    where
        R: Send + 'static,
        Q: Fn(&mut ce_db::DbConnection, Option<&str>, i64) -> Result<Vec<R>, ApiError>
            + Send
            + 'static,
        K: Fn(&R) -> String,
    {
        let after = self.after.clone();
        let limit = self.fetch_limit();
        let rows = db
            .read(move |conn| query(conn, after.as_deref(), limit))
            .await?;
        Ok(self.finish(rows, key))
    }

    /// Trims `rows` to the page and returns the next token, if more follow.
    pub fn finish<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> String) -> (Vec<T>, String) {
        if rows.len() as i64 > self.size {
            rows.truncate(self.size as usize);
            let token = rows
                .last()
                .map(|last| URL_SAFE_NO_PAD.encode(format!("{:x}:{}", self.fingerprint, key(last))))
                .unwrap_or_default();
            (rows, token)
        } else {
            (rows, String::new())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_resumes_after_the_last_row_of_its_page() {
        let p = Page::parse(2, "", "province=11").unwrap();
        let (rows, token) = p.finish(vec!["a", "b", "c"], |s| s.to_string());
        assert_eq!(rows, vec!["a", "b"]);
        let next = Page::parse(2, &token, "province=11").unwrap();
        assert_eq!(next.after.as_deref(), Some("b"));
    }

    #[test]
    fn a_token_with_other_filters_is_refused() {
        let p = Page::parse(1, "", "province=11").unwrap();
        let (_, token) = p.finish(vec![1, 2], |n| n.to_string());
        let err = Page::parse(1, &token, "province=12").unwrap_err();
        assert!(err.to_string().contains("filters changed"), "{err}");
    }

    #[test]
    fn sizes_default_and_cap() {
        assert_eq!(Page::parse(0, "", "").unwrap().size, DEFAULT_PAGE_SIZE);
        assert_eq!(Page::parse(100_000, "", "").unwrap().size, MAX_PAGE_SIZE);
        assert!(Page::parse(-1, "", "").is_err());
        assert!(Page::parse(10, "garbage!", "").is_err());
    }
}
