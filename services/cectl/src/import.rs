//! `cectl import`: hour records from a CSV or JSON Lines file, through the
//! crediting service's bulk upload.
//!
//! - CSV columns are field paths of `HourRecord` (`engineer`,
//!   `registry_activity`, `face_to_face.start_date`, `conversion.kind`…);
//!   dates are `YYYY-MM-DD`, enums are their names with or without the
//!   prefix, in any case. JSON Lines take one `HourRecord` in proto3 JSON
//!   per line.
//! - Every record gets a client key: its own `client_key` column, or one
//!   derived from its content (a hash of its protobuf encoding, and how many
//!   identical records came before it in the file). Sending a record again
//!   therefore never stores it twice, whatever happened in between.
//! - After each answered message the progress is saved next to the file; an
//!   interrupted import run again continues after the last answered row. A
//!   refused row goes to the rejects file with its reason; that file can be
//!   corrected and imported as it is (its `rejected_*` columns are ignored),
//!   and what it refuses again goes to a rejects file of its own.
//! - The bulk upload answers a re-sent record with the record stored before,
//!   not saying which it is; a record created before this run began counts
//!   as already stored, not as stored now.

use ce_rules::article::{ART_19, ART_20, ART_21};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, Write};
use std::path::{Path, PathBuf};

use ce_proto::crediting::crediting_service_client::CreditingServiceClient;
use ce_proto::crediting::{
    BulkUploadHourRecordsRequest, BulkUploadResult, HourRecord, RecordState,
};
use prost::Message;
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MessageDescriptor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::client::{self, Conn, Service};

const HOUR_RECORD: &str = "ce.crediting.v1.HourRecord";

/// Why the service sets a field itself, for the fields it sets: a column
/// for one of them is a mistake.
fn output_only(field: &str) -> Option<String> {
    Some(match field {
        "name" => "the service names each record".into(),
        "state" => format!("the route decides it ({ART_21})"),
        "route" => format!("it follows your role ({ART_21})"),
        "year" => "a record counts in the year of its first day".into(),
        "province" => "it is the engineer's province".into(),
        "submitted_by" => "it is who the token names".into(),
        "submitted_by_role" => "it is the token's role".into(),
        "decided_by" => "it is set on confirmation".into(),
        "decision_reason" => "it is set on rejection".into(),
        "explanation" => "the rules library computes it".into(),
        "make_up_for_year" => format!("it is set through DesignateMakeUp ({ART_20})"),
        "supersedes" => "corrections go through CorrectHourRecord".into(),
        "institution" => "it is the organiser of registry_activity".into(),
        "last_year" => format!(
            "it follows the dates (an aid assignment counts in every year it overlaps, {ART_19})"
        ),
        "create_time" => "the service records it".into(),
        "update_time" => "the service records it".into(),
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
}

pub struct Args {
    pub file: PathBuf,
    pub format: Option<Format>,
    pub rejects: Option<PathBuf>,
    pub batch: usize,
    pub restart: bool,
}

/// What an import achieved; the exit code follows `refused`.
pub struct Outcome {
    pub refused: u64,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
struct Progress {
    sha256: String,
    rows_done: u64,
    /// Rows the service holds a record for: stored now or before.
    accepted: u64,
    /// Of those, rows stored by an earlier import (their record's
    /// create_time is before this run began).
    #[serde(default)]
    stored_before: u64,
    /// Rows stored now as confirmed, and their credited hours.
    confirmed: u64,
    hours: f64,
    /// The hours of rows stored now that await confirmation (Art. 21):
    /// what they count once confirmed, not credited yet.
    #[serde(default)]
    pending_hours: f64,
    refused: u64,
    rejects_len: u64,
    reasons: BTreeMap<String, u64>,
}

/// One row of the input and what became of it before the service saw it.
struct Row {
    line: u64,
    raw: Raw,
    parsed: Result<HourRecord, String>,
}

enum Raw {
    Csv(Vec<String>),
    Json(String),
}

/// A column of the CSV: where its value goes in the record.
enum Column {
    Field(Vec<FieldDescriptor>),
    Ignored,
}

fn progress_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".cectl-progress");
    file.with_file_name(name)
}

/// Where refused rows go unless `--rejects` says: NAME.rejects.csv beside
/// NAME.csv. A rejects file, corrected and imported again, is never written
/// over while it is read: what NAME.rejects.csv refuses goes to
/// NAME.rejects-2.csv, what that one refuses to NAME.rejects-3.csv.
fn default_rejects(file: &Path, format: Format) -> PathBuf {
    let ext = match format {
        Format::Csv => "csv",
        Format::Jsonl => "jsonl",
    };
    let stem = file.file_stem().unwrap_or_default().to_string_lossy();
    file.with_file_name(match rejects_round(&stem) {
        Some((name, n)) => format!("{name}.rejects-{}.{ext}", n + 1),
        None => format!("{stem}.rejects.{ext}"),
    })
}

/// For the stem of a rejects file, NAME.rejects or NAME.rejects-N: NAME and
/// which round of rejects it holds (1 for NAME.rejects).
fn rejects_round(stem: &str) -> Option<(&str, u32)> {
    if let Some(name) = stem.strip_suffix(".rejects") {
        return Some((name, 1));
    }
    let (name, n) = stem.rsplit_once(".rejects-")?;
    let n = n.parse().ok().filter(|n| *n >= 2)?;
    Some((name, n))
}

/// Whether two paths name the same file, however each is written.
fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || matches!(
            (a.canonicalize(), b.canonicalize()),
            (Ok(a), Ok(b)) if a == b
        )
}

