//! Deadlines without a clock. Times are milliseconds on any monotonic clock the caller
//! chooses; the engine only compares them.
//!
//! A timer armed by an event that carries no time (a received byte, a call to `close`) is
//! held as a duration until the next `handle_timeout(now)` anchors it. Until then
//! `next_deadline` reports the last known time, so a caller's loop anchors it at once
//! instead of trusting a stale clock.

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Timer {
    #[default]
    Off,
    /// Armed for this many ms after the next time the caller tells us.
    In(u64),
    /// Fires at this time.
    At(u64),
}

impl Timer {
    pub(crate) fn arm(&mut self, ms: Option<u64>) {
        *self = ms.map_or(Timer::Off, Timer::In);
    }

    pub(crate) fn stop(&mut self) {
        *self = Timer::Off;
    }

    pub(crate) fn anchor(&mut self, now: u64) {
        if let Timer::In(d) = *self {
            *self = Timer::At(now.saturating_add(d));
        }
    }

    pub(crate) fn deadline(&self, now: u64) -> Option<u64> {
        match *self {
            Timer::Off => None,
            Timer::In(_) => Some(now),
            Timer::At(t) => Some(t),
        }
    }

    /// True (once) if the timer is due at `now`; it is then off.
    pub(crate) fn fire(&mut self, now: u64) -> bool {
        match *self {
            Timer::At(t) if t <= now => {
                *self = Timer::Off;
                true
            }
            _ => false,
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Timers {
    pub(crate) handshake: Timer,
    pub(crate) close: Timer,
    pub(crate) keepalive: Timer,
    pub(crate) pong: Timer,
    pub(crate) idle: Timer,
    /// Output pending and not taken by the transport (re-armed by every bit of progress).
    pub(crate) write: Timer,
}

impl Timers {
    pub(crate) fn all(&mut self) -> [&mut Timer; 6] {
        [
            &mut self.handshake,
            &mut self.close,
            &mut self.keepalive,
            &mut self.pong,
            &mut self.idle,
            &mut self.write,
        ]
    }

    /// The earliest deadline of any armed timer. Adapters ask before every wait, so this
    /// folds over the fields in place (no array of copies, no iterator adaptors).
    pub(crate) fn next_deadline(&self, now: u64) -> Option<u64> {
        let mut next = None;
        for t in [
            &self.handshake,
            &self.close,
            &self.keepalive,
            &self.pong,
            &self.idle,
            &self.write,
        ] {
            if let Some(d) = t.deadline(now) {
                next = Some(next.map_or(d, |n: u64| n.min(d)));
            }
        }
        next
    }
}
