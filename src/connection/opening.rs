//! Drives the opening handshake (the parsing and checks live in `crate::handshake`).

use base64::Engine;

use super::{Connection, State};
use crate::config::Config;
use crate::deflate;
use crate::error::{Error, UsageError};
use crate::event::{Event, OpenInfo};
use crate::handshake::{self, ClientRequest, HandshakeError, Headers, Request, Response};
use crate::random::Random;

/// The application's answer to a valid opening request.
#[derive(Clone, Debug, Default)]
pub struct Accept {
    /// The subprotocol to agree on; must be one the client offered.
    pub protocol: Option<String>,
    /// Extra headers for the 101 response.
    pub headers: Headers,
}

impl Accept {
    /// Accepts with the first subprotocol the client offered that is in `supported`
    /// (none if there is no overlap), the usual server policy.
    pub fn select_protocol(request: &Request, supported: &[&str]) -> Accept {
        let protocol = request
            .protocols()
            .into_iter()
            .find(|p| supported.contains(p));
        Accept {
            protocol: protocol.map(str::to_owned),
            headers: Headers::new(),
        }
    }
}

/// A server's decision on a valid request: accept it or answer with an HTTP response.
pub type AcceptFn = Box<dyn FnMut(&Request) -> Result<Accept, Response> + Send>;

pub(crate) enum Opening {
    Client {
        key: String,
        protocols: Vec<String>,
        /// A non-101 answer whose body is still being collected.
        rejected: Option<Response>,
    },
    Server {
        accept: Option<AcceptFn>,
    },
    Done,
}

impl std::fmt::Debug for Opening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Opening::Client { .. } => f.write_str("Opening::Client"),
            Opening::Server { .. } => f.write_str("Opening::Server"),
            Opening::Done => f.write_str("Opening::Done"),
        }
    }
}

/// What [`Connection::server_upgrade`] yields for a good request.
#[derive(Debug)]
pub struct Upgrade {
    /// The open connection. After the response, every byte of the upgraded transport is
    /// for it; nothing waits in its output yet.
    pub connection: Connection,
    /// The `101 Switching Protocols` response the HTTP server must send.
    pub response: Response,
    /// What was agreed (subprotocol, extensions) and the request.
    pub info: OpenInfo,
}

/// What [`Connection::server_upgrade`] yields for a refused request.
#[derive(Debug)]
pub struct Refusal {
    /// The response to send instead (400, 426, or the accept callback's), with its body.
    pub response: Response,
    /// Why.
    pub error: Error,
}

impl Connection {
    /// Answers an opening request that an HTTP server already parsed (hyper, axum, ...),
    /// with the same checks, accept callback and permessage-deflate negotiation as the
    /// handshake [`server`](Connection::server) reads off the wire (one code path).
    ///
    /// `Ok`: the 101 response to send and an open connection. `Err`: the response to send
    /// instead (a 400 for a malformed request, 426 for a version other than 13, 500 for an
    /// invalid `config`, or the callback's refusal) and the error.
    pub fn server_upgrade(
        request: Request,
        config: Config,
        accept: Option<AcceptFn>,
    ) -> Result<Upgrade, Box<Refusal>> {
        if let Err(e) = config.validate() {
            let response = handshake::reject_response(&Response::new(500));
            return Err(Box::new(Refusal {
                response,
                error: e.into(),
            }));
        }
        let mut conn = Connection::new(crate::Role::Server, config, Opening::Server { accept });
        match conn.answer(request) {
            Ok((response, Event::Open(info))) => Ok(Upgrade {
                connection: conn,
                response,
                info: *info,
            }),
            Ok((_, other)) => unreachable!("answer opens with Event::Open, not {other:?}"),
            Err((response, error)) => Err(Box::new(Refusal { response, error })),
        }
    }
}

impl Connection {
    pub(super) fn start_client(&mut self, request: ClientRequest) {
        let mut nonce = [0u8; 16];
        Random::fill(&mut nonce);
        let key = base64::engine::general_purpose::STANDARD.encode(nonce);
        let offers = match &self.config.deflate {
            Some(cfg) => deflate::client_offers(cfg),
            None => Vec::new(),
        };
        handshake::encode_request(&request, &key, &offers, &mut self.output);
        self.opening = Opening::Client {
            key,
            protocols: request.protocols,
            rejected: None,
        };
    }

    pub(super) fn poll_opening(&mut self) -> Result<Option<Event>, Error> {
        match self.opening {
            Opening::Client { .. } => self.poll_client_opening(),
            Opening::Server { .. } => self.poll_server_opening(),
            Opening::Done => Ok(None),
        }
    }

    fn fail_opening(&mut self, e: HandshakeError) -> Error {
        self.enter_failed();
        self.opening = Opening::Done;
        Error::Handshake(e)
    }

    fn poll_client_opening(&mut self) -> Result<Option<Event>, Error> {
        let limits = self.config.limits.handshake;
        let Opening::Client { rejected, .. } = &mut self.opening else {
            unreachable!()
        };
        if rejected.is_none() {
            let (response, n) = match handshake::parse_response(&self.input[self.in_pos..], &limits)
            {
                Ok(Some(r)) => r,
                Ok(None) if self.eof => return Err(self.fail_opening(HandshakeError::Eof)),
                Ok(None) => return Ok(None),
                Err(e) => return Err(self.fail_opening(e)),
            };
            self.in_pos += n;
            if response.status == 101 {
                return self.finish_client_opening(response).map(Some);
            }
            *rejected = Some(response);
        }
        // A refusal: keep its body (bounded) so the caller can read a 401 or follow a 3xx.
        let response = rejected.as_mut().expect("set above");
        let avail = self.input.len() - self.in_pos;
        let no_body = matches!(response.status, 100..=199 | 204 | 304);
        let length = response
            .headers
            .get("content-length")
            .and_then(|v| v.trim().parse::<usize>().ok());
        let wanted = if no_body {
            Some(0)
        } else {
            length.map(|l| l.min(limits.max_body_bytes))
        };
        let take = match wanted {
            Some(w) if avail >= w => w,
            None if avail >= limits.max_body_bytes => limits.max_body_bytes,
            _ if self.eof => avail.min(limits.max_body_bytes),
            _ => return Ok(None),
        };
        response.body = self.input[self.in_pos..self.in_pos + take].to_vec();
        let response = rejected.take().expect("set above");
        Err(self.fail_opening(HandshakeError::Rejected(Box::new(response))))
    }