fn sha256_of(file: &Path) -> Result<String, String> {
    let mut f = File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Resolves a CSV header to the fields it fills.
fn column(desc: &MessageDescriptor, header: &str) -> Result<Column, String> {
    let header = header.trim().trim_start_matches('\u{feff}');
    if header.starts_with("rejected_") {
        return Ok(Column::Ignored);
    }
    if header.is_empty() {
        return Err("a column has no header: every column needs one (for example engineer)".into());
    }
    if let Some(why) = output_only(header) {
        return Err(format!(
            "column {header}: the service sets it ({why}); remove the column"
        ));
    }
    let mut path = Vec::new();
    let mut msg = desc.clone();
    let segments: Vec<&str> = header.split('.').collect();
    for (i, seg) in segments.iter().enumerate() {
        let field = msg
            .get_field_by_name(seg)
            .or_else(|| msg.get_field_by_json_name(seg))
            .ok_or_else(|| {
                let known: Vec<String> = msg.fields().map(|f| f.name().to_owned()).collect();
                format!(
                    "column {header}: {} has no field {seg}; its fields are {}",
                    msg.name(),
                    known.join(", ")
                )
            })?;
        let last = i + 1 == segments.len();
        match field.kind() {
            Kind::Message(m) if !is_leaf_message(&m) => {
                if last {
                    let known: Vec<String> = m
                        .fields()
                        .map(|f| format!("{header}.{}", f.name()))
                        .collect();
                    return Err(format!(
                        "column {header} is a group of fields; use one column for each: {}",
                        known.join(", ")
                    ));
                }
                msg = m;
            }
            _ if !last => {
                return Err(format!("column {header}: {seg} has no fields inside it"));
            }
            _ => {}
        }
        path.push(field);
    }
    Ok(Column::Field(path))
}

/// Messages written in one cell: dates and timestamps.
fn is_leaf_message(m: &MessageDescriptor) -> bool {
    matches!(
        m.full_name(),
        "google.type.Date" | "google.protobuf.Timestamp"
    )
}

/// One cell as the JSON value its field takes.
fn cell_value(field: &FieldDescriptor, cell: &str) -> Result<Value, String> {
    if field.is_list() {
        if cell.trim_start().starts_with('[') {
            let items: Vec<Value> =
                serde_json::from_str(cell).map_err(|e| format!("is not a JSON list ({e})"))?;
            return Ok(Value::Array(items));
        }
        return Ok(Value::Array(vec![scalar(field, cell)?]));
    }
    scalar(field, cell)
}

fn scalar(field: &FieldDescriptor, cell: &str) -> Result<Value, String> {
    let t = cell.trim();
    Ok(match field.kind() {
        Kind::String => Value::String(cell.to_owned()),
        Kind::Bool => match t.to_lowercase().as_str() {
            "true" | "yes" | "y" | "1" | "是" => Value::Bool(true),
            "false" | "no" | "n" | "0" | "否" => Value::Bool(false),
            _ => return Err(format!("{t:?} is not yes or no")),
        },
        Kind::Double | Kind::Float => {
            let n: f64 = t.parse().map_err(|_| format!("{t:?} is not a number"))?;
            serde_json::Number::from_f64(n)
                .map(Value::Number)
                .ok_or_else(|| format!("{t:?} is not a finite number"))?
        }
        Kind::Int32
        | Kind::Sint32
        | Kind::Sfixed32
        | Kind::Int64
        | Kind::Sint64
        | Kind::Sfixed64 => {
            let n: i64 = t
                .parse()
                .map_err(|_| format!("{t:?} is not a whole number"))?;
            Value::from(n)
        }
        Kind::Uint32 | Kind::Fixed32 | Kind::Uint64 | Kind::Fixed64 => {
            let n: u64 = t
                .parse()
                .map_err(|_| format!("{t:?} is not a whole number of at least 0"))?;
            Value::from(n)
        }
        Kind::Enum(e) => Value::String(client::enum_value(&e, t)?.name().to_owned()),
        Kind::Message(m) if m.full_name() == "google.type.Date" => {
            // 2026-03-02, 2026/3/2 or 2026.03.02.
            let day = time::Date::parse(&t.replace(['/', '.'], "-"), ce_server::dates::YYYY_MM_DD)
                .map_err(|e| match e {
                    time::error::Parse::TryFromParsed(_)
                    | time::error::Parse::ParseFromDescription(
                        time::error::ParseFromDescription::InvalidComponent("day"),
                    ) => format!("{t:?} is not a day of the calendar"),
                    _ => format!("{t:?} is not a date: write YYYY-MM-DD, for example 2026-03-02"),
                })?;
            let (y, mo, d) = (day.year(), u8::from(day.month()), day.day());
            serde_json::json!({"year": y, "month": mo, "day": d})
        }
        Kind::Message(_) => Value::String(t.to_owned()),
        Kind::Bytes => Value::String(t.to_owned()),
    })
}

/// A CSV row as the JSON of a record.
fn csv_row(columns: &[(String, Column)], cells: &[String]) -> Result<Value, String> {
    let mut root = Map::new();
    for ((header, col), cell) in columns.iter().zip(cells) {
        let Column::Field(path) = col else { continue };
        if cell.trim().is_empty() {
            continue;
        }
        let (last, parents) = path.split_last().ok_or("empty path")?;
        let value = cell_value(last, cell).map_err(|e| format!("column {header}: {e}"))?;
        let mut obj = &mut root;
        for p in parents {
            obj = obj
                .entry(p.name().to_owned())
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .ok_or("a column is both a field and a group")?;
        }
        obj.insert(last.name().to_owned(), value);
    }
    if cells.len() > columns.len() {
        return Err(format!(
            "the row has {} cells and the header {} columns",
            cells.len(),
            columns.len()
        ));
    }
    Ok(Value::Object(root))
}

fn decode(desc: &MessageDescriptor, value: Value) -> Result<HourRecord, String> {
    let dynamic = DynamicMessage::deserialize(desc.clone(), value)
        .map_err(|e| format!("not an hour record: {e}"))?;
    HourRecord::decode(dynamic.encode_to_vec().as_slice()).map_err(|e| e.to_string())
}

/// Keys derived from content: the same record in the same place of the
/// file always gets the same key, so re-sending is harmless.
#[derive(Default)]
struct Keys {
    seen: HashMap<String, u32>,
}

impl Keys {
    fn assign(&mut self, record: &mut HourRecord) {
        if !record.client_key.is_empty() {
            return;
        }
        let digest = hex(&Sha256::digest(record.encode_to_vec())[..16]);
        let n = self.seen.entry(digest.clone()).or_insert(0);
        *n += 1;
        record.client_key = if *n == 1 {
            format!("cectl-{digest}")
        } else {
            format!("cectl-{digest}-{n}")
        };
    }
}

/// Reads every row of the file in order. Without `decode`, rows are only
/// counted (the header is still checked): each comes with `parsed` empty.
fn read_rows(
    file: &Path,
    format: Format,
    decode_rows: bool,
    each: impl FnMut(Row) -> Result<(), String>,
) -> Result<Vec<String>, String> {
    let pool = client::pool()?;
    let desc = pool
        .get_message_by_name(HOUR_RECORD)
        .ok_or("no HourRecord in the descriptors")?;
    let f = File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let reader = Reader {
        file,
        desc,
        decode_rows,
        keys: Keys::default(),
    };
    match format {
        Format::Csv => reader.csv(f, each),
        Format::Jsonl => reader.jsonl(f, each).map(|()| Vec::new()),
    }
}

/// What reading the rows of a file needs.
struct Reader<'a> {
    file: &'a Path,
    desc: MessageDescriptor,
    decode_rows: bool,
    keys: Keys,
}

