//! Opening an authenticated IMAP session: TCP, TLS or STARTTLS, the greeting, LOGIN.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use async_imap::{Client, Session};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

use super::config::{ImapConfig, ImapSecurity, is_loopback_host};
use super::error::ImapError;

/// The byte stream under a session: plain TCP (loopback only) or TLS over TCP.
pub(crate) trait ImapIo: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug> ImapIo for T {}

/// An authenticated session, whatever the stream.
pub(crate) type ImapSession = Session<Box<dyn ImapIo>>;

/// Runs `fut` within the configured I/O timeout; a timeout is a typed, temporary error.
pub(crate) async fn timed<T>(
    config: &ImapConfig,
    operation: &'static str,
    fut: impl Future<Output = Result<T, ImapError>>,
) -> Result<T, ImapError> {
    match tokio::time::timeout(config.io_timeout, fut).await {
        Ok(result) => result,
        Err(_) => Err(ImapError::Timeout {
            host: config.host.clone(),
            mailbox: config.mailbox.clone(),
            operation,
        }),
    }
}

/// Connects, secures the stream as configured, reads the greeting and logs in.
pub(crate) async fn open_session(config: &ImapConfig) -> Result<ImapSession, ImapError> {
    config.validate()?;
    let tcp = timed(config, "connect", connect_tcp(config)).await?;
    let client = timed(config, "greeting", secure(config, tcp)).await?;
    timed(config, "LOGIN", async {
        client
            .login(&config.user, config.password())
            .await
            .map_err(|(source, _client)| ImapError::Auth {
                host: config.host.clone(),
                user: config.user.clone(),
                source,
            })
    })
    .await
}

async fn connect_tcp(config: &ImapConfig) -> Result<TcpStream, ImapError> {
    let connect_error = |source| ImapError::Connect {
        host: config.host.clone(),
        port: config.port,
        source,
    };
    let host = config.host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, config.port))
        .await
        .map_err(connect_error)?
        .collect();
    // Plain text only to loopback: checked on the resolved addresses as well, so a
    // `localhost` that resolves elsewhere does not carry the password over the network.
    if config.security == ImapSecurity::Plain
        && (!is_loopback_host(&config.host) || addrs.iter().any(|a| !a.ip().is_loopback()))
    {
        return Err(ImapError::PlainRefused {
            host: config.host.clone(),
        });
    }
    let mut last_error = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                // Commands are small and answered at once; do not let Nagle delay them.
                stream.set_nodelay(true).map_err(connect_error)?;
                return Ok(stream);
            }
            Err(error) => last_error = Some(error),
        }
    }
    Err(connect_error(last_error.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "the host name resolved to no address",
        )
    })))
}

/// The client over the configured security, its greeting read.
async fn secure(config: &ImapConfig, tcp: TcpStream) -> Result<Client<Box<dyn ImapIo>>, ImapError> {
    let greeting_error = |source: std::io::Error| ImapError::Command {
        host: config.host.clone(),
        mailbox: config.mailbox.clone(),
        operation: "greeting",
        source: source.into(),
    };
    match config.security {
        ImapSecurity::Plain => {
            let mut client = Client::new(Box::new(tcp) as Box<dyn ImapIo>);
            read_greeting(config, &mut client).await?;
            Ok(client)
        }
        ImapSecurity::Tls => {
            let tls = tls_handshake(config, tcp).await?;
            let mut client = Client::new(Box::new(tls) as Box<dyn ImapIo>);
            read_greeting(config, &mut client).await?;
            Ok(client)
        }
        ImapSecurity::StartTls => {
            let mut client = Client::new(tcp);
            match client.read_response().await {
                Ok(Some(_greeting)) => {}
                Ok(None) => return Err(greeting_error(closed())),
                Err(error) => return Err(greeting_error(error)),
            }
            client
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .map_err(|source| ImapError::Command {
                    host: config.host.clone(),
                    mailbox: config.mailbox.clone(),
                    operation: "STARTTLS",
                    source,
                })?;
            // After STARTTLS the server sends no second greeting.
            let tls = tls_handshake(config, client.into_inner()).await?;
            Ok(Client::new(Box::new(tls) as Box<dyn ImapIo>))
        }
    }
}

async fn read_greeting(
    config: &ImapConfig,
    client: &mut Client<Box<dyn ImapIo>>,
) -> Result<(), ImapError> {
    match client.read_response().await {
        Ok(Some(_greeting)) => Ok(()),
        Ok(None) => Err(ImapError::Command {
            host: config.host.clone(),
            mailbox: config.mailbox.clone(),
            operation: "greeting",
            source: closed().into(),
        }),
        Err(source) => Err(ImapError::Command {
            host: config.host.clone(),
            mailbox: config.mailbox.clone(),
            operation: "greeting",
            source: source.into(),
        }),
    }
}

fn closed() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::UnexpectedEof,
        "the server closed the connection before its greeting",
    )
}

async fn tls_handshake(
    config: &ImapConfig,
    tcp: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, ImapError> {
    let tls_error = |source| ImapError::Tls {
        host: config.host.clone(),
        source,
    };
    let host = config.host.trim_start_matches('[').trim_end_matches(']');
    let server_name = ServerName::try_from(host.to_owned())
        .map_err(|error| tls_error(std::io::Error::new(std::io::ErrorKind::InvalidInput, error)))?;
    let connector = TlsConnector::from(
        tls_client_config().map_err(|error| tls_error(std::io::Error::other(error)))?,
    );
    connector.connect(server_name, tcp).await.map_err(tls_error)
}

/// rustls with ring (the workspace's one crypto provider) and Mozilla's roots.
fn tls_client_config() -> Result<Arc<ClientConfig>, rustls::Error> {
    let roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(Arc::new(config))
}
