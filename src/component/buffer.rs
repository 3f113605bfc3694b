//! `wsengine:websocket/sockets.buffer`: a whole message kept inside the component, so that a
//! host relaying messages (an echo, a proxy, a broadcast) never lifts their bytes out of the
//! component and lowers them back in.

use super::exports::wsengine::websocket::sockets as wit;
use super::wsengine::websocket::types::MessageKind as WitKind;
use crate::{Message, MessageKind};

/// The `buffer` resource: the message's bytes (text already checked to be UTF-8 by the
/// engine) and its kind. Immutable once made, so that one buffer can be written to many
/// websockets.
pub struct BufferResource {
    kind: MessageKind,
    data: Vec<u8>,
}

impl BufferResource {
    /// Takes a message's bytes without copying them.
    pub(super) fn new(m: Message) -> Self {
        BufferResource {
            kind: m.kind(),
            data: m.into_bytes(),
        }
    }

    pub(super) fn kind(&self) -> MessageKind {
        self.kind
    }

    pub(super) fn data(&self) -> &[u8] {
        &self.data
    }
}

impl wit::GuestBuffer for BufferResource {
    fn kind(&self) -> WitKind {
        super::convert::wit_kind(self.kind)
    }

    fn len(&self) -> u32 {
        // A component's memory is 32-bit: no message is longer.
        self.data.len() as u32
    }

    fn bytes(&self) -> Vec<u8> {
        self.data.clone()
    }
}
