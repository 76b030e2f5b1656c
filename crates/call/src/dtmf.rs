//! DTMF entry: keys collect until the terminator or an inter-digit timeout.
//!
//! A finished entry goes to the engine as **text** (the digits, e.g. `"4711"`), so a required
//! `@sys.number` / `@sys.phone-number` parameter being prompted for fills from it, and a single
//! key with no slot filling is matched like a typed query. (No `DTMF` event is sent.)

/// Longest entry kept; further keys are ignored.
pub const MAX_DIGITS: usize = 32;

#[derive(Debug, Default)]
pub(crate) struct DtmfCollector {
    digits: String,
    /// When the last key was pressed.
    last_key_ms: u64,
    deadline: Option<u64>,
}

impl DtmfCollector {
    /// Adds a key pressed at `at_ms`. Returns the finished entry when `key` is the terminator.
    pub fn key(
        &mut self,
        key: char,
        at_ms: u64,
        terminator: char,
        inter_digit_ms: u32,
    ) -> Option<String> {
        let key = key.to_ascii_uppercase();
        if key == terminator {
            return self.take();
        }
        if !matches!(key, '0'..='9' | '*' | '#' | 'A'..='D') {
            return None;
        }
        if self.digits.len() < MAX_DIGITS {
            self.digits.push(key);
        }
        self.last_key_ms = at_ms;
        self.deadline = Some(at_ms.saturating_add(u64::from(inter_digit_ms)));
        None
    }

    /// When the entry in progress times out.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.deadline
    }

    /// The entry and the time of its last key, if its inter-digit timeout has passed at `now`.
    pub fn handle_timeout(&mut self, now: u64) -> Option<(String, u64)> {
        match self.deadline {
            Some(d) if now >= d => self.take().map(|digits| (digits, self.last_key_ms)),
            _ => None,
        }
    }

    pub fn is_collecting(&self) -> bool {
        !self.digits.is_empty()
    }

    pub fn clear(&mut self) {
        self.digits.clear();
        self.deadline = None;
    }

    fn take(&mut self) -> Option<String> {
        self.deadline = None;
        let d = std::mem::take(&mut self.digits);
        (!d.is_empty()).then_some(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminator_timeout_and_junk() {
        let mut c = DtmfCollector::default();
        assert_eq!(c.key('#', 0, '#', 1000), None, "lone terminator is nothing");
        assert_eq!(c.key('1', 10, '#', 1000), None);
        assert_eq!(c.key('x', 20, '#', 1000), None);
        assert_eq!(c.key('2', 30, '#', 1000), None);
        assert_eq!(c.poll_timeout(), Some(1030));
        assert_eq!(c.handle_timeout(1029), None);
        assert_eq!(c.key('#', 40, '#', 1000), Some("12".into()));
        assert_eq!(c.poll_timeout(), None);
        c.key('9', 100, '#', 1000);
        assert_eq!(c.handle_timeout(1100), Some(("9".into(), 100)));
        assert!(!c.is_collecting());
        for i in 0..40 {
            c.key('5', i, '*', 1000);
        }
        assert_eq!(c.key('*', 50, '*', 1000).map(|d| d.len()), Some(MAX_DIGITS));
    }
}
