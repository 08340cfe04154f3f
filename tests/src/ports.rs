//! Local ports held for services that must be found at an address known
//! before they start, or again at the same address after a restart.
//!
//! Picking a port by binding `127.0.0.1:0` and closing the socket leaves it
//! free for anyone: while the service is not yet started, or is down for a
//! restart, the kernel may hand that very port to another test running in
//! parallel (its own service on port 0, or the local end of an outgoing
//! connection). The service then fails to start with `AddrInUse`, or, worse,
//! a peer configured with the address talks to the other test's service.
//!
//! A [`HeldPort`] closes that gap without choosing port numbers by hand. It
//! is a socket bound to the port with `SO_REUSEADDR` and never listening,
//! kept open for as long as the address must stay the service's. On Linux:
//!
//! - the kernel gives a held port to no one else: a bind to port 0 and an
//!   outgoing connection's local port both skip a port that a socket is bound
//!   to, whatever their own options;
//! - the service can still bind the port and listen on it, because it sets
//!   `SO_REUSEADDR` too (tokio's and std's `TcpListener::bind` do, and so does
//!   PostgreSQL) and the holder is not listening; it can do so again after
//!   it stops, as often as a test restarts it;
//! - while the service is down, a connection to the address is refused, as
//!   it would be in production, rather than answered by someone else.
//!
//! Ports from a range outside the kernel's ephemeral one would avoid the
//! kernel but not other test processes picking the same number; retrying a
//! failed start on another port would leave the peers' addresses wrong.

use std::net::SocketAddr;
use std::sync::Mutex;

use tokio::net::TcpSocket;

/// A port on 127.0.0.1 that the kernel hands to no one but a service that
/// asks for it by number, for as long as this value lives (see the module).
pub struct HeldPort {
    socket: TcpSocket,
    addr: SocketAddr,
}

impl HeldPort {
    /// A free port, chosen by the kernel, held from now on.
    pub fn pick() -> HeldPort {
        let socket = TcpSocket::new_v4().expect("a TCP socket");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        socket
            .bind(([127, 0, 0, 1], 0).into())
            .unwrap_or_else(|e| panic!("cannot hold a local port: {e}"));
        let addr = socket.local_addr().expect("the held port's address");
        HeldPort { socket, addr }
    }

    /// The address to give the service and its peers.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Holds the port until the test process ends, for a caller that has
    /// nowhere to keep the hold; its address.
    pub fn for_process(self) -> SocketAddr {
        static HELD: Mutex<Vec<TcpSocket>> = Mutex::new(Vec::new());
        HELD.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(self.socket);
        self.addr
    }
}

#[cfg(test)]
mod tests {
    use super::HeldPort;

    /// A service binds and listens on a held port, stops, and does so again.
    #[test]
    fn a_service_listens_on_a_held_port_and_again_after_a_restart() {
        let held = HeldPort::pick();
        for _ in 0..2 {
            let listener = std::net::TcpListener::bind(held.addr()).unwrap();
            let client = std::net::TcpStream::connect(held.addr()).unwrap();
            let (server, _) = listener.accept().unwrap();
            assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
        }
    }

    /// A socket that asks for a held port by number without `SO_REUSEADDR`
    /// is refused: the port is taken, as it is for a bind to port 0.
    #[test]
    fn a_held_port_is_taken_for_anyone_else() {
        let held = HeldPort::pick();
        let plain = tokio::net::TcpSocket::new_v4().unwrap();
        let err = plain.bind(held.addr()).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    }
}
