//! Incremental UTF-8 validation across frames and reads.
//!
//! A text message may be split anywhere, even inside a code point. The validator keeps at
//! most three bytes of an unfinished sequence and fails as soon as a sequence can no longer
//! become valid (Autobahn 6.4.x), not only at the end of the message.

/// State carried between chunks of one text message.
#[derive(Clone, Copy, Debug, Default)]
pub struct Utf8Validator {
    partial: [u8; 4],
    partial_len: u8,
}

/// The bytes are not, and can no longer become, valid UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidUtf8;

impl Utf8Validator {
    /// A validator at the start of a message.
    pub fn new() -> Self {
        Self::default()
    }

    /// Validates the next chunk; `fin` says no more bytes follow.
    pub fn feed(&mut self, mut data: &[u8], fin: bool) -> Result<(), InvalidUtf8> {
        if self.partial_len > 0 {
            // Finish the pending sequence with at most 3 more bytes.
            let have = self.partial_len as usize;
            let take = data.len().min(4 - have);
            let mut tmp = [0u8; 8];
            tmp[..have].copy_from_slice(&self.partial[..have]);
            tmp[have..have + take].copy_from_slice(&data[..take]);
            match simdutf8::compat::from_utf8(&tmp[..have + take]) {
                Ok(_) => {
                    self.partial_len = 0;
                    data = &data[take..];
                }
                Err(e) if e.valid_up_to() >= have => {
                    self.partial_len = 0;
                    data = &data[e.valid_up_to() - have..];
                }
                Err(e) if e.error_len().is_some() => return Err(InvalidUtf8),
                Err(_) => {
                    // Still incomplete: all of `data` joined the pending sequence.
                    self.partial[have..have + take].copy_from_slice(&data[..take]);
                    self.partial_len = (have + take) as u8;
                    return if fin { Err(InvalidUtf8) } else { Ok(()) };
                }
            }
        }
        // Fast path, the usual case (for chunks long enough for it to pay): everything up to
        // the last (possibly unfinished) sequence is valid. `basic` is faster than `compat`
        // but says nothing about where it fails, so on failure the whole chunk goes through
        // `compat` below. The prefix ends on a sequence boundary, so the tail's validity does
        // not depend on it.
        if data.len() >= 64 {
            let cut = complete_prefix_len(data);
            if simdutf8::basic::from_utf8(&data[..cut]).is_ok() {
                data = &data[cut..];
            }
        }
        match simdutf8::compat::from_utf8(data) {
            Ok(_) => {}
            Err(e) if e.error_len().is_some() => return Err(InvalidUtf8),
            Err(e) => {
                let tail = &data[e.valid_up_to()..];
                self.partial[..tail.len()].copy_from_slice(tail);
                self.partial_len = tail.len() as u8;
            }
        }
        if fin && self.partial_len > 0 {
            return Err(InvalidUtf8);
        }
        Ok(())
    }

    /// Whether a sequence is unfinished (the message may not end here).
    pub fn is_incomplete(&self) -> bool {
        self.partial_len > 0
    }
}

/// The length of `data` without a trailing sequence that needs more bytes than it has: the
/// prefix ends on a sequence boundary (assuming the lead byte's length; an invalid lead is
/// left to the caller's full check).
fn complete_prefix_len(data: &[u8]) -> usize {
    let n = data.len();
    for back in 1..=n.min(3) {
        let b = data[n - back];
        if b & 0xC0 != 0x80 {
            // ASCII or a lead byte: the sequence it starts is this long.
            let need = match b {
                0x00..=0x7F => 1,
                0xE0..=0xEF => 3,
                0xF0..=0xFF => 4,
                _ => 2,
            };
            return if need > back { n - back } else { n };
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_everywhere(data: &[u8]) -> bool {
        let whole = std::str::from_utf8(data).is_ok();
        for i in 0..=data.len() {
            for j in i..=data.len() {
                let mut v = Utf8Validator::new();
                let r = v
                    .feed(&data[..i], false)
                    .and_then(|_| v.feed(&data[i..j], false))
                    .and_then(|_| v.feed(&data[j..], true));
                assert_eq!(r.is_ok(), whole, "{data:x?} split at {i},{j}");
            }
        }
        whole
    }

    #[test]
    fn any_split_agrees_with_whole_validation() {
        assert!(split_everywhere("κόσμε€𝄞 ascii".as_bytes()));
        assert!(!split_everywhere(
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"
        ));
        assert!(!split_everywhere(b"\xf4\x90\x80\x80"));
        assert!(!split_everywhere(b"ab\xe2\x82"));
        assert!(!split_everywhere(b"\xc0\xaf"));
    }

    #[test]
    fn fails_fast_on_a_prefix_that_can_never_be_valid() {
        let mut v = Utf8Validator::new();
        // F4 90 starts a code point above U+10FFFF: invalid before the sequence ends.
        assert_eq!(v.feed(b"ok\xf4\x90", false), Err(InvalidUtf8));
        let mut v = Utf8Validator::new();
        assert!(v.feed(b"ok\xf4", false).is_ok());
        assert_eq!(v.feed(b"\x90", false), Err(InvalidUtf8));
    }

    #[test]
    fn prefix_ends_before_an_unfinished_sequence() {
        assert_eq!(complete_prefix_len(b""), 0);
        assert_eq!(complete_prefix_len(b"abc"), 3);
        assert_eq!(complete_prefix_len("a€".as_bytes()), 4);
        assert_eq!(complete_prefix_len(b"a\xe2\x82"), 1);
        assert_eq!(complete_prefix_len(b"a\xf0\x9d\x84"), 1);
        assert_eq!(complete_prefix_len(b"a\xce"), 1);
        assert_eq!(complete_prefix_len(b"\x80\x80\x80\x80"), 4);
    }

    #[test]
    fn incomplete_sequence_at_end_of_message_is_invalid() {
        let mut v = Utf8Validator::new();
        assert!(v.feed(b"\xe2\x82", false).is_ok());
        assert!(v.is_incomplete());
        assert_eq!(v.feed(b"", true), Err(InvalidUtf8));
    }
}
