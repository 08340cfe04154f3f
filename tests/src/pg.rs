//! PostgreSQL test databases for integration tests.
//!
//! [`fresh_database`] hands every test its own empty, uniquely named database
//! (`ce_test_<pid>_<counter>_<random>`), dropped best effort when the returned
//! [`TestDatabase`] goes out of scope. The server comes from one of two places:
//!
//! 1. **External server**: if `CE_TEST_POSTGRES_URL` is set (for example
//!    `postgres://postgres@127.0.0.1:5432/test`), the database named in that URL
//!    is used as the admin database for `CREATE DATABASE` / `DROP DATABASE`, and
//!    the test URL is the same URL with the database path segment replaced.
//! 2. **Shared throwaway cluster**: otherwise the first test process creates a
//!    trust-auth cluster under `<target>/ce-test-pg/` (`<target>` is
//!    `$CARGO_TARGET_DIR`, else the workspace `target/`), using the server binaries
//!    from `pg_config --bindir` or the newest `/usr/lib/postgresql/*/bin`. It listens
//!    on 127.0.0.1 only, on a free port, with unix sockets disabled; its URL is
//!    written to `<target>/ce-test-pg/url`. Start-up is serialised with a lock file,
//!    so the many processes spawned by `cargo nextest` (one per test) reuse the
//!    same cluster as long as `pg_isready` reports it up. When running as root the
//!    binaries run as the `postgres` user (initdb refuses root).
//!
//! The shared cluster is deliberately **left running** after the tests finish,
//! so later runs start fast; call [`stop_shared_cluster`] (e.g. from a Makefile
//! target) to stop it and delete its data.

use diesel::{Connection, PgConnection, RunQueryDsl};
use std::hash::{BuildHasher, RandomState};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

const NO_POSTGRES: &str = "no PostgreSQL: set CE_TEST_POSTGRES_URL or install the server binaries";

/// A fresh, empty PostgreSQL database for one test; dropped (best effort) when this value drops.
pub struct TestDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

impl TestDatabase {
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // `CE_TEST_KEEP_DATABASES=1` leaves it for a look afterwards (EXPLAIN, psql).
        if std::env::var_os("CE_TEST_KEEP_DATABASES").is_some_and(|v| v == "1") {
            eprintln!("kept database {}", self.name);
            return;
        }
        if let Ok(mut conn) = PgConnection::establish(&self.admin_url) {
            // `WITH (FORCE)` (PostgreSQL >= 13) also ends connections the test left open.
            let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
            let _ = diesel::sql_query(sql).execute(&mut conn);
        }
    }
}

/// Creates a new uniquely named database (`ce_test_<pid>_<counter>_<random>`) and returns it.
pub fn fresh_database() -> TestDatabase {
    // Before this process's first libpq connection (see the function).
    ce_db::init_libpq();
    static SERVER: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let admin_url = SERVER.get_or_init(|| {
        ce_db::libpq_url(&match std::env::var("CE_TEST_POSTGRES_URL") {
            Ok(url) if !url.trim().is_empty() => url.trim().to_owned(),
            _ => shared_cluster_url(),
        })
    });
    let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
    let random = RandomState::new().hash_one(counter);
    let name = format!("ce_test_{}_{counter}_{random:016x}", std::process::id());
    let mut conn = PgConnection::establish(admin_url)
        .unwrap_or_else(|e| panic!("{NO_POSTGRES} (cannot connect to {admin_url}: {e})"));
    diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name} on {admin_url} failed: {e}"));
    let url = with_database(admin_url, &name);
    TestDatabase {
        url,
        admin_url: admin_url.clone(),
        name,
    }
}

/// Stops the shared throwaway cluster (if any) and deletes its data directory.
pub fn stop_shared_cluster() {
    let dir = cluster_dir();
    if !dir.exists() {
        return;
    }
    let _lock = LockFile::acquire(&dir);
    if let Some(bin) = find_bindir() {
        stop_cluster(&bin, &dir.join("data"));
    }
    let _ = std::fs::remove_file(dir.join("url"));
    let _ = std::fs::remove_dir_all(dir.join("data"));
}