impl Reader<'_> {
    /// The rows of a CSV file, after its header (which it returns) is
    /// checked; blank rows are skipped.
    fn csv(
        mut self,
        f: File,
        mut each: impl FnMut(Row) -> Result<(), String>,
    ) -> Result<Vec<String>, String> {
        let file = self.file;
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(BufReader::new(f));
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| csv_error(file, e))?
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
            .collect();
        let columns = self.columns(&headers)?;
        for record in reader.records() {
            let record = record.map_err(|e| csv_error(file, e))?;
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            let cells: Vec<String> = record.iter().map(str::to_owned).collect();
            if cells.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            if !self.decode_rows {
                each(Row {
                    line,
                    raw: Raw::Csv(Vec::new()),
                    parsed: Err(String::new()),
                })?;
                continue;
            }
            let parsed = csv_row(&columns, &cells)
                .and_then(|v| decode(&self.desc, v))
                .map(|mut r| {
                    self.keys.assign(&mut r);
                    r
                });
            each(Row {
                line,
                raw: Raw::Csv(cells),
                parsed,
            })?;
        }
        Ok(headers)
    }

    /// The columns a CSV header names; it must name an engineer column.
    fn columns(&self, headers: &[String]) -> Result<Vec<(String, Column)>, String> {
        let file = self.file;
        let mut columns = Vec::new();
        for h in headers {
            columns.push((
                h.clone(),
                column(&self.desc, h).map_err(|e| format!("{}: {e}", file.display()))?,
            ));
        }
        if !headers.iter().any(|h| h == "engineer") {
            return Err(format!(
                "{}: there is no engineer column; the first line must name the columns, for example \
                 engineer,registry_activity,face_to_face.subject_category,face_to_face.start_date,\
                 face_to_face.days,face_to_face.hours_per_day",
                file.display()
            ));
        }
        Ok(columns)
    }

    /// The lines of a JSON Lines file, a record each (or a line of a
    /// rejects file, whose record it carries); blank lines are skipped.
    fn jsonl(
        mut self,
        f: File,
        mut each: impl FnMut(Row) -> Result<(), String>,
    ) -> Result<(), String> {
        let file = self.file;
        for (i, line) in BufReader::new(f).lines().enumerate() {
            let line = line.map_err(|e| {
                format!(
                    "{} line {}: {e} (save the file as UTF-8)",
                    file.display(),
                    i + 1
                )
            })?;
            if line.trim().is_empty() {
                continue;
            }
            if !self.decode_rows {
                each(Row {
                    line: i as u64 + 1,
                    raw: Raw::Json(String::new()),
                    parsed: Err(String::new()),
                })?;
                continue;
            }
            let parsed = serde_json::from_str::<Value>(&line)
                .map_err(|e| format!("not JSON: {e}"))
                .map(|v| match v {
                    // A line of a rejects file: the record it carries.
                    Value::Object(mut o) if o.contains_key("rejected_reason") => {
                        o.remove("record").unwrap_or(Value::Null)
                    }
                    v => v,
                })
                .and_then(|v| decode(&self.desc, v))
                .map(|mut r| {
                    self.keys.assign(&mut r);
                    r
                });
            each(Row {
                line: i as u64 + 1,
                raw: Raw::Json(line),
                parsed,
            })?;
        }
        Ok(())
    }
}

