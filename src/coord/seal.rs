//! The seal of the chain head and the authentication of spool files, both HMAC-SHA256 under the
//! ledger key (`<base>/ledger-key`, domain-separated). The seal — `SEQ:HASH:MAC` over the last
//! event — lives in the database's `meta` table and is rewritten in the same transaction as every
//! append, so deleting the newest rows, or rewriting the whole chain with fresh hashes, no longer
//! verifies without the key. (Putting back an older seal together with a truncation is caught only by
//! a checkpoint published elsewhere: see `checkpoint`.) It never prints or stores the key.

use hmac::{Hmac, Mac};
use rusqlite::{Connection, OptionalExtension};
use sha2::Sha256;

use super::key::KEY_LEN;

type HmacSha256 = Hmac<Sha256>;

/// Domain separation of the two MACs made with the ledger key.
const SEAL_CONTEXT: &[u8] = b"cc-ci seal v1\n";
const SPOOL_CONTEXT: &[u8] = b"cc-ci spool v1\n";

/// The `meta` row that holds the seal.
const META_KEY: &str = "seal";

fn hmac(key: &[u8; KEY_LEN], context: &[u8], body: &[u8]) -> HmacSha256 {
    // HMAC accepts a key of any length; 32 bytes always work.
    let mut m = <HmacSha256 as Mac>::new_from_slice(key).expect("hmac accepts any key length");
    m.update(context);
    m.update(body);
    m
}

fn verifies(m: HmacSha256, tag: &str) -> bool {
    hex::decode(tag).is_ok_and(|t| m.verify_slice(&t).is_ok())
}

/// The MAC of a spool file's canonical event text.
pub fn spool_mac(key: &[u8; KEY_LEN], canonical_event: &str) -> String {
    hex::encode(
        hmac(key, SPOOL_CONTEXT, canonical_event.as_bytes())
            .finalize()
            .into_bytes(),
    )
}

/// Whether `tag` authenticates the canonical event text (constant-time comparison).
pub fn spool_mac_verifies(key: &[u8; KEY_LEN], canonical_event: &str, tag: &str) -> bool {
    verifies(hmac(key, SPOOL_CONTEXT, canonical_event.as_bytes()), tag)
}

fn seal_body(seq: u64, hash: &str) -> String {
    format!("{seq}:{hash}")
}

/// Seals the head `(seq, hash)` inside the caller's write transaction.
pub fn write(conn: &Connection, key: &[u8; KEY_LEN], seq: u64, hash: &str) -> rusqlite::Result<()> {
    let body = seal_body(seq, hash);
    let mac = hex::encode(
        hmac(key, SEAL_CONTEXT, body.as_bytes())
            .finalize()
            .into_bytes(),
    );
    let mut st = conn.prepare_cached("INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)")?;
    st.execute([META_KEY, &format!("{body}:{mac}")])?;
    Ok(())
}

/// The stored seal text, if any.
pub fn read(conn: &Connection) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [META_KEY], |r| {
        r.get::<_, String>(0)
    })
    .optional()
}

/// Why a seal does not vouch for the head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealProblem {
    pub what: String,
    pub expected: String,
    pub found: String,
}

/// Checks the stored seal against the chain's head (`(0, _)` for an empty chain).
pub fn check(
    key: &[u8; KEY_LEN],
    stored: Option<&str>,
    head: (u64, &str),
) -> Result<(), SealProblem> {
    let (seq, hash) = head;
    let problem = |what: &str, expected: String, found: String| SealProblem {
        what: what.into(),
        expected,
        found,
    };
    let Some(stored) = stored else {
        if seq == 0 {
            return Ok(());
        }
        return Err(problem(
            "the chain head is not sealed (the seal was removed)",
            seal_body(seq, hash),
            "no seal".into(),
        ));
    };
    let mut parts = stored.rsplitn(2, ':');
    let (Some(mac), Some(body)) = (parts.next(), parts.next()) else {
        return Err(problem(
            "unreadable seal",
            "SEQ:HASH:MAC".into(),
            stored.into(),
        ));
    };
    if !verifies(hmac(key, SEAL_CONTEXT, body.as_bytes()), mac) {
        return Err(problem(
            "the seal does not verify under the ledger key (forged, or the key was replaced)",
            "a MAC made with this host's ledger key".into(),
            stored.into(),
        ));
    }
    if body != seal_body(seq, hash) {
        let what = match body
            .split_once(':')
            .and_then(|(s, _)| s.parse::<u64>().ok())
        {
            Some(sealed) if sealed > seq => "the chain ends before its seal (events were removed)",
            Some(sealed) if sealed < seq => {
                "events after the seal were added without the ledger key"
            }
            _ => "the head differs from the sealed one (the chain was rewritten)",
        };
        return Err(problem(what, body.into(), seal_body(seq, hash)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);")
            .unwrap();
        c
    }

    #[test]
    fn a_sealed_head_verifies_and_any_other_head_does_not() {
        let k = [3u8; KEY_LEN];
        let c = conn();
        let h = "a".repeat(64);
        write(&c, &k, 5, &h).unwrap();
        let s = read(&c).unwrap();
        assert_eq!(check(&k, s.as_deref(), (5, &h)), Ok(()));
        let e = check(&k, s.as_deref(), (4, "b")).unwrap_err();
        assert!(e.what.contains("removed"), "{e:?}");
        let e = check(&k, s.as_deref(), (6, "b")).unwrap_err();
        assert!(e.what.contains("without the ledger key"), "{e:?}");
        let e = check(&k, s.as_deref(), (5, "b")).unwrap_err();
        assert!(e.what.contains("rewritten"), "{e:?}");
        let e = check(&[4u8; KEY_LEN], s.as_deref(), (5, &h)).unwrap_err();
        assert!(e.what.contains("does not verify"), "{e:?}");
        let forged = format!("5:{h}:{}", "0".repeat(64));
        assert!(check(&k, Some(&forged), (5, &h)).is_err());
    }

    #[test]
    fn an_empty_chain_needs_no_seal_and_a_missing_seal_is_reported() {
        let k = [3u8; KEY_LEN];
        assert_eq!(check(&k, None, (0, "")), Ok(()));
        let e = check(&k, None, (2, "x")).unwrap_err();
        assert!(e.what.contains("not sealed"), "{e:?}");
    }

    #[test]
    fn a_spool_mac_verifies_only_its_own_text_and_key() {
        let k = [9u8; KEY_LEN];
        let t = spool_mac(&k, "{\"a\":1}");
        assert!(spool_mac_verifies(&k, "{\"a\":1}", &t));
        assert!(!spool_mac_verifies(&k, "{\"a\":2}", &t));
        assert!(!spool_mac_verifies(&[1u8; KEY_LEN], "{\"a\":1}", &t));
        assert!(!spool_mac_verifies(&k, "{\"a\":1}", "zz"));
    }
}