/// Replaces the database path segment of a `postgres://` URL, keeping any query string.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let path = base[authority..]
        .find('/')
        .map_or(base.len(), |i| authority + i);
    format!("{}/{db}{query}", &base[..path])
}

fn cluster_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => workspace.join(dir), // `join` keeps absolute paths
        _ => workspace.join("target"),
    };
    target.join("ce-test-pg")
}

fn shared_cluster_url() -> String {
    let dir = cluster_dir();
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let bin = find_bindir().unwrap_or_else(|| panic!("{NO_POSTGRES}"));
    if let Some(url) = running_cluster(&bin, &dir) {
        return url;
    }
    let _lock = LockFile::acquire(&dir);
    // Another process may have started it while we waited for the lock.
    running_cluster(&bin, &dir).unwrap_or_else(|| start_cluster(&bin, &dir))
}

fn running_cluster(bin: &Path, dir: &Path) -> Option<String> {
    let url = std::fs::read_to_string(dir.join("url")).ok()?;
    let mut pg_isready = Command::new(bin.join("pg_isready"));
    let ready = pg_isready
        .args(["-q", "-t", "5", "-d", url.trim()])
        .status();
    ready.ok()?.success().then(|| url.trim().to_owned())
}

/// The shared cluster, started on a free port; it outlives this process, so
/// nothing here can hold the port for it (see [`crate::ports`]).
fn start_cluster(bin: &Path, dir: &Path) -> String {
    let data = dir.join("data");
    let _ = std::fs::remove_file(dir.join("url"));
    init_cluster(bin, &data);
    // The port is only reserved until the listener drops, so retry if another process took it.
    let mut attempts = 0;
    let port = loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap_or_else(|e| panic!("cannot pick a free port: {e}"))
            .port();
        attempts += 1;
        match start_server(bin, &data, port) {
            Ok(()) => break port,
            Err(_) if attempts < 3 => {}
            Err(failure) => panic!("{NO_POSTGRES} ({failure})"),
        }
    };
    let url = cluster_url(port);
    let tmp = dir.join("url.tmp");
    std::fs::write(&tmp, &url)
        .and_then(|()| std::fs::rename(&tmp, dir.join("url")))
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", dir.join("url").display()));
    url
}

/// A new, empty cluster in `data`, after stopping and deleting any stale one
/// from an earlier run.
fn init_cluster(bin: &Path, data: &Path) {
    stop_cluster(bin, data); // a stale cluster from an earlier run must be down before wiping
    let _ = std::fs::remove_dir_all(data);
    std::fs::create_dir_all(data)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", data.display()));
    if is_root() {
        run(Command::new("chown").args(["-R", "postgres:"]).arg(data));
    }
    let initdb_args = ["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"];
    run(pg_cmd(bin, "initdb", data).args(initdb_args));
}

/// Starts the cluster in `data` on `port` and waits until it accepts
/// connections; why not, with its log, if it does not.
fn start_server(bin: &Path, data: &Path, port: u16) -> Result<(), String> {
    let mut pg_ctl = pg_cmd(bin, "pg_ctl", data);
    // `-l` matters: the server must not inherit our stdout/stderr pipes.
    pg_ctl.arg("-l").arg(data.join("server.log"));
    let opts = server_options(port);
    match pg_ctl
        .args(["-o", &opts, "-w", "-t", "60", "start"])
        .output()
    {
        Ok(out) if out.status.success() => Ok(()),
        out => {
            let log = std::fs::read_to_string(data.join("server.log")).unwrap_or_default();
            Err(format!("pg_ctl start failed: {out:?}; server log:\n{log}"))
        }
    }
}

fn cluster_url(port: u16) -> String {
    format!("postgres://postgres@127.0.0.1:{port}/postgres")
}

/// The server's options: TCP on 127.0.0.1 only (unix sockets are disabled,
/// `-k ''`), and no durability a test does not need (a clean stop still
/// writes everything).
fn server_options(port: u16) -> String {
    format!(
        "-p {port} -k '' -c listen_addresses=127.0.0.1 -c fsync=off \
         -c synchronous_commit=off -c full_page_writes=off"
    )
}

