//! What the engine reports to the caller.

use crate::close::CloseFrame;
use crate::handshake::{Request, Response};

/// The kind of a data message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text.
    Text,
    /// Arbitrary bytes.
    Binary,
}

/// A whole data message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message (guaranteed valid UTF-8).
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
}

impl Message {
    /// Text or binary.
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Text(_) => MessageKind::Text,
            Message::Binary(_) => MessageKind::Binary,
        }
    }

    /// The payload bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(s) => s.as_bytes(),
            Message::Binary(b) => b,
        }
    }

    /// The payload, consuming the message.
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Message::Text(s) => s.into_bytes(),
            Message::Binary(b) => b,
        }
    }

    /// Payload length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<String> for Message {
    fn from(s: String) -> Self {
        Message::Text(s)
    }
}
impl From<&str> for Message {
    fn from(s: &str) -> Self {
        Message::Text(s.to_owned())
    }
}
impl From<Vec<u8>> for Message {
    fn from(b: Vec<u8>) -> Self {
        Message::Binary(b)
    }
}
impl From<&[u8]> for Message {
    fn from(b: &[u8]) -> Self {
        Message::Binary(b.to_vec())
    }
}

/// A piece of the message being received, in streaming mode (Beast's `read_some`).
///
/// Pieces follow the arrival of bytes, not the peer's frames. For text, the concatenation of
/// a message's pieces is valid UTF-8, but one piece may end inside a code point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// The message's kind.
    pub kind: MessageKind,
    /// Payload bytes (after decompression).
    pub data: Vec<u8>,
    /// Whether this is the message's last piece.
    pub fin: bool,
}

/// The outcome of the opening handshake.
#[derive(Clone, Debug)]
pub struct OpenInfo {
    /// The subprotocol agreed on, if any.
    pub protocol: Option<String>,
    /// The `Sec-WebSocket-Extensions` value agreed on, if any.
    pub extensions: Option<String>,
    /// Server role: the client's request.
    pub request: Option<Request>,
    /// Client role: the server's 101 response.
    pub response: Option<Response>,
}

/// Something that happened on the connection.
#[derive(Clone, Debug)]
pub enum Event {
    /// The opening handshake completed; messages may flow.
    ///
    /// Boxed: the handshake's headers make `OpenInfo` ~200 bytes, and every event is moved
    /// a few times between the engine and the caller, once per message.
    Open(Box<OpenInfo>),
    /// A whole message arrived (message mode, the default).
    Message(Message),
    /// Part of a message arrived (streaming mode, see `Connection::set_streaming`).
    Fragment(Fragment),
    /// A ping arrived (already answered if `auto_pong` is on).
    Ping(Vec<u8>),
    /// A pong arrived.
    Pong(Vec<u8>),
    /// The peer's close frame arrived (`None`: it carried no code). If the peer initiated
    /// the close, the answering close frame is already queued.
    Close(Option<CloseFrame>),
}
