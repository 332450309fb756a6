//! Action search: the index follows every write, ranks slug/name matches
//! first, is tenant scoped, and no user text makes it fail — on SQLite always
//! and on PostgreSQL when `WAYGATE_TEST_POSTGRES_URL` is set.

mod support;

use sea_orm::{ConnectionTrait, Statement};
use support::TestDb;
use waygate_core::IntegrationDef;
use waygate_core::model::ActionDef;
use waygate_core::storage::IntegrationStore;
use waygate_store::{ActionQuery, Backend, ErrorKind, Store};

fn action(slug: &str, name: &str, description: &str, path: &str) -> ActionDef {
    let mut a = ActionDef::new(slug, "POST", path);
    a.name = Some(name.into());
    a.description = Some(description.into());
    a.group = Some("chat".into());
    a
}

fn slack() -> IntegrationDef {
    let mut def = IntegrationDef::new("slack", "Slack");
    def.actions = vec![
        action(
            "users_list",
            "List users",
            "Lists the users who can receive a message",
            "/users.list",
        ),
        action(
            "chat_postMessage",
            "Send a message",
            "Posts a message to a channel",
            "/chat.postMessage",
        ),
        action(
            "conversations_history",
            "Channel history",
            "Fetches the messages of a conversation",
            "/conversations.history",
        ),
        action(
            "files_upload",
            "Upload a file",
            "Uploads a file; naïve café names are kept",
            "/files.upload",
        ),
    ];
    def
}

async fn slugs(s: &Store, tenant: &str, text: &str) -> Vec<String> {
    s.search_actions(tenant, text, 20)
        .await
        .unwrap_or_else(|e| panic!("searching {text:?}: {e}"))
        .into_iter()
        .map(|a| format!("{}.{}", a.integration, a.slug))
        .collect()
}

async fn ranks_name_matches_first(db: &TestDb) {
    let s = &db.store;
    s.create_tenant("t", "T").await.unwrap();
    s.put_integration("t", slack()).await.unwrap();
    // In the name of one, in descriptions of others ("messages": the last
    // word is also a prefix); name matches first, then by slug.
    let expected = [
        "slack.chat_postMessage",
        "slack.conversations_history",
        "slack.users_list",
    ];
    assert_eq!(slugs(s, "t", "message").await, expected);
    assert_eq!(
        slugs(s, "t", "Mess").await,
        [
            "slack.chat_postMessage",
            "slack.conversations_history",
            "slack.users_list"
        ]
    );
    // A name match outranks an earlier slug whose description matches.
    assert_eq!(
        slugs(s, "t", "channel").await,
        ["slack.conversations_history", "slack.chat_postMessage"]
    );
    // Every word is required; camelCase slugs are found by their parts.
    assert_eq!(
        slugs(s, "t", "post message").await,
        ["slack.chat_postMessage"]
    );
    assert_eq!(
        slugs(s, "t", "postmessage").await,
        ["slack.chat_postMessage"]
    );
    // Only the last word is a prefix.
    assert!(slugs(s, "t", "mess channel").await.is_empty());
    // The integration's slug and the path are searched; diacritics are kept.
    assert_eq!(slugs(s, "t", "slack upload").await, ["slack.files_upload"]);
    assert_eq!(slugs(s, "t", "café").await, ["slack.files_upload"]);
    assert!(slugs(s, "t", "cafe").await.is_empty());
    // The limit counts.
    assert_eq!(s.search_actions("t", "slack", 2).await.unwrap().len(), 2);
    let found = s.search_actions("t", "upload", 1).await.unwrap();
    assert_eq!(found[0].name.as_deref(), Some("Upload a file"));
    assert_eq!(found[0].path, "/files.upload");
}

async fn hostile_text_finds_nothing_and_never_fails(db: &TestDb) {
    let s = &db.store;
    s.create_tenant("t", "T").await.unwrap();
    s.put_integration("t", slack()).await.unwrap();
    for text in [
        "\"",
        "*",
        "AND OR",
        "-",
        ":",
        "'",
        "\\",
        "%",
        "_",
        "NEAR(",
        "^x",
        "a\"b",
        "x:*",
        "!y & z | w",
        "{search_head}: x",
        "search_scope : t74",
        "'); DROP TABLE actions; --",
        "",
        "   ",
    ] {
        assert!(slugs(s, "t", text).await.is_empty(), "{text:?}");
    }
    // Operators around real words are just punctuation.
    assert_eq!(
        slugs(s, "t", "\"upload\" AND* -file:").await,
        Vec::<String>::new(),
        "AND is a word to find, and no action has it"
    );
    assert_eq!(
        slugs(s, "t", "\"upload\" (file*").await,
        ["slack.files_upload"]
    );
    let long = "x".repeat(5000);
    assert!(slugs(s, "t", &long).await.is_empty());
}

