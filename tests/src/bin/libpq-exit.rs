//! Exits while eight threads are opening PostgreSQL connections, as a
//! process does when a pool is still reconnecting in the background at its
//! end. With `--as-services`, libpq is set up the way `ce_db::Db::connect`
//! sets it up (`ce_db::init_libpq`, `ce_db::libpq_url`); without, libpq is
//! left to its defaults. `tests/tests/exit.rs` runs both.
//!
//! Usage: `libpq-exit [--as-services] POSTGRES_URL`. Exit code 0, or 2 if
//! the server cannot be reached; a crash at exit shows as a signal.

use diesel::Connection;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let as_services = args.first().is_some_and(|a| a == "--as-services");
    if as_services {
        args.remove(0);
    }
    let Some(mut url) = args.pop() else {
        eprintln!("usage: libpq-exit [--as-services] POSTGRES_URL");
        std::process::exit(2);
    };
    if as_services {
        ce_db::init_libpq();
        url = ce_db::libpq_url(&url);
    }
    // One connection first: libpq and OpenSSL are initialised before the threads.
    if let Err(e) = diesel::PgConnection::establish(&url) {
        eprintln!("cannot connect to {url}: {e}");
        std::process::exit(2);
    }
    for _ in 0..8 {
        let url = url.clone();
        std::thread::spawn(move || {
            loop {
                let _ = diesel::PgConnection::establish(&url);
            }
        });
    }
    std::thread::sleep(std::time::Duration::from_millis(150));
    std::process::exit(0);
}
