//! Page tokens for List methods (AIP-158): opaque to the client, bound to
//! the filters of the first request so a changed filter is refused instead
//! of silently skipping rows.
//!
//! A page is bounded in rows (`page_size`, at most [`MAX_PAGE_SIZE`]) and in
//! bytes: [`Page::finish_within`] cuts it short, with a token for the rest,
//! when its encoded items would pass `server.max_message_bytes`, the limit
//! tonic encodes responses under. Answers that must hold every item asked
//! for (`BatchGet…`) are refused instead, naming the request field
//! ([`whole`]).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{ApiError, Violations};

pub const DEFAULT_PAGE_SIZE: i64 = 50;
pub const MAX_PAGE_SIZE: i64 = 1000;

/// The largest message when the server says nothing else (tonic's own
/// default, and `server.max_message_bytes`'s).
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 4 << 20;

/// `server.max_message_bytes`, put into each request by the stack
/// (`serve.rs`) for [`crate::Call`] to read.
#[derive(Debug, Clone, Copy)]
pub struct MaxMessageBytes(pub usize);

/// The bytes of a response kept for its fields other than the list's items
/// (the next-page token or cursor), at most a quarter of the limit.
const RESERVED_BYTES: usize = 1024;

/// The bytes a response's repeated items may take under `max_message_bytes`.
pub fn item_budget(max_message_bytes: usize) -> usize {
    max_message_bytes.saturating_sub(RESERVED_BYTES.min(max_message_bytes / 4))
}

/// The bytes `item` takes as one element of a repeated message field
/// numbered below 16 (every List response's items are field 1): tag,
/// length and the message.
pub fn element_len<T: prost::Message>(item: &T) -> usize {
    let len = item.encoded_len();
    1 + prost::encoding::encoded_len_varint(len as u64) + len
}

/// The error for one item that alone passes the limit: it cannot be sent
/// at all, whatever the page size.
fn too_large(len: usize, max_message_bytes: usize) -> ApiError {
    ApiError::precondition(
        crate::reason::Reason::ItemTooLarge,
        "",
        format!(
            "one item of this list is {len} bytes encoded, more than a response may carry \
             (server.max_message_bytes = {max_message_bytes})"
        ),
    )
}

/// Keeps the leading `items` whose encoded size fits a response of
/// `max_message_bytes`, and says whether any were cut: a list read after a
/// cursor continues from the last item kept. An item that alone passes
/// the limit is an error.
pub fn fit<T: prost::Message>(
    items: &mut Vec<T>,
    max_message_bytes: usize,
) -> Result<bool, ApiError> {
    let budget = item_budget(max_message_bytes);
    let mut used = 0usize;
    for (i, item) in items.iter().enumerate() {
        let len = element_len(item);
        if used + len > budget {
            if i == 0 {
                return Err(too_large(len, max_message_bytes));
            }
            items.truncate(i);
            return Ok(true);
        }
        used += len;
    }
    Ok(false)
}

/// Refuses an answer that must carry every item (`BatchGet…`, a whole
/// history) when its items would pass `max_message_bytes`, naming the
/// request `field` that asked for them. `extra` is the bytes of the
/// answer's other fields (the names not found, for example).
pub fn whole<T: prost::Message>(
    field: &str,
    items: &[T],
    extra: usize,
    max_message_bytes: usize,
) -> Result<(), ApiError> {
    let bytes = items.iter().map(element_len).sum::<usize>() + extra;
    if bytes > item_budget(max_message_bytes) {
        return Err(ApiError::invalid(
            field,
            format!(
                "the {} items asked for make an answer of {bytes} bytes, more than a response \
                 may carry (server.max_message_bytes = {max_message_bytes}); ask for fewer",
                items.len()
            ),
        ));
    }
    Ok(())
}

