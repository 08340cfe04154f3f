//! A TCP proxy that can cut every connection through it, to prove a service
//! survives its database going away (after crates.io's `ChaosProxy`).

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Forwards 127.0.0.1:<port> to a target; `break_all` drops every open
/// connection and refuses new ones until `restore`.
pub struct ChaosProxy {
    addr: SocketAddr,
    up: watch::Sender<bool>,
}

impl ChaosProxy {
    pub async fn start(target: SocketAddr) -> Arc<ChaosProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (up, up_rx) = watch::channel(true);
        tokio::spawn(async move {
            loop {
                let Ok((inbound, _)) = listener.accept().await else {
                    return;
                };
                if !*up_rx.borrow() {
                    drop(inbound);
                    continue;
                }
                let mut up_rx = up_rx.clone();
                tokio::spawn(async move {
                    let Ok(outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    let (mut ri, mut wi) = inbound.into_split();
                    let (mut ro, mut wo) = outbound.into_split();
                    tokio::select! {
                        _ = tokio::io::copy(&mut ri, &mut wo) => {}
                        _ = tokio::io::copy(&mut ro, &mut wi) => {}
                        _ = up_rx.wait_for(|u| !*u) => {}
                    }
                });
            }
        });
        Arc::new(ChaosProxy { addr, up })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Drops every connection and refuses new ones.
    pub fn break_all(&self) {
        let _ = self.up.send(false);
    }

    pub fn restore(&self) {
        let _ = self.up.send(true);
    }
}
