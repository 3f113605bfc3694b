//! Upgrading a hyper 1 request (also an axum one: axum runs on hyper) to a
//! [`WebSocketStream`] (feature `hyper`).
//!
//! ```no_run
//! # use bytes::Bytes; use http_body_util::Full;
//! # async fn handle(mut req: hyper::Request<hyper::body::Incoming>)
//! #     -> Result<hyper::Response<Full<Bytes>>, std::convert::Infallible> {
//! use wsengine::io::tokio::hyper::upgrade;
//! use wsengine::Config;
//!
//! match upgrade(&mut req, Config::default(), None) {
//!     Ok((response, pending)) => {
//!         tokio::spawn(async move {
//!             let Ok((mut ws, _info)) = pending.await else { return };
//!             while let Ok(m) = ws.read().await {
//!                 if ws.write(&m).await.is_err() { break; }
//!             }
//!         });
//!         Ok(response) // 101: hyper sends it, then hands the connection over
//!     }
//!     Err(refused) => Ok(refused.response), // 400, 426, or the accept callback's answer
//! }
//! # }
//! ```
//!
//! The engine checks the request and negotiates subprotocol and permessage-deflate
//! ([`Connection::server_upgrade`]); this only converts between hyper's types and the
//! engine's.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use ::hyper::header::{HeaderName, HeaderValue};
use ::hyper::upgrade::{OnUpgrade, Upgraded};
use ::hyper::{Request, Response, StatusCode};
use ::hyper_util::rt::TokioIo;
use bytes::Bytes;
use http_body_util::Full;

use super::WebSocketStream;
use crate::config::Config;
use crate::connection::{AcceptFn, Connection};
use crate::error::Error;
use crate::event::OpenInfo;
use crate::handshake::{self, Headers};

/// The stream type of an upgraded hyper connection.
pub type HyperWebSocket = WebSocketStream<TokioIo<Upgraded>>;

/// A refused upgrade: the response to send (400, 426, 500, or the accept callback's own) and
/// why.
#[derive(Debug)]
pub struct Refused {
    /// Send this instead of 101.
    pub response: Response<Full<Bytes>>,
    /// Why the request was refused.
    pub error: Error,
}

/// An accepted upgrade waiting for hyper to send the 101 and hand over the connection.
/// Await it (in a spawned task: the 101 goes out only once the handler has returned it).
#[derive(Debug)]
pub struct PendingUpgrade {
    on_upgrade: OnUpgrade,
    conn: Connection,
    info: OpenInfo,
}

/// Answers an opening request received by a hyper (or axum) server. `Ok`: the 101 response
/// for the handler to return, and the [`PendingUpgrade`] that yields the open stream once
/// hyper has sent it. `Err`: the response to return instead.
///
/// `accept` chooses a subprotocol, adds headers, or refuses, as in
/// [`accept_async_with`](super::accept_async_with). Only HTTP/1.1 upgrades exist (RFC 6455);
/// an HTTP/2 request is refused with 400.
#[allow(clippy::result_large_err)]
pub fn upgrade<B>(
    req: &mut Request<B>,
    config: Config,
    accept: Option<AcceptFn>,
) -> Result<(Response<Full<Bytes>>, PendingUpgrade), Box<Refused>> {
    let request = engine_request(req);
    match Connection::server_upgrade(request, config, accept) {
        Ok(up) => {
            let on_upgrade = ::hyper::upgrade::on(req);
            let pending = PendingUpgrade {
                on_upgrade,
                conn: up.connection,
                info: up.info,
            };
            Ok((hyper_response(&up.response), pending))
        }
        Err(refusal) => Err(Box::new(Refused {
            response: hyper_response(&refusal.response),
            error: refusal.error,
        })),
    }
}

impl IntoFuture for PendingUpgrade {
    type Output = Result<(HyperWebSocket, OpenInfo), Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let upgraded = self
                .on_upgrade
                .await
                .map_err(|e| Error::Io(std::io::Error::other(e)))?;
            let ws = WebSocketStream::opened(TokioIo::new(upgraded), self.conn);
            Ok((ws, self.info))
        })
    }
}

/// hyper's request head as the engine's [`Request`](handshake::Request). Header values that
/// are not UTF-8 (allowed in HTTP, never in the headers the handshake reads) are converted
/// lossily rather than refused, as they matter only to the application. A request that is
/// not HTTP/1.1 gets a method the engine refuses (400): only HTTP/1.1 can upgrade.
fn engine_request<B>(req: &Request<B>) -> handshake::Request {
    let mut headers = Headers::new();
    for (name, value) in req.headers() {
        headers.push(
            name.as_str(),
            String::from_utf8_lossy(value.as_bytes()).into_owned(),
        );
    }
    let method = if req.version() == ::hyper::Version::HTTP_11 {
        req.method().as_str().to_owned()
    } else {
        format!("{} ({:?})", req.method(), req.version())
    };
    handshake::Request {
        method,
        target: req
            .uri()
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
        headers,
    }
}

/// The engine's [`Response`](handshake::Response) as a hyper response. The engine only emits
/// valid statuses and header syntax, so nothing is dropped in practice; anything that hyper
/// would still refuse is skipped rather than turned into a panic.
fn hyper_response(r: &handshake::Response) -> Response<Full<Bytes>> {
    let mut out = Response::new(Full::new(Bytes::from(r.body.clone())));
    *out.status_mut() = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in r.headers.iter() {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            out.headers_mut().append(n, v);
        }
    }
    out
}