    fn finish_client_opening(&mut self, response: Response) -> Result<Event, Error> {
        let Opening::Client { key, protocols, .. } =
            std::mem::replace(&mut self.opening, Opening::Done)
        else {
            unreachable!()
        };
        let accepted = match handshake::check_response(&response, &key, &protocols) {
            Ok(a) => a,
            Err(e) => return Err(self.fail_opening(e)),
        };
        let extension = match (&self.config.deflate, accepted.extensions.is_empty()) {
            (_, true) => None,
            (Some(cfg), false) => match deflate::client_accept(cfg, &accepted.extensions) {
                Ok(ext) => ext,
                Err(e) => return Err(self.fail_opening(e)),
            },
            (None, false) => {
                let names: Vec<String> =
                    accepted.extensions.iter().map(|e| e.name.clone()).collect();
                let e = HandshakeError::BadExtension(format!("not offered: {}", names.join(", ")));
                return Err(self.fail_opening(e));
            }
        };
        if extension.is_some() {
            let header: Vec<String> = accepted.extensions.iter().map(|e| e.to_string()).collect();
            self.extensions_header = Some(header.join(", "));
        }
        self.extension = extension;
        Ok(self.open(accepted.protocol, None, Some(response)))
    }

    fn poll_server_opening(&mut self) -> Result<Option<Event>, Error> {
        let limits = self.config.limits.handshake;
        let (request, n) = match handshake::parse_request(&self.input[self.in_pos..], &limits) {
            Ok(Some(r)) => r,
            Ok(None) if self.eof => return Err(self.fail_opening(HandshakeError::Eof)),
            Ok(None) => return Ok(None),
            Err(e) => return Err(self.reject(e)),
        };
        self.in_pos += n;
        match self.answer(request) {
            Ok((response, open)) => {
                handshake::encode_response_head(&response, &mut self.output);
                Ok(Some(open))
            }
            Err((response, e)) => {
                handshake::encode_response_head(&response, &mut self.output);
                self.output.extend_from_slice(&response.body);
                Err(e)
            }
        }
    }

    /// Answers a parsed opening request: checks it (RFC 6455 §4.2.1), asks the accept
    /// callback, negotiates permessage-deflate. `Ok`: the 101 response to send, and the
    /// connection is open (the `Open` event is returned). `Err`: the error response to send
    /// (400/426, or the callback's), and the connection has failed. Both the wire handshake
    /// and [`Connection::server_upgrade`] go through here.
    // The error pair is large (a response and an error) but built at most once per
    // connection, on a path that ends it: boxing would cost an allocation for nothing.
    #[allow(clippy::result_large_err)]
    pub(super) fn answer(
        &mut self,
        request: Request,
    ) -> Result<(Response, Event), (Response, Error)> {
        let valid = match handshake::validate_request(&request) {
            Ok(v) => v,
            Err(e) => return Err(self.reject_response(e)),
        };
        let Opening::Server { accept } = &mut self.opening else {
            unreachable!()
        };
        let decision = match accept.as_mut() {
            Some(f) => f(&request),
            None => Ok(Accept::default()),
        };
        let accept = match decision {
            Ok(a) => a,
            Err(response) => {
                let status = response.status;
                let response = handshake::reject_response(&response);
                let e = self.fail_opening(HandshakeError::RejectedByApplication(status));
                return Err((response, e));
            }
        };
        if let Some(p) = &accept.protocol {
            if !valid.protocols.iter().any(|o| o == p) {
                let (response, _) =
                    self.reject_response(HandshakeError::RejectedByApplication(500));
                let msg = format!(
                    "accept callback chose subprotocol {p:?}, which the client did not offer"
                );
                return Err((response, Error::Usage(UsageError::InvalidOption(msg))));
            }
        }
        let mut answer = Vec::new();
        if let Some(cfg) = &self.config.deflate {
            if let Some((element, ext)) = deflate::server_accept(cfg, &valid.extensions) {
                self.extensions_header = Some(element.to_string());
                self.extension = Some(ext);
                answer.push(element);
            }
        }
        let response = handshake::accept_response(
            &valid.key,
            accept.protocol.as_deref(),
            &answer,
            &accept.headers,
        );
        self.opening = Opening::Done;
        Ok((response, self.open(accept.protocol, Some(request), None)))
    }

    /// The error response for an invalid request, and the failed connection's error.
    fn reject_response(&mut self, e: HandshakeError) -> (Response, Error) {
        let status = e.status().unwrap_or(400);
        let response = handshake::reject_response(&Response::new(status).body(format!("{e}\n")));
        let err = self.fail_opening(e);
        debug_assert_eq!(self.state, State::Closed);
        (response, err)
    }

    /// Answers an invalid request with its status and fails the connection.
    fn reject(&mut self, e: HandshakeError) -> Error {
        let (response, err) = self.reject_response(e);
        handshake::encode_response_head(&response, &mut self.output);
        self.output.extend_from_slice(&response.body);
        err
    }
}
