//! Checkpoints: `SEQ:HASH`, the seq and hash of one committed event. A run prints the ledger's head
//! as a checkpoint at its end and publishes it (PR comment, results.json); `cc-ci ledger verify
//! --checkpoint SEQ:HASH` later proves the chain still holds that event at that place, which catches a
//! rewrite even by someone who holds the ledger key. Pure data and parsing; reading the head is
//! `Ledger::checkpoint`.

use std::fmt;
use std::str::FromStr;

/// One committed event's place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: u64,
    /// Lowercase hex SHA-256 (64 characters).
    pub hash: String,
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl FromStr for Checkpoint {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| {
            format!("checkpoint `{s}` {why} (hint: a checkpoint is SEQ:HASH as a run prints it, e.g. `42:` followed by 64 hex digits)")
        };
        let (seq, hash) = s.trim().split_once(':').ok_or_else(|| bad("has no `:`"))?;
        let seq: u64 = seq
            .parse()
            .map_err(|_| bad("does not start with a sequence number"))?;
        if seq == 0 {
            return Err(bad("names seq 0; the first event is seq 1"));
        }
        if hash.len() != 64
            || !hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(bad("does not end in 64 lowercase hex digits"));
        }
        Ok(Checkpoint {
            seq,
            hash: hash.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_round_trips_through_its_text() {
        let c = Checkpoint {
            seq: 42,
            hash: "ab".repeat(32),
        };
        assert_eq!(c.to_string().parse::<Checkpoint>(), Ok(c));
    }

    #[test]
    fn malformed_checkpoints_say_what_a_checkpoint_is() {
        for bad in [
            "",
            "42",
            "x:ab",
            "0:00",
            "1:ABCD",
            &format!("1:{}", "g".repeat(64)),
        ] {
            let e = bad.parse::<Checkpoint>().unwrap_err();
            assert!(e.contains("SEQ:HASH"), "{bad}: {e}");
        }
    }
}
