//! API keys found by hash, kept in memory so that most requests with a key
//! ask nothing of the database.
//!
//! A key stops working only by revocation or expiry. Expiry is checked on
//! every use from the cached row. Revocation evicts the key here when the
//! revoking transaction commits, and on PostgreSQL on every instance: the
//! transaction sends `NOTIFY steward_keys` with the key's hash, which
//! PostgreSQL delivers only if it commits, and each instance listens. While an
//! instance's listener is not connected (not yet, or lost) it caches nothing,
//! so a notice it could have missed can never leave a revoked key usable.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::api_keys::KeyWithOrg;
use crate::listen::Heard;

/// The channel revocations are announced on.
pub(crate) const CHANNEL: &str = "steward_keys";

/// More keys than this and the cache starts over (bounded memory).
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Default)]
pub struct KeyCache {
    keys: Mutex<HashMap<String, KeyWithOrg>>,
    /// Whether revocations reach this cache (always on SQLite: one process).
    live: AtomicBool,
    /// Moves on every eviction, so a row read before a revocation is never
    /// put back after it (see [`KeyCache::put`]).
    generation: AtomicU64,
}

impl KeyCache {
    /// For SQLite: every revocation happens in this process.
    pub(crate) fn local() -> Arc<Self> {
        Arc::new(KeyCache { keys: Mutex::default(), live: AtomicBool::new(true), generation: AtomicU64::new(0) })
    }

    /// For PostgreSQL: live once [`listen`] has subscribed.
    pub(crate) fn shared() -> Arc<Self> {
        Arc::new(KeyCache::default())
    }

    pub fn get(&self, hash: &str) -> Option<KeyWithOrg> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        self.keys.lock().ok()?.get(hash).cloned()
    }

    /// Read before looking a key up in the database, and given to [`put`](Self::put).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Keeps a key read from the database, unless anything was evicted since
    /// `seen` (then the row may predate a revocation).
    pub fn put(&self, hash: &str, key: KeyWithOrg, seen: u64) {
        if !self.live.load(Ordering::Acquire) {
            return;
        }
        if let Ok(mut keys) = self.keys.lock() {
            if self.generation.load(Ordering::Acquire) != seen {
                return;
            }
            if keys.len() >= MAX_ENTRIES {
                keys.clear();
            }
            keys.insert(hash.to_owned(), key);
        }
    }

    pub(crate) fn evict(&self, hash: &str) {
        if let Ok(mut keys) = self.keys.lock() {
            keys.remove(hash);
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    fn set_live(&self, live: bool) {
        if let Ok(mut keys) = self.keys.lock() {
            keys.clear();
            self.generation.fetch_add(1, Ordering::AcqRel);
            self.live.store(live, Ordering::Release);
        }
    }
}

/// Keeps the cache in step with revocations made by any instance on this
/// PostgreSQL database, reconnecting when the connection drops.
pub(crate) async fn listen(url: String, cache: Arc<KeyCache>) {
    let meanwhile = "keys are not cached meanwhile";
    crate::listen::listen(&url, CHANNEL, "key revocations", meanwhile, |heard| {
        match heard {
            Heard::Notice(hash) => cache.evict(hash),
            // Listening again after missing notices: start from an empty cache.
            Heard::Listening | Heard::Reconnected => cache.set_live(true),
            Heard::Deaf => cache.set_live(false),
        }
        true
    })
    .await;
}

#[cfg(test)]
mod tests {
    use steward_core::ids::{ApiKeyId, OrgId};
    use steward_core::time::Timestamp;

    use super::*;
    use crate::api_keys::ApiKey;
    use crate::organizations::OrgSummary;

    fn key() -> KeyWithOrg {
        let org = OrgId::new();
        let key = ApiKey {
            id: ApiKeyId::new(),
            org_id: org.clone(),
            name: "k".into(),
            prefix: "stw_live_abcd".into(),
            last4: "wxyz".into(),
            key_hash: "h".into(),
            scopes: vec!["read".into()],
            rate_limit_per_minute: 600,
            created_by: None,
            created_by_name: None,
            created_at: Timestamp::from_millis(0),
            last_used_at: None,
            expires_at: None,
            revoked_at: None,
        };
        KeyWithOrg { key, org: OrgSummary { id: org, name: "Acme".into(), slug: "acme".into() } }
    }

    #[test]
    fn a_row_read_before_a_revocation_never_returns_to_the_cache() {
        let cache = KeyCache::local();
        let seen = cache.generation();
        cache.put("h", key(), seen);
        assert!(cache.get("h").is_some());
        // A request read the row, then the key was revoked before it put it back.
        let seen = cache.generation();
        cache.evict("h");
        cache.put("h", key(), seen);
        assert!(cache.get("h").is_none(), "the stale row was refused");
        cache.put("h", key(), cache.generation());
        assert!(cache.get("h").is_some());
    }

    #[test]
    fn nothing_is_cached_while_revocations_cannot_reach_the_cache() {
        let cache = KeyCache::shared();
        cache.put("h", key(), cache.generation());
        assert!(cache.get("h").is_none(), "not live until the listener subscribed");
        cache.set_live(true);
        cache.put("h", key(), cache.generation());
        assert!(cache.get("h").is_some());
        cache.set_live(false);
        assert!(cache.get("h").is_none(), "a lost listener drops everything");
    }
}