async fn the_index_follows_every_write(db: &TestDb) {
    let s = &db.store;
    for t in ["a", "b"] {
        s.create_tenant(t, t).await.unwrap();
    }
    s.put_integration("a", slack()).await.unwrap();
    assert_eq!(slugs(s, "a", "upload").await, ["slack.files_upload"]);
    assert!(slugs(s, "b", "upload").await.is_empty(), "tenant scoped");
    // Another tenant's identical integration is its own.
    s.put_integration("b", slack()).await.unwrap();
    assert_eq!(slugs(s, "b", "upload").await, ["slack.files_upload"]);
    // Replaced: the old actions are gone from the index.
    let mut v2 = slack();
    v2.actions.retain(|a| a.slug != "files_upload");
    s.put_integration("a", v2).await.unwrap();
    assert!(slugs(s, "a", "upload").await.is_empty());
    assert_eq!(slugs(s, "b", "upload").await, ["slack.files_upload"]);
    // Deleted (actions cascade): nothing left for a, b untouched.
    assert!(s.delete_integration("a", "slack").await.unwrap());
    assert!(slugs(s, "a", "message").await.is_empty());
    assert_eq!(slugs(s, "b", "send").await, ["slack.chat_postMessage"]);
    // A deleted tenant's actions cascade too.
    s.put_integration("a", slack()).await.unwrap();
    let raw = db.raw().await;
    raw.execute_unprepared("DELETE FROM tenants WHERE id = 'a'")
        .await
        .unwrap();
    assert!(slugs(s, "a", "message").await.is_empty());
    if s.backend() == Backend::Sqlite {
        // FTS5 compares its index with the content table.
        raw.execute_raw(Statement::from_string(
            raw.get_database_backend(),
            "INSERT INTO actions_fts (actions_fts, rank) VALUES ('integrity-check', 1)",
        ))
        .await
        .expect("the FTS index matches the actions table");
    }
    raw.close().await.unwrap();
}

async fn large_integrations_are_indexed_whole(db: &TestDb) {
    let s = &db.store;
    s.create_tenant("t", "T").await.unwrap();
    let mut def = IntegrationDef::new("big", "Big");
    for i in 0..450 {
        def.actions.push(action(
            &format!("op{i:03}"),
            &format!("Operation {i}"),
            &format!("Does {} thing {i}", "x".repeat(3000)),
            &format!("/r{i}"),
        ));
    }
    s.put_integration("t", def).await.unwrap();
    assert_eq!(slugs(s, "t", "operation 449").await, ["big.op449"]);
    assert_eq!(
        s.search_actions("t", "thing", 500).await.unwrap().len(),
        450
    );
}

/// Every page of `query`, following the cursors; the slugs in order.
async fn all_pages(s: &Store, tenant: &str, mut query: ActionQuery) -> (Vec<String>, u64, usize) {
    let mut out = Vec::new();
    let mut pages = 0;
    loop {
        let page = s.action_page(tenant, &query).await.unwrap();
        pages += 1;
        out.extend(
            page.entries
                .iter()
                .map(|a| format!("{}.{}", a.integration, a.slug)),
        );
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => return (out, page.total, pages),
        }
        assert!(pages < 100, "the cursor never ends");
    }
}

async fn pages_filter_by_integration_and_tag_and_follow_cursors(db: &TestDb) {
    let s = &db.store;
    s.create_tenant("t", "T").await.unwrap();
    s.create_tenant("other", "O").await.unwrap();
    let mut chat = slack();
    chat.tags = vec!["communication".into()];
    s.put_integration("t", chat).await.unwrap();
    let mut big = IntegrationDef::new("big", "Big");
    big.tags = vec!["bulk".into()];
    for i in 0..25 {
        big.actions.push(action(
            &format!("op{i:02}"),
            &format!("Operation {i}"),
            "Sends a message somewhere",
            &format!("/r{i}"),
        ));
    }
    s.put_integration("t", big.clone()).await.unwrap();
    s.put_integration("other", big).await.unwrap();

    // Every action, by integration and slug, in pages of 7.
    let mut query = ActionQuery::new();
    query.limit = Some(7);
    let (every, total, pages) = all_pages(s, "t", query.clone()).await;
    assert_eq!((every.len(), total, pages), (29, 29, 5));
    let mut sorted = every.clone();
    sorted.sort();
    assert_eq!(every, sorted);

    // Search: name matches first, across pages, nothing repeated or lost.
    query.text = Some("message".into());
    let (found, total, _) = all_pages(s, "t", query.clone()).await;
    assert_eq!(total, 28);
    assert_eq!(found[0], "slack.chat_postMessage");
    let mut unique = found.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 28);
    assert!(!found.contains(&"slack.files_upload".to_owned()));

    // Filters: the integration, the tag.
    query.integration = Some("slack".into());
    let (in_slack, total, _) = all_pages(s, "t", query.clone()).await;
    assert_eq!((in_slack.len(), total), (3, 3));
    query.integration = None;
    query.tag = Some("bulk".into());
    let (tagged, _, _) = all_pages(s, "t", query.clone()).await;
    assert_eq!(tagged.len(), 25);
    assert!(tagged.iter().all(|a| a.starts_with("big.")));
    query.tag = Some("bul".into());
    assert_eq!(all_pages(s, "t", query.clone()).await.0.len(), 0);

    // A cursor the store did not make is refused; a tenant sees only its own.
    let mut bad = ActionQuery::new();
    bad.cursor = Some("bm90IGEgY3Vyc29y".into());
    let err = s.action_page("t", &bad).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert_eq!(all_pages(s, "other", ActionQuery::new()).await.1, 25);
}

mod run {
    crate::on_every_backend!(
        ranks_name_matches_first,
        hostile_text_finds_nothing_and_never_fails,
        the_index_follows_every_write,
        large_integrations_are_indexed_whole,
        pages_filter_by_integration_and_tag_and_follow_cursors,
    );
}