/// A PostgreSQL server of its own, for a test that stops and restarts it
/// without disturbing the tests that share the common server. Stopped and
/// deleted when dropped. Its port is held while it lives (see
/// [`crate::ports`]; PostgreSQL binds with `SO_REUSEADDR`), so that it is
/// still free when the server starts again.
pub struct PrivateCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: crate::ports::HeldPort,
    /// The admin URL (database `postgres`).
    pub url: String,
}

impl PrivateCluster {
    pub fn start() -> PrivateCluster {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let bin = find_bindir().unwrap_or_else(|| panic!("{NO_POSTGRES}"));
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        // Beside the shared cluster, under target/: the postgres user can
        // reach it there (a 0700 temporary folder it could not).
        let dir =
            cluster_dir().with_file_name(format!("ce-test-pg-private-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let port = crate::ports::HeldPort::pick();
        let data = dir.join("data");
        init_cluster(&bin, &data);
        start_server(&bin, &data, port.port()).unwrap_or_else(|e| panic!("{NO_POSTGRES} ({e})"));
        let url = ce_db::libpq_url(&cluster_url(port.port()));
        PrivateCluster {
            bin,
            dir,
            port,
            url,
        }
    }

    /// A new database on this server; its URL.
    pub fn database(&self, name: &str) -> String {
        ce_db::init_libpq();
        let mut conn =
            PgConnection::establish(&self.url).unwrap_or_else(|e| panic!("{}: {e}", self.url));
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        with_database(&self.url, name)
    }

    /// Stops the server the way an operator's restart does (`-m fast`:
    /// sessions are ended, everything committed is written).
    pub fn stop(&self) {
        run(pg_cmd(&self.bin, "pg_ctl", &self.dir.join("data")).args(["-m", "fast", "-w", "stop"]));
    }

    /// Starts it again on the same port.
    pub fn start_again(&self) {
        start_server(&self.bin, &self.dir.join("data"), self.port.port())
            .unwrap_or_else(|e| panic!("{NO_POSTGRES} ({e})"));
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        stop_cluster(&self.bin, &self.dir.join("data"));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn stop_cluster(bin: &Path, data: &Path) {
    if data.join("PG_VERSION").exists() {
        let _ = pg_cmd(bin, "pg_ctl", data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

fn find_bindir() -> Option<PathBuf> {
    let pg_config = Command::new("pg_config").arg("--bindir").output().ok();
    if let Some(out) = pg_config.filter(|o| o.status.success()) {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return Some(dir);
        }
    }
    let versions = std::fs::read_dir("/usr/lib/postgresql").ok()?;
    versions
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.parse::<f64>().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("initdb").exists())
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, bin)| bin)
}

fn is_root() -> bool {
    static ROOT: OnceLock<bool> = OnceLock::new();
    *ROOT.get_or_init(|| {
        let id = Command::new("id").arg("-u").output();
        id.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
    })
}

/// `<bin>/<tool> -D <data>`, run as the `postgres` user when we are root (initdb refuses root).
fn pg_cmd(bin: &Path, tool: &str, data: &Path) -> Command {
    let mut cmd = if is_root() {
        let mut runuser = Command::new("runuser");
        runuser.args(["-u", "postgres", "--"]).arg(bin.join(tool));
        runuser
    } else {
        Command::new(bin.join(tool))
    };
    cmd.arg("-D").arg(data);
    cmd
}

fn run(cmd: &mut Command) {
    match cmd.output() {
        Ok(out) if out.status.success() => {}
        out => panic!("{NO_POSTGRES} ({cmd:?} failed: {out:?})"),
    }
}

/// Cross-process mutex: a lock file created with `create_new`, removed on drop.
struct LockFile(PathBuf);

impl LockFile {
    fn acquire(dir: &Path) -> LockFile {
        let path = dir.join("lock");
        loop {
            match std::fs::File::create_new(&path) {
                Ok(_) => return LockFile(path),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    // A holder killed mid-start-up leaves the file behind; break it after a while.
                    let modified = std::fs::metadata(&path).and_then(|m| m.modified());
                    let age = modified.map(|t| SystemTime::now().duration_since(t));
                    if age.is_ok_and(|a| a.unwrap_or_default() > Duration::from_secs(120)) {
                        let _ = std::fs::remove_file(&path);
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("cannot create {}: {e}", path.display()),
            }
        }
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
