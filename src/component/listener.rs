//! `wsengine:websocket/client` and `wsengine:websocket/server`: connections over TCP made by
//! the component, or over a stream pair the caller brings.

use std::net::SocketAddr;

use super::convert::{self, error, invalid};
use super::exports::wsengine::websocket::client;
use super::exports::wsengine::websocket::server::{
    self, Handshake, HandshakeBorrow, Listener, ListenerBorrow, Ready,
};
use super::exports::wsengine::websocket::sockets::Websocket;
use super::exports::wsengine::websocket::sockets::WebsocketBorrow;
use super::net;
use super::socket::Socket;
use super::transport::{self, Transport};
use super::wasi::clocks::monotonic_clock::Instant;
use super::wasi::io::poll::Pollable;
use super::wasi::io::streams::{InputStream, OutputStream};
use super::wasi::sockets::tcp::TcpSocket;
use super::wsengine::websocket::types::{Error, OpenInfo, Options};
use super::Component;
use crate::{Config, Connection};
use std::cell::{Cell, RefCell};

type Opened = Result<(Websocket, OpenInfo), Error>;

fn io(e: String) -> Error {
    Error::Io(e)
}

fn client_connection(url: &str, options: &Options) -> Result<Connection, Error> {
    let request = convert::client_request(url, options).map_err(error)?;
    Connection::client(request, convert::config(options)).map_err(error)
}

impl client::Guest for Component {
    fn connect(url: String, options: Options) -> Opened {
        let conn = client_connection(&url, &options)?;
        let request = convert::client_request(&url, &options).map_err(error)?;
        #[cfg(not(feature = "component-tls"))]
        if request.url.tls {
            return Err(error(crate::TlsError::NotEnabled.into()));
        }
        // Checked before any connection: a bad name or PEM fails fast.
        #[cfg(feature = "component-tls")]
        let tls = match request.url.tls {
            true => Some(
                super::tls::client_connection(&request.url.host, options.tls_roots_pem.as_deref())
                    .map_err(error)?,
            ),
            false => None,
        };
        let deadline = net::deadline(conn.config().handshake_timeout_ms);
        let (input, output, socket) =
            net::connect(&request.url.host, request.url.port, deadline).map_err(io)?;
        #[allow(unused_mut)] // only TLS changes it
        let mut transport =
            Transport::new(input, output, Some(socket), conn.config().write_timeout_ms);
        #[cfg(feature = "component-tls")]
        if let Some(tls) = tls {
            transport.start_tls(tls, deadline).map_err(error)?;
        }
        Socket::open(conn, transport)
    }

    fn connect_streams(
        url: String,
        options: Options,
        input: InputStream,
        output: OutputStream,
    ) -> Opened {
        let conn = client_connection(&url, &options)?;
        let transport = Transport::new(input, output, None, conn.config().write_timeout_ms);
        Socket::open(conn, transport)
    }
}

fn server_connection(options: &Options) -> Result<Connection, Error> {
    let config = convert::config(options);
    match convert::accept_fn(options) {
        Some(accept) => Connection::server_with(config, accept),
        None => Connection::server(config),
    }
    .map_err(error)
}

impl server::Guest for Component {
    type Listener = ListenerResource;
    type Handshake = HandshakeResource;

    fn wait(
        listener: Option<ListenerBorrow<'_>>,
        handshakes: Vec<HandshakeBorrow<'_>>,
        websockets: Vec<WebsocketBorrow<'_>>,
        timeout_ms: Option<u64>,
    ) -> Ready {
        super::wait::wait(listener, handshakes, websockets, timeout_ms)
    }

    fn accept_streams(input: InputStream, output: OutputStream, options: Options) -> Opened {
        let conn = server_connection(&options)?;
        let transport = Transport::new(input, output, None, conn.config().write_timeout_ms);
        Socket::open(conn, transport)
    }
}

