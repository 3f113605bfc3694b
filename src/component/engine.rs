//! `wsengine:websocket/sans-io`: the sans-IO [`Connection`] as a WIT resource.

use std::cell::RefCell;

use super::convert::{self, error};
use super::exports::wsengine::websocket::sans_io::{self as wit, Event};
use super::wsengine::websocket::types::{CloseInfo, Error, MessageKind, Options, ReadyState, Role};
use super::Component;
use crate::{Connection, Event as EngineEvent};

/// A connection resource. Calls into one component instance never nest, so the `RefCell`
/// is never borrowed twice.
pub struct ConnectionResource(RefCell<Connection>);

impl wit::Guest for Component {
    type Connection = ConnectionResource;
}

fn event(e: EngineEvent) -> Event {
    match e {
        EngineEvent::Open(i) => Event::Open(convert::open_info(*i)),
        EngineEvent::Message(m) => Event::Message(convert::message(m)),
        EngineEvent::Fragment(f) => Event::Fragment(convert::fragment(f)),
        EngineEvent::Ping(p) => Event::Ping(p),
        EngineEvent::Pong(p) => Event::Pong(p),
        EngineEvent::Close(c) => Event::Close(c.as_ref().map(convert::close_info)),
    }
}

impl wit::GuestConnection for ConnectionResource {
    fn client(url: String, options: Options) -> Result<wit::Connection, Error> {
        let request = convert::client_request(&url, &options).map_err(error)?;
        let conn = Connection::client(request, convert::config(&options)).map_err(error)?;
        Ok(wit::Connection::new(ConnectionResource(RefCell::new(conn))))
    }

    fn server(options: Options) -> Result<wit::Connection, Error> {
        let config = convert::config(&options);
        let conn = match convert::accept_fn(&options) {
            Some(accept) => Connection::server_with(config, accept),
            None => Connection::server(config),
        }
        .map_err(error)?;
        Ok(wit::Connection::new(ConnectionResource(RefCell::new(conn))))
    }

    fn receive(&self, data: Vec<u8>) {
        self.0.borrow_mut().receive(&data);
    }

    fn receive_eof(&self) {
        self.0.borrow_mut().receive_eof();
    }

    fn next_event(&self) -> Result<Option<Event>, Error> {
        self.0
            .borrow_mut()
            .next_event()
            .map(|e| e.map(event))
            .map_err(error)
    }

    fn set_streaming(&self, on: bool) {
        self.0.borrow_mut().set_streaming(on);
    }

    fn send_text(&self, text: String) -> Result<(), Error> {
        self.0.borrow_mut().send_text(&text).map_err(error)
    }

    fn send_binary(&self, data: Vec<u8>) -> Result<(), Error> {
        self.0.borrow_mut().send_binary(&data).map_err(error)
    }

    fn write_some(&self, fin: bool, kind: MessageKind, data: Vec<u8>) -> Result<(), Error> {
        let kind = convert::kind(kind);
        self.0
            .borrow_mut()
            .write_some(fin, kind, &data)
            .map_err(error)
    }

    fn ping(&self, payload: Vec<u8>) -> Result<(), Error> {
        self.0.borrow_mut().ping(&payload).map_err(error)
    }

    fn pong(&self, payload: Vec<u8>) -> Result<(), Error> {
        self.0.borrow_mut().pong(&payload).map_err(error)
    }

    fn close(&self, code: u16, reason: String) -> Result<(), Error> {
        self.0.borrow_mut().close(code, &reason).map_err(error)
    }

    fn output(&self, max: u32) -> Vec<u8> {
        let conn = self.0.borrow();
        let out = conn.output();
        out[..out.len().min(max as usize)].to_vec()
    }

    fn consume_output(&self, n: u32) {
        self.0.borrow_mut().consume_output(n as usize);
    }

    fn pending_output(&self) -> u32 {
        u32::try_from(self.0.borrow().pending_output()).unwrap_or(u32::MAX)
    }

    fn next_deadline(&self) -> Option<u64> {
        self.0.borrow().next_deadline()
    }

    fn handle_timeout(&self, now_ms: u64) {
        self.0.borrow_mut().handle_timeout(now_ms);
    }

    fn wants_read(&self) -> bool {
        self.0.borrow().wants_read()
    }

    fn should_close(&self) -> bool {
        self.0.borrow().should_close()
    }

    fn ready_state(&self) -> ReadyState {
        convert::ready_state(self.0.borrow().state())
    }

    fn role(&self) -> Role {
        convert::role(self.0.borrow().role())
    }

    fn protocol(&self) -> Option<String> {
        self.0.borrow().protocol().map(str::to_owned)
    }

    fn extensions(&self) -> Option<String> {
        self.0.borrow().extensions().map(str::to_owned)
    }

    fn peer_close(&self) -> Option<CloseInfo> {
        self.0.borrow().peer_close().map(convert::close_info)
    }
}
