//! The redactor: every secret value the harness generates or reads is registered here, and every
//! string that leaves the process (terminal, logs, reports, ledger) can be passed through it.
//! It never stores secrets anywhere but in memory, and never prints them.

use std::sync::{Arc, RwLock};

/// What a redacted secret is replaced with.
pub const MASK: &str = "***";

/// A cheaply clonable, thread-safe set of secret values.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Arc<RwLock<Vec<String>>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.secrets.read().map(|s| s.len()).unwrap_or(0);
        write!(f, "Redactor({n} secrets)")
    }
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a secret value. Values shorter than 4 characters are ignored: masking them would
    /// shred ordinary output and they carry no real entropy.
    pub fn add(&self, secret: impl Into<String>) {
        let secret = secret.into();
        if secret.len() < 4 {
            return;
        }
        let mut guard = self.secrets.write().unwrap_or_else(|e| e.into_inner());
        if !guard.contains(&secret) {
            guard.push(secret);
            // Longest first, so a secret that contains another is masked whole.
            guard.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// How many secrets are registered.
    pub fn len(&self) -> usize {
        self.secrets.read().map(|s| s.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns `text` with every registered secret replaced by [`MASK`].
    pub fn redact(&self, text: &str) -> String {
        let guard = self.secrets.read().unwrap_or_else(|e| e.into_inner());
        let mut out = text.to_string();
        for s in guard.iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), MASK);
            }
        }
        out
    }

    /// True when `text` contains any registered secret (used to prove nothing secret was printed).
    pub fn leaks(&self, text: &str) -> bool {
        let guard = self.secrets.read().unwrap_or_else(|e| e.into_inner());
        guard.iter().any(|s| text.contains(s.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secret_is_masked_everywhere_it_appears() {
        let r = Redactor::new();
        r.add("s3cr3t-value");
        assert_eq!(r.redact("a s3cr3t-value b s3cr3t-value"), "a *** b ***");
        assert!(r.leaks("xx s3cr3t-value"));
        assert!(!r.leaks(&r.redact("xx s3cr3t-value")));
    }

    #[test]
    fn longer_secret_containing_a_shorter_one_is_masked_whole() {
        let r = Redactor::new();
        r.add("abcd");
        r.add("abcdefgh");
        assert_eq!(r.redact("abcdefgh"), "***");
    }

    #[test]
    fn very_short_values_are_not_registered() {
        let r = Redactor::new();
        r.add("ab");
        assert!(r.is_empty());
        assert_eq!(r.redact("ab"), "ab");
    }
}