fn csv_error(file: &Path, e: csv::Error) -> String {
    let at = e
        .position()
        .map(|p| format!(" line {}", p.line()))
        .unwrap_or_default();
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => format!(
            "{}{at}: the file is not UTF-8 text; in the spreadsheet, save it as \"CSV UTF-8\"",
            file.display()
        ),
        _ => format!("{}{at}: {e}", file.display()),
    }
}

/// The rejects file, written as rows are answered.
struct Rejects {
    path: PathBuf,
    out: std::io::BufWriter<File>,
    /// Which input columns are copied (not the `rejected_*` ones).
    keep: Vec<bool>,
    format: Format,
}

impl Rejects {
    fn open(
        path: &Path,
        format: Format,
        headers: &[String],
        resume_at: Option<u64>,
    ) -> Result<Rejects, String> {
        let err = |e: std::io::Error| format!("{}: {e}", path.display());
        let keep: Vec<bool> = headers
            .iter()
            .map(|h| !h.starts_with("rejected_"))
            .collect();
        let file = match resume_at {
            Some(len) => {
                let mut f = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(path)
                    .map_err(err)?;
                f.set_len(len).map_err(err)?;
                f.seek(std::io::SeekFrom::End(0)).map_err(err)?;
                f
            }
            None => File::create(path).map_err(err)?,
        };
        let mut r = Rejects {
            path: path.to_owned(),
            out: std::io::BufWriter::new(file),
            keep,
            format,
        };
        if resume_at.is_none() && format == Format::Csv {
            let mut header: Vec<String> = headers
                .iter()
                .zip(&r.keep)
                .filter(|(_, k)| **k)
                .map(|(h, _)| h.clone())
                .collect();
            header.push("rejected_line".into());
            header.push("rejected_reason".into());
            r.write_csv(&header)?;
        }
        Ok(r)
    }

    fn write_csv(&mut self, cells: &[String]) -> Result<(), String> {
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        w.write_record(cells).map_err(|e| e.to_string())?;
        let bytes = w.into_inner().map_err(|e| e.to_string())?;
        self.out
            .write_all(&bytes)
            .map_err(|e| format!("{}: {e}", self.path.display()))
    }

    fn add(&mut self, row: &Row, reason: &str) -> Result<(), String> {
        match (&row.raw, self.format) {
            (Raw::Csv(cells), _) => {
                let mut out: Vec<String> = cells
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| self.keep.get(*i).copied().unwrap_or(true))
                    .map(|(_, c)| c.clone())
                    .collect();
                out.push(row.line.to_string());
                out.push(reason.to_owned());
                self.write_csv(&out)
            }
            (Raw::Json(line), _) => {
                let record =
                    serde_json::from_str::<Value>(line).unwrap_or(Value::String(line.clone()));
                let record = match record {
                    Value::Object(mut o) if o.contains_key("rejected_reason") => {
                        o.remove("record").unwrap_or(Value::Null)
                    }
                    v => v,
                };
                let v = serde_json::json!({
                    "rejected_line": row.line,
                    "rejected_reason": reason,
                    "record": record,
                });
                writeln!(self.out, "{v}").map_err(|e| format!("{}: {e}", self.path.display()))
            }
        }
    }

    /// Flushes and says how long the file is now.
    fn sync(&mut self) -> Result<u64, String> {
        let err = |e: std::io::Error| format!("{}: {e}", self.path.display());
        self.out.flush().map_err(err)?;
        self.out.get_ref().sync_data().map_err(err)?;
        self.out.get_ref().metadata().map(|m| m.len()).map_err(err)
    }
}