/// The `listener` resource: a listening socket and the options for its connections.
pub struct ListenerResource {
    /// `Option` so that `Drop` may keep it.
    socket: Option<TcpSocket>,
    options: Options,
    /// A pollable from `subscribe` was handed out and may still be alive.
    lent: Cell<bool>,
}

impl ListenerResource {
    fn socket(&self) -> &TcpSocket {
        self.socket.as_ref().expect("only Drop takes the socket")
    }

    /// For `wait`: a pollable the component drops itself.
    pub(super) fn readiness(&self) -> Pollable {
        self.socket().subscribe()
    }
}

impl Drop for ListenerResource {
    fn drop(&mut self) {
        // wasi:io traps if the socket goes before a pollable of it: one handed out may
        // still be alive, so keep the socket (listening, unused) until the instance ends.
        if self.lent.get() {
            std::mem::forget(self.socket.take());
        }
    }
}

impl server::GuestListener for ListenerResource {
    fn bind(address: String, options: Options) -> Result<Listener, Error> {
        // Checked now rather than at the first accept, so bad options fail early.
        Config::validate(&convert::config(&options)).map_err(|e| error(e.into()))?;
        let addr: SocketAddr = address
            .parse()
            .map_err(|_| invalid(format!("{address:?} is not an IP socket address")))?;
        let socket = net::listen(addr).map_err(io)?;
        Ok(Listener::new(ListenerResource {
            socket: Some(socket),
            options,
            lent: Cell::new(false),
        }))
    }

    fn local_address(&self) -> Result<String, Error> {
        let a = self.socket().local_address();
        let a = a.map_err(|e| io(net::describe("local address", e)))?;
        Ok(net::std_address(a).to_string())
    }

    fn accept(&self) -> Opened {
        let conn = server_connection(&self.options)?;
        let (input, output, socket) = net::accept(self.socket()).map_err(io)?;
        let transport = Transport::new(input, output, Some(socket), conn.config().write_timeout_ms);
        Socket::open(conn, transport)
    }

    fn subscribe(&self) -> Pollable {
        self.lent.set(true);
        self.socket().subscribe()
    }

    fn try_accept(&self) -> Result<Option<Handshake>, Error> {
        let Some((input, output, socket)) = net::try_accept(self.socket()).map_err(io)? else {
            return Ok(None);
        };
        let conn = server_connection(&self.options)?;
        let transport = Transport::new(input, output, Some(socket), conn.config().write_timeout_ms);
        let socket = Socket::new(conn, transport);
        Ok(Some(Handshake::new(HandshakeResource(RefCell::new(Some(
            socket,
        ))))))
    }
}

/// The `handshake` resource: an accepted connection until its handshake ends (`None`
/// after). Calls into one component instance never nest, so the `RefCell` is never borrowed
/// twice.
pub struct HandshakeResource(RefCell<Option<Socket>>);

impl HandshakeResource {
    /// `f` on the connection, while its handshake is under way.
    pub(super) fn with<T>(&self, f: impl FnOnce(&mut Socket) -> T) -> Option<T> {
        self.0.borrow_mut().as_mut().map(f)
    }
}

impl server::GuestHandshake for HandshakeResource {
    fn subscribe(&self) -> Pollable {
        // Over: `try-finish` answers at once.
        self.with(Socket::subscribe)
            .unwrap_or_else(transport::ready_now)
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.with(|s| s.next_deadline()).flatten()
    }

    fn try_finish(&self) -> Result<Option<(Websocket, OpenInfo)>, Error> {
        let mut slot = self.0.borrow_mut();
        let Some(mut s) = slot.take() else {
            return Err(Error::Closed);
        };
        match s.handshake(false) {
            Ok(None) => {
                *slot = Some(s);
                Ok(None)
            }
            Ok(Some(info)) => Ok(Some((s.into_websocket(), info))),
            // The engine has answered (400, 426, 431) and shut the connection down;
            // dropping the socket lets go of its streams.
            Err(e) => Err(error(e)),
        }
    }
}
