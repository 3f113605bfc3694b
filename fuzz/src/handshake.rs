//! The opening handshake in both roles fed arbitrary bytes.
//!
//! Input format (both targets): byte 0 is the chunk size the rest is fed in (0: all at once),
//! byte 1 flags (bit 0: permessage-deflate offered / accepted, bit 1: subprotocols `chat` and
//! `superchat` offered / `chat` selected by an accept callback), then the peer's bytes. For the
//! response target every `{accept}` in them becomes the `Sec-WebSocket-Accept` of the key the
//! client sent (a random key: a fuzzer cannot guess it).

use wsengine::handshake::accept_key;
use wsengine::{Accept, ClientRequest, Connection, Error, Event, HandshakeError, Role, State};

use crate::{small_config, Input, MAX_MESSAGE};

/// A head the engine keeps waiting on may not exceed the limit: bytes without a blank line
/// beyond `max_head_bytes` must have failed the handshake.
fn has_head_end(fed: &[u8]) -> bool {
    fed.windows(2).any(|w| w == b"\n\n") || fed.windows(3).any(|w| w == b"\n\r\n")
}

/// What one handshake run observed.
struct Run {
    conn: Connection,
    fed: Vec<u8>,
    opened: bool,
    failed: Option<Error>,
}

impl Run {
    fn feed(&mut self, chunk: &[u8]) {
        self.conn.receive(chunk);
        self.fed.extend_from_slice(chunk);
        self.poll();
        let max_head = self.conn.config().limits.handshake.max_head_bytes;
        if self.conn.state() == State::Connecting && !has_head_end(&self.fed) {
            assert!(
                self.fed.len() <= max_head,
                "{} head bytes buffered without an end (limit {max_head})",
                self.fed.len()
            );
        }
    }

    fn poll(&mut self) {
        loop {
            match self.conn.next_event() {
                Ok(None) => return,
                Ok(Some(Event::Open(info))) => {
                    assert!(!self.opened, "opened twice");
                    self.opened = true;
                    match self.conn.role() {
                        Role::Server => assert!(info.request.is_some()),
                        Role::Client => {
                            assert_eq!(info.response.as_ref().map(|r| r.status), Some(101))
                        }
                    }
                }
                Ok(Some(_)) => assert!(self.opened, "an event before Open"),
                Err(e) => {
                    assert!(self.failed.is_none(), "second error {e:?}");
                    assert_eq!(self.conn.state(), State::Closed);
                    if !self.opened {
                        assert!(matches!(e, Error::Handshake(_)), "{e:?}");
                    }
                    self.failed = Some(e);
                    return;
                }
            }
        }
    }

    fn finish(&mut self) {
        self.conn.receive_eof();
        self.poll();
        assert_ne!(
            self.conn.state(),
            State::Connecting,
            "EOF left the handshake pending"
        );
    }
}

/// Feeds `data` in chunks of `size` bytes (0: at once), then EOF.
fn chunks(size: u8, data: &[u8], run: &mut Run) {
    let size = usize::from(size);
    if size == 0 {
        run.feed(data);
    } else {
        for c in data.chunks(size) {
            run.feed(c);
        }
    }
    run.finish();
}

/// A server fed an arbitrary request.
pub fn request(data: &[u8]) {
    let mut input = Input::new(data);
    let size_byte = input.u8();
    let flags = input.u8();
    let cfg = small_config(MAX_MESSAGE, flags & 1 != 0);
    let conn = if flags & 2 != 0 {
        Connection::server_with(
            cfg,
            Box::new(|req| {
                if req.path() == "/reject" {
                    return Err(wsengine::Response::new(403).body("no"));
                }
                Ok(Accept::select_protocol(req, &["chat"]))
            }),
        )
    } else {
        Connection::server(cfg)
    }
    .unwrap();
    let mut run = Run {
        conn,
        fed: Vec::new(),
        opened: false,
        failed: None,
    };
    let rest = input.rest();
    chunks(size_byte, rest, &mut run);
    let out = String::from_utf8_lossy(run.conn.output()).into_owned();
    if run.opened {
        assert!(out.starts_with("HTTP/1.1 101 "), "{out:?}");
    } else if let Some(Error::Handshake(e)) = &run.failed {
        match e.status() {
            Some(s) => {
                assert!(matches!(s, 400 | 403 | 426 | 431), "{e:?}");
                assert!(out.starts_with(&format!("HTTP/1.1 {s} ")), "{e:?}: {out:?}");
                assert!(out.len() <= 1024, "error answer of {} bytes", out.len());
            }
            // The client went away before its request was complete: nothing to answer.
            None => assert!(matches!(e, HandshakeError::Eof), "{e:?}"),
        }
    }
    let n = run.conn.output().len();
    run.conn.consume_output(n);
    assert!(run.opened || run.conn.should_close());
}

/// A client fed an arbitrary response (with `{accept}` replaced, see the module docs).
pub fn response(data: &[u8]) {
    let mut input = Input::new(data);
    let size_byte = input.u8();
    let flags = input.u8();
    let mut req = ClientRequest::new("ws://localhost/fuzz").unwrap();
    if flags & 2 != 0 {
        req = req.protocol("chat").protocol("superchat");
    }
    let cfg = small_config(MAX_MESSAGE, flags & 1 != 0);
    let max_body = cfg.limits.handshake.max_body_bytes;
    let mut conn = Connection::client(req, cfg).unwrap();
    let request = String::from_utf8(conn.output().to_vec()).unwrap();
    let n = conn.output().len();
    conn.consume_output(n);
    let key = request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .expect("the request carries a key");
    let accept = accept_key(key);
    let rest = replace(input.rest(), b"{accept}", accept.as_bytes());
    let mut run = Run {
        conn,
        fed: Vec::new(),
        opened: false,
        failed: None,
    };
    chunks(size_byte, &rest, &mut run);
    if run.opened {
        let p = run.conn.protocol();
        assert!(flags & 2 != 0 || p.is_none());
        assert!(
            matches!(p, None | Some("chat") | Some("superchat")),
            "{p:?}"
        );
        assert!(flags & 1 != 0 || run.conn.extensions().is_none());
    } else if let Some(Error::Handshake(e)) = &run.failed {
        match e {
            HandshakeError::Rejected(r) => assert!(r.body.len() <= max_body),
            e => assert!(matches!(e.status(), None | Some(431)), "{e:?}"),
        }
    }
    // A client sends nothing after its request, whatever the answer.
    assert!(run.conn.output().is_empty() || run.opened);
}

fn replace(data: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    out
}
