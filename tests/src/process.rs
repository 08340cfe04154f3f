//! Service binaries as processes, as production runs them: started with
//! environment settings, watched for "serving", stopped with SIGTERM or
//! killed with SIGKILL, and killed if a test ends early.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A port on 127.0.0.1 for a service binary to listen on, held until the
/// test process ends (see [`crate::ports`]): the kernel gives it to no one
/// else before the service starts, nor while it is killed and started again.
pub fn free_port() -> u16 {
    crate::ports::HeldPort::pick().for_process().port()
}

/// A workspace binary, built by `cargo build -p NAME` (`make build` builds
/// them all; `make test` and `make faults` run it first).
pub fn binary(name: &str) -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let path = deps.parent().unwrap().parent().unwrap().join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p {name}` (or `make build`)",
        path.display()
    );
    path
}

/// A service binary that is killed if the test ends early.
pub struct Proc {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    /// The workspace binary `name` (see [`binary`]).
    pub fn start(name: &str, env: &[(String, String)]) -> Proc {
        Proc::start_at(&binary(name), env)
    }

    /// The binary at `path` (a release build, say).
    pub fn start_at(path: &std::path::Path, env: &[(String, String)]) -> Proc {
        let mut child = Command::new(path)
            // The tests' tokens are development ones; a setting given
            // in `env` wins.
            .envs(
                ["REGISTRY", "CREDITING", "SUPERVISION", "QUALITY"]
                    .map(|s| (format!("CE_{s}__ENVIRONMENT"), "development".to_owned())),
            )
            .envs(env.iter().cloned())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Proc { child, log }
    }

    pub async fn serving(&mut self, name: &str) {
        let started = Instant::now();
        while !self
            .log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("serving"))
        {
            if let Some(exit) = self.child.try_wait().unwrap() {
                panic!(
                    "{name} exited early: {exit:?}: {:?}",
                    self.log.lock().unwrap()
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{name} never started"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM, which flushes the span exporter; waits for the exit.
    pub fn stop(&mut self) {
        terminate(&mut self.child);
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Sends `child` SIGTERM and waits for it to exit, for at most 30 s.
pub fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn env(service: &str, pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (format!("CE_{}__{k}", service.to_uppercase()), v.clone()))
        .collect()
}

impl Proc {
    /// SIGKILL, as a crash or the OOM killer would; waits for the exit.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }
}

/// The server side's established TCP connections on `port` (IPv4), from
/// `/proc/net/tcp`: the sockets whose local port is the server's.
pub fn server_connections(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let port = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            cols.len() > 3 && cols[1].ends_with(&port) && cols[3] == "01"
        })
        .count()
}