fn save(path: &Path, p: &Progress) -> Result<(), String> {
    let tmp = path.with_extension("cectl-progress.tmp");
    let text = serde_json::to_vec_pretty(p).map_err(|e| e.to_string())?;
    std::fs::write(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// A refusal in one line: each bad field with its rule, else the message.
fn reason(r: &ce_proto::common::Refusal) -> String {
    if r.field_violations.is_empty() {
        return if r.message.is_empty() {
            r.code.clone()
        } else {
            r.message.clone()
        };
    }
    r.field_violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A batch on its way: its rows, and whether a message was sent for it.
struct Batch {
    rows: Vec<Row>,
    sent: usize,
}

pub async fn run(conn: &Conn, args: Args) -> Result<Outcome, String> {
    let started = std::time::SystemTime::now();
    let file = &args.file;
    let format = format_of(file, args.format)?;
    if args.batch == 0 || args.batch > 1000 {
        return Err("--batch: between 1 and 1000 records a message".into());
    }
    let sha = sha256_of(file)?;
    let progress_file = progress_path(file);
    let rejects_path = args
        .rejects
        .clone()
        .unwrap_or_else(|| default_rejects(file, format));
    if same_file(&rejects_path, file) {
        return Err(format!(
            "--rejects {}: that is the file being imported; name another",
            rejects_path.display()
        ));
    }
    let (mut progress, resuming) = load_progress(file, &progress_file, sha, args.restart)?;

    // A first pass counts the rows (and checks the header) for the progress
    // bar, without decoding them.
    let mut total = 0u64;
    let headers = read_rows(file, format, false, |_| {
        total += 1;
        Ok(())
    })?;

    let channel = conn.channel(Service::Crediting).await?;
    let mut crediting = CreditingServiceClient::new(channel)
        .max_decoding_message_size(64 * 1024 * 1024)
        .max_encoding_message_size(64 * 1024 * 1024);
    let mut rejects = Rejects::open(
        &rejects_path,
        format,
        &headers,
        resuming.then_some(progress.rejects_len),
    )?;
    let bar = progress_bar(total, progress.rows_done)?;

    let (req_tx, req_rx) = tokio::sync::mpsc::channel::<BulkUploadHourRecordsRequest>(2);
    let (batch_tx, mut batch_rx) = tokio::sync::mpsc::unbounded_channel::<Batch>();
    let reader = spawn_reader(
        file.clone(),
        format,
        progress.rows_done,
        args.batch,
        req_tx,
        batch_tx,
    );

    let mut request = conn.request(tokio_stream::wrappers::ReceiverStream::new(req_rx))?;
    request.set_timeout(std::time::Duration::from_secs(24 * 3600));
    let mut ledger = Ledger {
        progress: &mut progress,
        rejects: &mut rejects,
        progress_file: &progress_file,
        bar: &bar,
        started,
    };
    let outcome = ledger.upload(&mut crediting, request, &mut batch_rx).await;
    bar.finish_and_clear();
    // The reader ends once its channels close.
    drop(batch_rx);
    let read = reader.await.map_err(|e| e.to_string())?;
    if let Err(e) = outcome {
        return Err(format!(
            "{e}\nThe import stopped after {} of {} rows; run the same command again to continue \
             (rows already sent are not stored twice).",
            progress.rows_done, total
        ));
    }
    read?;
    let _ = std::fs::remove_file(&progress_file);
    if progress.refused == 0 {
        let _ = std::fs::remove_file(&rejects_path);
    }
    summary(file, &progress, &rejects_path);
    Ok(Outcome {
        refused: progress.refused,
    })
}

/// The file's format: as given, else as its extension says.
fn format_of(file: &Path, given: Option<Format>) -> Result<Format, String> {
    Ok(match given {
        Some(f) => f,
        None => match file
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_lowercase)
            .as_deref()
        {
            Some("csv") => Format::Csv,
            Some("jsonl" | "ndjson" | "json") => Format::Jsonl,
            _ => {
                return Err(format!(
                    "{}: say which format it is with --format csv or --format jsonl",
                    file.display()
                ));
            }
        },
    })
}

/// The progress to start from, and whether it resumes an interrupted
/// import: what is saved beside the file, if the file is the same and no
/// restart is asked for, else nothing done yet.
fn load_progress(
    file: &Path,
    progress_file: &Path,
    sha: String,
    restart: bool,
) -> Result<(Progress, bool), String> {
    if restart || !progress_file.exists() {
        return Ok((
            Progress {
                sha256: sha,
                ..Default::default()
            },
            false,
        ));
    }
    let text = std::fs::read_to_string(progress_file)
        .map_err(|e| format!("{}: {e}", progress_file.display()))?;
    let saved: Progress = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}: unreadable ({e}); run with --restart to start again (nothing is stored twice)",
            progress_file.display()
        )
    })?;
    if saved.sha256 != sha {
        return Err(format!(
            "{} changed since an interrupted import (progress in {}); run with --restart to import it from \
             the start: rows already stored are recognised by their keys and not stored twice",
            file.display(),
            progress_file.display()
        ));
    }
    eprintln!(
        "Resuming {}: {} rows were answered before the interruption.",
        file.display(),
        saved.rows_done
    );
    Ok((saved, true))
}

