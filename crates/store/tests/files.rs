//! Files in the database, on every engine: bytes come back exactly (across
//! chunks), an overwrite replaces every chunk, and deletes remove what they name.

use steward_store::files::{self, CHUNK_BYTES};
use steward_store::testing;

/// Deterministic bytes that don't repeat at chunk boundaries (xorshift).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[tokio::test]
async fn files_round_trip_on_every_engine() {
    for t in testing::all_engines().await {
        let db = &t.db;
        let engine = t.engine.name();
        let big = noise(1024 * 1024 + 17, 7);
        assert!(big.len() > 4 * CHUNK_BYTES);
        files::put(db, "media/org_a/ws_1/med_big", &big, 1).await.unwrap();
        assert_eq!(files::get(db, "media/org_a/ws_1/med_big").await.unwrap().as_deref(), Some(&big[..]), "{engine}");

        // An overwrite with fewer chunks leaves none of the old ones behind.
        let small = noise(1000, 9);
        files::put(db, "media/org_a/ws_1/med_big", &small, 2).await.unwrap();
        assert_eq!(files::get(db, "media/org_a/ws_1/med_big").await.unwrap(), Some(small.clone()), "{engine}");

        files::put(db, "media/org_a/ws_1/med_empty", &[], 3).await.unwrap();
        assert_eq!(files::get(db, "media/org_a/ws_1/med_empty").await.unwrap(), Some(Vec::new()), "{engine}");
        files::put(db, "media/org_a/ws_10/med_x", b"other workspace", 3).await.unwrap();
        files::put(db, "media/org_a/wsX1/med_x", b"underscore is literal", 3).await.unwrap();
        files::put(db, "logos/org_a.png", b"png", 3).await.unwrap();
        assert_eq!(files::get(db, "logos/org_b.png").await.unwrap(), None, "{engine}");

        assert_eq!(
            files::keys(db).await.unwrap(),
            vec![
                "logos/org_a.png",
                "media/org_a/wsX1/med_x",
                "media/org_a/ws_1/med_big",
                "media/org_a/ws_1/med_empty",
                "media/org_a/ws_10/med_x",
            ],
            "{engine}"
        );

        assert!(files::delete(db, "logos/org_a.png").await.unwrap(), "{engine}");
        assert!(!files::delete(db, "logos/org_a.png").await.unwrap(), "{engine}");
        assert_eq!(files::get(db, "logos/org_a.png").await.unwrap(), None, "{engine}");

        assert_eq!(files::delete_prefix(db, "media/org_a/ws_1/").await.unwrap(), 2, "{engine}");
        assert_eq!(files::get(db, "media/org_a/ws_1/med_big").await.unwrap(), None, "{engine}");
        assert_eq!(
            files::keys(db).await.unwrap(),
            vec!["media/org_a/wsX1/med_x", "media/org_a/ws_10/med_x"],
            "{engine}"
        );
        let left: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM stored_file_chunks").fetch_one(db.pool()).await.unwrap();
        assert_eq!(left, 2, "no orphan chunks on {engine}");
    }
}