/// The bytes `strings` take as a repeated string field numbered below 16.
pub fn strings_len(strings: &[String]) -> usize {
    strings
        .iter()
        .map(|s| 1 + prost::encoding::encoded_len_varint(s.len() as u64) + s.len())
        .sum()
}

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

    /// Loads one page's rows with `query(conn, after, limit)` off the
    /// async runtime: one more than the page, for [`Page::finish_within`].
    pub async fn load_rows<R, Q>(&self, db: &ce_db::Db, query: Q) -> Result<Vec<R>, ApiError>
    where
        R: Send + 'static,
        Q: Fn(&mut ce_db::DbConnection, Option<&str>, i64) -> Result<Vec<R>, ApiError>
            + Send
            + 'static,
    {
        let after = self.after.clone();
        let limit = self.fetch_limit();
        db.read(move |conn| query(conn, after.as_deref(), limit))
            .await
    }

    /// Loads one page ([`Page::load_rows`]) and answers it as
    /// [`Page::finish_within`] does: bounded in rows and in bytes.
    pub async fn load_within<R, T, Q, K, C>(
        &self,
        db: &ce_db::Db,
        query: Q,
        key: K,
        convert: C,
        max_message_bytes: usize,
    ) -> Result<(Vec<T>, String), ApiError>
    where
        R: Send + 'static,
        T: prost::Message,
        Q: Fn(&mut ce_db::DbConnection, Option<&str>, i64) -> Result<Vec<R>, ApiError>
            + Send
            + 'static,
        K: Fn(&R) -> String,
        C: FnMut(R) -> Result<T, ApiError>,
    {
        let rows = self.load_rows(db, query).await?;
        self.finish_within(rows, key, convert, max_message_bytes)
    }

    /// Turns `rows` (as [`Page::load_rows`] read them) into the page's
    /// items with `convert`, in order, until the page is full or the next
    /// item would take the items past what a response of
    /// `max_message_bytes` may carry; the token resumes after the last
    /// item kept (`key` of its row) when more follow. A row that alone
    /// passes the limit is an error rather than a page that can never
    /// move on.
    pub fn finish_within<R, T: prost::Message>(
        &self,
        rows: Vec<R>,
        key: impl Fn(&R) -> String,
        mut convert: impl FnMut(R) -> Result<T, ApiError>,
        max_message_bytes: usize,
    ) -> Result<(Vec<T>, String), ApiError> {
        self.finish_filtered(rows, key, |r| convert(r).map(Some), max_message_bytes)
    }

    /// [`Page::finish_within`] for a page some of whose rows the caller
    /// does not see: `convert` answers `None` for those, and they are
    /// passed over (the token still resumes after them).
    pub fn finish_filtered<R, T: prost::Message>(
        &self,
        rows: Vec<R>,
        key: impl Fn(&R) -> String,
        mut convert: impl FnMut(R) -> Result<Option<T>, ApiError>,
        max_message_bytes: usize,
    ) -> Result<(Vec<T>, String), ApiError> {
        let budget = item_budget(max_message_bytes);
        let mut more = rows.len() as i64 > self.size;
        let mut items = Vec::with_capacity(rows.len().min(self.size as usize));
        let (mut used, mut last) = (0usize, None);
        for row in rows.into_iter().take(self.size as usize) {
            let row_key = key(&row);
            let Some(item) = convert(row)? else {
                last = Some(row_key);
                continue;
            };
            let len = element_len(&item);
            if used + len > budget {
                if items.is_empty() {
                    return Err(too_large(len, max_message_bytes));
                }
                more = true;
                break;
            }
            used += len;
            items.push(item);
            last = Some(row_key);
        }
        let token = match (more, last) {
            (true, Some(last)) => self.token_after(&last),
            _ => String::new(),
        };
        Ok((items, token))
    }

    fn token_after(&self, key: &str) -> String {
        URL_SAFE_NO_PAD.encode(format!("{:x}:{key}", self.fingerprint))
    }

    /// Trims `rows` to the page and returns the next token, if more follow:
    /// bounded in rows only, for the tests of tokens; List RPCs answer with
    /// [`Page::finish_within`].
    #[cfg(test)]
    fn finish<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> String) -> (Vec<T>, String) {
        if rows.len() as i64 > self.size {
            rows.truncate(self.size as usize);
            let token = rows
                .last()
                .map(|last| self.token_after(&key(last)))
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

    fn item(key: &str, bytes: usize) -> prost_types::Any {
        prost_types::Any {
            type_url: key.to_owned(),
            value: vec![7; bytes],
        }
    }

    #[test]
    fn a_page_is_cut_short_by_bytes_and_its_token_resumes_after_the_last_item_kept() {
        let rows: Vec<(String, usize)> = (0..10).map(|i| (format!("k{i}"), 1000)).collect();
        let p = Page::parse(8, "", "f").unwrap();
        // Each item is about 1 KiB: a 4 KiB limit (3 KiB for items) takes 3.
        let (items, token) = p
            .finish_within(rows.clone(), |r| r.0.clone(), |r| Ok(item(&r.0, r.1)), 4096)
            .unwrap();
        assert_eq!(items.len(), 3);
        assert!(items.iter().map(element_len).sum::<usize>() <= item_budget(4096));
        let next = Page::parse(8, &token, "f").unwrap();
        assert_eq!(next.after.as_deref(), Some("k2"));
        // Within a generous limit the page is cut by rows alone.
        let (items, token) = p
            .finish_within(
                rows.clone(),
                |r| r.0.clone(),
                |r| Ok(item(&r.0, r.1)),
                1 << 20,
            )
            .unwrap();
        assert_eq!(items.len(), 8);
        assert_eq!(
            Page::parse(8, &token, "f").unwrap().after.as_deref(),
            Some("k7")
        );
        // The last page, neither full nor cut: no token.
        let (items, token) = p
            .finish_within(
                rows[..3].to_vec(),
                |r| r.0.clone(),
                |r| Ok(item(&r.0, r.1)),
                1 << 20,
            )
            .unwrap();
        assert_eq!((items.len(), token.as_str()), (3, ""));
        // A row too large for any response is an error, not an endless page.
        let err = p
            .finish_within(
                vec![("big".to_owned(), 5000)],
                |r| r.0.clone(),
                |r| Ok(item(&r.0, r.1)),
                4096,
            )
            .unwrap_err();
        assert!(
            err.to_string().contains("server.max_message_bytes"),
            "{err}"
        );
    }

    #[test]
    fn a_list_after_a_cursor_keeps_what_fits_and_a_whole_answer_too_large_is_refused() {
        let mut items: Vec<_> = (0..10).map(|i| item(&format!("k{i}"), 1000)).collect();
        assert!(fit(&mut items, 4096).unwrap());
        assert_eq!(items.len(), 3);
        let mut small = vec![item("a", 10)];
        assert!(!fit(&mut small, 4096).unwrap());
        let many: Vec<_> = (0..10).map(|i| item(&format!("k{i}"), 1000)).collect();
        let err = whole("names", &many, 0, 4096).unwrap_err();
        assert!(
            matches!(&err, ApiError::InvalidArgument(v) if v[0].field == "names"),
            "{err:?}"
        );
        whole("names", &many[..3], 0, 4096).unwrap();
    }

    #[test]
    fn sizes_default_and_cap() {
        assert_eq!(Page::parse(0, "", "").unwrap().size, DEFAULT_PAGE_SIZE);
        assert_eq!(Page::parse(100_000, "", "").unwrap().size, MAX_PAGE_SIZE);
        assert!(Page::parse(-1, "", "").is_err());
        assert!(Page::parse(10, "garbage!", "").is_err());
    }
}