fn progress_bar(total: u64, done: u64) -> Result<indicatif::ProgressBar, String> {
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40.cyan/blue} {pos}/{len} rows  {per_sec}  eta {eta}  {msg}",
        )
        .map_err(|e| e.to_string())?,
    );
    bar.set_position(done);
    Ok(bar)
}

/// Reads the rows after the first `skip` on a thread of their own and
/// hands them over in batches: each batch's rows to `batches`, the records
/// among them that parsed to `requests` as one message. A batch closes at
/// `batch_size` good records or four times as many rows. It stops early if
/// the upload fails.
fn spawn_reader(
    file: PathBuf,
    format: Format,
    skip: u64,
    batch_size: usize,
    requests: tokio::sync::mpsc::Sender<BulkUploadHourRecordsRequest>,
    batches: tokio::sync::mpsc::UnboundedSender<Batch>,
) -> tokio::task::JoinHandle<Result<(), String>> {
    tokio::task::spawn_blocking(move || {
        let mut index = 0u64;
        let mut rows = Vec::new();
        let mut good = 0usize;
        let flush = |rows: &mut Vec<Row>, good: &mut usize| -> Result<(), String> {
            let batch = std::mem::take(rows);
            let records: Vec<HourRecord> = batch
                .iter()
                .filter_map(|r| r.parsed.as_ref().ok().cloned())
                .collect();
            let sent = records.len();
            *good = 0;
            batches
                .send(Batch { rows: batch, sent })
                .map_err(|_| "stopped".to_owned())?;
            if sent > 0 {
                requests
                    .blocking_send(BulkUploadHourRecordsRequest {
                        hour_records: records,
                    })
                    .map_err(|_| "stopped".to_owned())?;
            }
            Ok(())
        };
        read_rows(&file, format, true, |row| {
            index += 1;
            if index <= skip {
                return Ok(());
            }
            if row.parsed.is_ok() {
                good += 1;
            }
            rows.push(row);
            if good >= batch_size || rows.len() >= batch_size * 4 {
                flush(&mut rows, &mut good)?;
            }
            Ok(())
        })?;
        if !rows.is_empty() {
            flush(&mut rows, &mut good)?;
        }
        Ok::<(), String>(())
    })
}

/// Where the answers go: the counts, the rejects file, the progress saved
/// beside the input, and the bar.
struct Ledger<'a> {
    progress: &'a mut Progress,
    rejects: &'a mut Rejects,
    progress_file: &'a Path,
    bar: &'a indicatif::ProgressBar,
    /// When this run began: a record created before was stored by an
    /// earlier import.
    started: std::time::SystemTime,
}

impl Ledger<'_> {
    /// Sends the messages the reader makes and files the answer to each
    /// batch, in order, until the reader is done.
    async fn upload(
        &mut self,
        crediting: &mut CreditingServiceClient<tonic::transport::Channel>,
        request: tonic::Request<
            tokio_stream::wrappers::ReceiverStream<BulkUploadHourRecordsRequest>,
        >,
        batches: &mut tokio::sync::mpsc::UnboundedReceiver<Batch>,
    ) -> Result<(), String> {
        let mut answers = crediting
            .bulk_upload_hour_records(request)
            .await
            .map_err(|s| client::describe(&s))?
            .into_inner();
        while let Some(batch) = batches.recv().await {
            let results = if batch.sent > 0 {
                let answer = answers
                    .message()
                    .await
                    .map_err(|s| client::describe(&s))?
                    .ok_or("the service ended the upload early")?;
                if answer.results.len() != batch.sent {
                    return Err(format!(
                        "the service answered {} records of a message of {}",
                        answer.results.len(),
                        batch.sent
                    ));
                }
                answer.results
            } else {
                Vec::new()
            };
            self.file_batch(&batch, results)?;
        }
        Ok(())
    }

    /// Files what became of each row of a batch (its own parse error, or
    /// the service's answer, in order), then saves the progress.
    fn file_batch(&mut self, batch: &Batch, results: Vec<BulkUploadResult>) -> Result<(), String> {
        let progress = &mut *self.progress;
        let mut results = results.into_iter();
        for row in &batch.rows {
            let why = match &row.parsed {
                Err(e) => Some(e.clone()),
                Ok(_) => {
                    let r = results.next().ok_or("missing answer")?;
                    answered(progress, r, self.started)
                }
            };
            if let Some(why) = why {
                progress.refused += 1;
                let first = why.split("; ").next().unwrap_or(&why).to_owned();
                *progress.reasons.entry(first).or_insert(0) += 1;
                self.rejects.add(row, &why)?;
            }
        }
        progress.rows_done += batch.rows.len() as u64;
        progress.rejects_len = self.rejects.sync()?;
        save(self.progress_file, progress)?;
        self.bar.set_position(progress.rows_done);
        self.bar
            .set_message(format!("{} refused", progress.refused));
        Ok(())
    }
}

