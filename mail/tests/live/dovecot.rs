//! The Dovecot of `scripts/start-dovecot.sh` (`make test` starts it) and a plain client of
//! the test's own for APPEND, for the live tests.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use async_imap::Session;
use tokio::net::TcpStream;

/// An account on the test Dovecot.
pub struct Server {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
}

/// The Dovecot `make test` started, or `None` (with the reason printed) without one.
pub fn server() -> Option<Server> {
    let Ok(host) = std::env::var("HELPDESK_IMAP_HOST") else {
        eprintln!(
            "skipped: HELPDESK_IMAP_HOST is not set \
             (eval \"$(scripts/start-dovecot.sh)\" first; make test does)"
        );
        return None;
    };
    let port = std::env::var("HELPDESK_IMAP_PORT")
        .map(|p| p.parse().expect("HELPDESK_IMAP_PORT is a port"))
        .unwrap_or(14143);
    let user = std::env::var("HELPDESK_IMAP_USER").unwrap_or_else(|_| "helpdesk".to_owned());
    let password = std::env::var("HELPDESK_IMAP_PASSWORD").expect("HELPDESK_IMAP_PASSWORD");
    Some(Server {
        host,
        port,
        user,
        password,
    })
}

/// A plain test client (the test's own, not the poller's) for APPEND and looking.
pub async fn client(server: &Server) -> Session<TcpStream> {
    let tcp = TcpStream::connect((server.host.as_str(), server.port))
        .await
        .unwrap();
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.unwrap().unwrap();
    client
        .login(&server.user, &server.password)
        .await
        .map_err(|(e, _)| e)
        .unwrap()
}

pub async fn append(session: &mut Session<TcpStream>, mailbox: &str, raw: &[u8]) {
    let _ = session.create(mailbox).await;
    session.append(mailbox, None, None, raw).await.unwrap();
}
