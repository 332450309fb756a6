//! Tags across a tenant's integrations: counted, renamed everywhere in one
//! transaction (merging duplicates), tenant scoped — on SQLite always and on
//! PostgreSQL when `WAYGATE_TEST_POSTGRES_URL` is set.

mod support;

use support::TestDb;
use waygate_core::IntegrationDef;
use waygate_core::storage::IntegrationStore;
use waygate_store::{IntegrationQuery, Store};

fn tagged(slug: &str, tags: &[&str]) -> IntegrationDef {
    let mut def = IntegrationDef::new(slug, slug.to_uppercase());
    def.tags = tags.iter().map(|t| (*t).to_owned()).collect();
    def
}

async fn counts(s: &Store, tenant: &str) -> Vec<(String, u64)> {
    s.tag_counts(tenant)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.tag, c.integrations))
        .collect()
}

fn pairs(expected: &[(&str, u64)]) -> Vec<(String, u64)> {
    expected
        .iter()
        .map(|(t, n)| ((*t).to_owned(), *n))
        .collect()
}

async fn tags_of(s: &Store, tenant: &str, slug: &str) -> (Vec<String>, u64) {
    let stored = s.integration(tenant, slug).await.unwrap().unwrap();
    let summary = s.integration_summary(tenant, slug).await.unwrap().unwrap();
    assert_eq!(summary.tags, stored.def.tags, "column and definition agree");
    (stored.def.tags.clone(), stored.revision)
}

async fn counted_and_renamed_with_merge(db: &TestDb) {
    let s = &db.store;
    s.create_tenant("t", "T").await.unwrap();
    s.create_tenant("u", "U").await.unwrap();
    for def in [
        tagged("crm", &["sales", "chat"]),
        tagged("slack", &["chat"]),
        tagged("mail", &["talk", "chat", "50%_off"]),
        tagged("loud", &["Chat"]),
        tagged("plain", &[]),
    ] {
        s.store_integration("t", &def).await.unwrap();
    }
    s.store_integration("u", &tagged("theirs", &["chat"]))
        .await
        .unwrap();
    assert_eq!(
        counts(s, "t").await,
        pairs(&[
            ("50%_off", 1),
            ("Chat", 1),
            ("chat", 3),
            ("sales", 1),
            ("talk", 1)
        ])
    );
    let (_, before) = tags_of(s, "t", "mail").await;

    let renamed = s.rename_tag("t", "chat", "talk").await.unwrap();
    assert_eq!(renamed, ["crm", "mail", "slack"]);
    assert_eq!(
        counts(s, "t").await,
        pairs(&[("50%_off", 1), ("Chat", 1), ("sales", 1), ("talk", 3)])
    );
    let (tags, after) = tags_of(s, "t", "mail").await;
    assert_eq!(tags, ["talk", "50%_off"], "merged, not repeated");
    assert!(after > before, "the revision goes up: {before} → {after}");
    assert_eq!(tags_of(s, "t", "crm").await.0, ["sales", "talk"]);
    assert_eq!(tags_of(s, "t", "loud").await.0, ["Chat"], "case counts");

    // Listing by the new tag finds them; the old tag is gone.
    let mut query = IntegrationQuery::new();
    query.tag = Some("talk".into());
    assert_eq!(
        s.list_integration_summaries("t", &query)
            .await
            .unwrap()
            .total,
        3
    );
    assert!(s.rename_tag("t", "chat", "x").await.unwrap().is_empty());

    // LIKE's own characters are matched literally.
    assert!(s.rename_tag("t", "50%", "x").await.unwrap().is_empty());
    assert_eq!(
        s.rename_tag("t", "50%_off", "sale").await.unwrap(),
        ["mail"]
    );

    // The other tenant's tags are untouched.
    assert_eq!(counts(s, "u").await, pairs(&[("chat", 1)]));
    assert_eq!(tags_of(s, "u", "theirs").await.0, ["chat"]);
}

mod run {
    crate::on_every_backend!(counted_and_renamed_with_merge);
}