/// Counts a record the service holds (stored now, or before `started`);
/// for one it refused, the reason.
fn answered(
    progress: &mut Progress,
    r: BulkUploadResult,
    started: std::time::SystemTime,
) -> Option<String> {
    match (r.hour_record, r.refusal) {
        (Some(hr), _) => {
            progress.accepted += 1;
            if created_before(&hr, started) {
                progress.stored_before += 1;
                return None;
            }
            let hours = hr.explanation.map(|e| e.hours).unwrap_or(0.0);
            if hr.state == RecordState::Confirmed as i32 {
                progress.confirmed += 1;
                progress.hours += hours;
            } else {
                progress.pending_hours += hours;
            }
            None
        }
        (None, Some(refusal)) => Some(reason(&refusal)),
        (None, None) => Some("the service gave no answer for this record".into()),
    }
}

/// Whether the service created `hr` before `started`: a re-sent row's
/// answer is the record an earlier import stored (the answer does not say
/// so otherwise; this trusts this machine's clock and the service's to agree).
fn created_before(hr: &HourRecord, started: std::time::SystemTime) -> bool {
    let Some(t) = &hr.create_time else {
        return false;
    };
    let Ok(since) = started.duration_since(std::time::UNIX_EPOCH) else {
        return false;
    };
    (t.seconds, t.nanos) < (since.as_secs() as i64, since.subsec_nanos() as i32)
}

/// What the import achieved, with the most frequent reasons for refusal.
/// Only confirmed hours are credited; a submission's hours await
/// confirmation (Art. 21).
fn summary(file: &Path, progress: &Progress, rejects_path: &Path) {
    let rows = if progress.rows_done == 1 {
        "row"
    } else {
        "rows"
    };
    println!("Imported {}: {} {rows}", file.display(), progress.rows_done);
    let new = progress.accepted - progress.stored_before;
    let mut what = Vec::new();
    if progress.confirmed > 0 {
        what.push(format!(
            "confirmed {}, {:.2} hours credited",
            progress.confirmed, progress.hours
        ));
    }
    if new > progress.confirmed {
        what.push(format!(
            "awaiting confirmation {}, {:.2} hours not credited until confirmed",
            new - progress.confirmed,
            progress.pending_hours
        ));
    }
    let stored = format!("  {:<14} {new:>6}   {}", "stored", what.join("; "));
    println!("{}", stored.trim_end());
    if progress.stored_before > 0 {
        println!(
            "  already stored {:>6}   sent before and stored then; not stored twice",
            progress.stored_before
        );
    }
    if progress.refused > 0 {
        println!(
            "  refused        {:>6}   each with its reason in {}",
            progress.refused,
            rejects_path.display()
        );
        let mut top: Vec<(&String, &u64)> = progress.reasons.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        println!("Most frequent reasons:");
        for (why, n) in top.into_iter().take(5) {
            println!("  {n:>7}  {why}");
        }
    } else {
        println!("  refused        {:>6}", 0);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn desc() -> MessageDescriptor {
        client::pool()
            .unwrap()
            .get_message_by_name(HOUR_RECORD)
            .unwrap()
    }

    fn row(headers: &[&str], cells: &[&str]) -> Result<HourRecord, String> {
        let d = desc();
        let columns: Vec<(String, Column)> = headers
            .iter()
            .map(|h| (h.to_string(), column(&d, h).unwrap()))
            .collect();
        let cells: Vec<String> = cells.iter().map(|c| c.to_string()).collect();
        csv_row(&columns, &cells).and_then(|v| decode(&d, v))
    }

    #[test]
    fn a_rejects_file_imported_again_keeps_its_own_rejects() {
        let named = |f: &str, format| default_rejects(Path::new(f), format).display().to_string();
        assert_eq!(named("hours.csv", Format::Csv), "hours.rejects.csv");
        assert_eq!(
            named("hours.rejects.csv", Format::Csv),
            "hours.rejects-2.csv"
        );
        assert_eq!(
            named("in/hours.rejects-2.csv", Format::Csv),
            "in/hours.rejects-3.csv"
        );
        assert_eq!(
            named("hours.rejects.jsonl", Format::Jsonl),
            "hours.rejects-2.jsonl"
        );
        // Only its own pattern marks a rejects file.
        assert_eq!(
            named("hours.rejects-x.csv", Format::Csv),
            "hours.rejects-x.rejects.csv"
        );
        assert_eq!(named("rejects.csv", Format::Csv), "rejects.rejects.csv");
    }

    #[test]
    fn columns_name_what_is_wrong() {
        let d = desc();
        let err = column(&d, "face_to_face.hour_per_day").err().unwrap();
        assert!(err.contains("hours_per_day"), "{err}");
        let err = column(&d, "year").err().unwrap();
        assert!(err.contains("first day"), "{err}");
        let err = column(&d, "face_to_face").err().unwrap();
        assert!(err.contains("face_to_face.days"), "{err}");
        assert!(matches!(column(&d, "rejected_reason"), Ok(Column::Ignored)));
        assert!(matches!(
            column(&d, "faceToFace.hoursPerDay"),
            Ok(Column::Field(_))
        ));
    }

    #[test]
    fn cells_take_the_forms_people_type() {
        let h = [
            "engineer",
            "face_to_face.subject_category",
            "face_to_face.start_date",
            "face_to_face.days",
        ];
        let r = row(&h, &["engineers/a", "Professional", "2026/3/2", "5"]).unwrap();
        let Some(ce_proto::crediting::hour_record::Activity::FaceToFace(f)) = r.activity else {
            panic!("{r:?}")
        };
        assert_eq!(
            f.subject_category,
            ce_proto::common::SubjectCategory::Professional as i32
        );
        assert_eq!(f.start_date.unwrap().day, 2);
        assert_eq!(f.days, 5);
        let err = row(&h, &["engineers/a", "professional", "2026-02-30", "5"]).unwrap_err();
        assert!(
            err.contains("face_to_face.start_date") && err.contains("calendar"),
            "{err}"
        );
        for (cell, day) in [("2026-03-02", 2), ("2026.03.09", 9), ("2026/12/31", 31)] {
            let r = row(&h, &["engineers/a", "professional", cell, "5"]).unwrap();
            let Some(ce_proto::crediting::hour_record::Activity::FaceToFace(f)) = r.activity else {
                panic!("{r:?}")
            };
            assert_eq!(f.start_date.map(|d| d.day), Some(day), "{cell}");
        }
        for (cell, says) in [
            ("2026-03-32", "is not a day of the calendar"),
            ("2026-03-00", "is not a day of the calendar"),
            ("2026-13-02", "is not a date: write YYYY-MM-DD"),
            ("2026-03", "is not a date: write YYYY-MM-DD"),
            ("2 March 2026", "is not a date: write YYYY-MM-DD"),
        ] {
            let err = row(&h, &["engineers/a", "professional", cell, "5"]).unwrap_err();
            assert!(
                err.contains("face_to_face.start_date")
                    && err.contains(&format!("{cell:?} {says}")),
                "{cell}: {err}"
            );
        }
        let err = row(&h, &["engineers/a", "professional", "2026-02-03", "5.5"]).unwrap_err();
        assert!(
            err.contains("face_to_face.days") && err.contains("whole number"),
            "{err}"
        );
        // An ambiguous enum value lists the choices.
        let err = row(&["conversion.kind"], &["sole"]).unwrap_err();
        assert!(
            err.contains("KIND_PAPER_SOLE") && err.contains("KIND_BOOK_SOLE"),
            "{err}"
        );
        assert!(row(&["conversion.kind"], &["paper_sole"]).is_ok());
    }

    #[test]
    fn a_records_key_follows_its_content_not_the_column_order() {
        let a = row(
            &["engineer", "face_to_face.days", "registry_activity"],
            &["engineers/a", "2", "activities/x"],
        )
        .unwrap();
        let b = row(
            &["registry_activity", "engineer", "face_to_face.days"],
            &["activities/x", "engineers/a", "2"],
        )
        .unwrap();
        let mut keys = Keys::default();
        let (mut a1, mut a2, mut b1) = (a.clone(), a, b);
        keys.assign(&mut a1);
        keys.assign(&mut a2);
        let mut fresh = Keys::default();
        fresh.assign(&mut b1);
        assert_eq!(a1.client_key, b1.client_key);
        // The second identical row of a file is a record of its own.
        assert_eq!(a2.client_key, format!("{}-2", a1.client_key));
        // A key the file gives is kept.
        let mut given = HourRecord {
            client_key: "GD-2026-0001".into(),
            ..Default::default()
        };
        keys.assign(&mut given);
        assert_eq!(given.client_key, "GD-2026-0001");
    }
}
