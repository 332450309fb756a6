//! The web dashboard over real HTTP: sign-in, the session cookie's flags,
//! sign-out ending the session, CSRF refusals, the Content-Security-Policy,
//! and tenant isolation between sessions.

use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::Gateway;

/// A browser without a cookie jar or redirects: every cookie and hop is checked by hand.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of `name="csrf" value="…"` in a page.
fn csrf(html: &str) -> String {
    let at = html
        .find(r#"name="csrf" value=""#)
        .unwrap_or_else(|| panic!("no CSRF field in {html}"));
    let rest = &html[at + r#"name="csrf" value=""#.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// `name=value` of the `Set-Cookie` for `name`, and the whole header.
fn set_cookie(response: &reqwest::Response, name: &str) -> (String, String) {
    let header = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie"));
    let pair = header.split(';').next().unwrap().to_owned();
    (pair, header)
}

/// A signed-in browser session: its cookie and the CSRF token of its pages.
struct Signed {
    cookie: String,
    csrf: String,
}

async fn sign_in(gw: &Gateway, key: &str) -> Signed {
    let client = browser();
    let page = client
        .get(format!("{}/signin", gw.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let (signin_cookie, _) = set_cookie(&page, "waygate_signin");
    let token = csrf(&page.text().await.unwrap());
    let answer = client
        .post(format!("{}/signin", gw.url))
        .header(COOKIE, &signin_cookie)
        .form(&[("apiKey", key), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(answer.headers()[LOCATION], "/");
    let (cookie, _) = set_cookie(&answer, "waygate_session");
    let home = get(gw, "/", &cookie).await;
    assert_eq!(home.status(), StatusCode::OK);
    let csrf = csrf(&home.text().await.unwrap());
    Signed { cookie, csrf }
}

async fn get(gw: &Gateway, path: &str, cookie: &str) -> reqwest::Response {
    browser()
        .get(format!("{}{path}", gw.url))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap()
}

async fn post(gw: &Gateway, path: &str, cookie: &str, form: &[(&str, &str)]) -> reqwest::Response {
    browser()
        .post(format!("{}{path}", gw.url))
        .header(COOKIE, cookie)
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn sign_in_opens_a_strict_http_only_session_and_sign_out_ends_it() {
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("acme").await;
    let client = browser();

    let page = client
        .get(format!("{}/signin", gw.url))
        .send()
        .await
        .unwrap();
    let (signin_cookie, _) = set_cookie(&page, "waygate_signin");
    let token = csrf(&page.text().await.unwrap());

    // A wrong key, and a right key without the form's own token, are refused.
    let wrong = client
        .post(format!("{}/signin", gw.url))
        .header(COOKIE, &signin_cookie)
        .form(&[("apiKey", "wg_live_0000"), ("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(
        wrong
            .headers()
            .get(SET_COOKIE)
            .is_none_or(|c| !c.to_str().unwrap().starts_with("waygate_session="))
    );
    let forged = client
        .post(format!("{}/signin", gw.url))
        .form(&[("apiKey", key.as_str()), ("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let answer = client
        .post(format!("{}/signin", gw.url))
        .header(COOKIE, &signin_cookie)
        .form(&[("apiKey", key.as_str()), ("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let (cookie, header) = set_cookie(&answer, "waygate_session");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(header.contains(flag), "{flag} missing in {header}");
    }
    assert!(!cookie.contains(&key), "the cookie is not the API key");

    let home = get(&gw, "/", &cookie).await;
    assert_eq!(home.status(), StatusCode::OK);
    let html = home.text().await.unwrap();
    assert!(html.contains("Create your first integration"), "{html}");
    let token = csrf(&html);

    // Without a session every page sends the browser to sign in.
    let anonymous = get(&gw, "/", "").await;
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(anonymous.headers()[LOCATION], "/signin");

    // Sign-out needs the token too; afterwards the old cookie opens nothing.
    assert_eq!(
        post(&gw, "/signout", &cookie, &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    let out = post(&gw, "/signout", &cookie, &[("csrf", &token)]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let (cleared, _) = set_cookie(&out, "waygate_session");
    assert_eq!(cleared, "waygate_session=");
    let after = get(&gw, "/", &cookie).await;
    assert_eq!(
        after.status(),
        StatusCode::SEE_OTHER,
        "the session ended in the store"
    );
}

/// How many API keys the tenant has (revoked ones too).
async fn key_count(gw: &Gateway, tenant: &str, key: &str) -> usize {
    let path = format!("/api/v1/tenants/{tenant}/api-keys");
    let (_, body) = gw.call(Method::GET, &path, key, None).await;
    body["data"].as_array().unwrap().len()
}

#[tokio::test]
async fn forms_without_the_sessions_csrf_token_change_nothing() {
    let gw = Gateway::start(&[]);
    let (tenant, key) = gw.tenant("acme").await;
    let signed = sign_in(&gw, &key).await;
    let before = key_count(&gw, &tenant, &key).await;
    let missing = post(&gw, "/settings/keys", &signed.cookie, &[("name", "x")]).await;
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    let wrong = post(
        &gw,
        "/settings/keys",
        &signed.cookie,
        &[("name", "x"), ("csrf", "00ff")],
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    // Another session's token is wrong for this one.
    let other = sign_in(&gw, &key).await;
    assert_ne!(other.csrf, signed.csrf);
    let crossed = post(
        &gw,
        "/settings/keys",
        &signed.cookie,
        &[("name", "x"), ("csrf", &other.csrf)],
    )
    .await;
    assert_eq!(crossed.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        key_count(&gw, &tenant, &key).await,
        before,
        "no key was created"
    );

    let created = post(
        &gw,
        "/settings/keys",
        &signed.cookie,
        &[("name", "ci"), ("csrf", &signed.csrf)],
    )
    .await;
    assert_eq!(created.status(), StatusCode::OK);
    let html = created.text().await.unwrap();
    assert!(html.contains("wg_live_"), "the new key is shown once");
    assert_eq!(key_count(&gw, &tenant, &key).await, before + 1);
    let again = get(&gw, "/settings", &signed.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(!again.contains("Your new key"), "not shown twice");
}

#[tokio::test]
async fn every_page_has_a_strict_policy_and_only_its_own_assets() {
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("acme").await;
    gw.created(
        "/api/v1/integrations",
        &key,
        json!({"slug": "pets", "name": "Pets", "baseUrl": "http://127.0.0.1:9",
               "actions": [{"slug": "list", "method": "GET", "path": "/pets"}]}),
    )
    .await;
    let signed = sign_in(&gw, &key).await;
    for path in [
        "/",
        "/integrations/new",
        "/integrations/pets",
        "/integrations/pets/actions/list",
        "/integrations/pets/connections/new",
        "/integrations/pets/test",
        "/integrations/pets/agents",
        "/logs",
        "/health",
        "/settings",
    ] {
        let page = get(&gw, path, &signed.cookie).await;
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        let policy = page.headers()[CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(policy.contains("default-src 'none'"), "{path}: {policy}");
        assert!(policy.contains("script-src 'self'"), "{path}: {policy}");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert!(!policy.contains("unsafe"), "{path}: {policy}");
        assert_eq!(page.headers()["cache-control"], "no-store", "{path}");
        let html = page.text().await.unwrap();
        for (i, _) in html.match_indices("<script") {
            assert!(
                html[i..].starts_with("<script src=\"/assets/"),
                "{path}: inline or foreign script"
            );
        }
        assert!(!html.contains(" style="), "{path}: inline style");
        assert!(
            !html.contains("src=\"http") && !html.contains("href=\"http"),
            "{path}: an outside asset"
        );
    }
    for (asset, kind) in [
        ("/assets/app.css", "text/css"),
        ("/assets/app.js", "text/javascript"),
        ("/assets/htmx.min.js", "text/javascript"),
        ("/assets/inter-400.woff2", "font/woff2"),
    ] {
        let answer = get(&gw, asset, "").await;
        assert_eq!(answer.status(), StatusCode::OK, "{asset}");
        assert!(
            answer.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{asset}"
        );
    }
    // The API and the docs are where they were.
    assert_eq!(
        gw.call(Method::GET, "/api/v1/integrations", &key, None)
            .await
            .0,
        StatusCode::OK
    );
    assert!(gw.text("/healthz").await.contains("ok"));
}

#[tokio::test]
async fn a_session_sees_only_its_own_tenants_integrations() {
    let gw = Gateway::start(&[]);
    let (_, key_a) = gw.tenant("a").await;
    let (tenant_b, key_b) = gw.tenant("b").await;
    gw.created(
        "/api/v1/integrations",
        &key_b,
        json!({"slug": "bee", "name": "Bee Secret API", "baseUrl": "http://127.0.0.1:9",
               "actions": [{"slug": "ping", "method": "GET", "path": "/ping"}]}),
    )
    .await;
    let a = sign_in(&gw, &key_a).await;
    let b = sign_in(&gw, &key_b).await;

    let theirs = get(&gw, "/integrations/bee", &b.cookie).await;
    assert_eq!(theirs.status(), StatusCode::OK);
    assert!(theirs.text().await.unwrap().contains("Bee Secret API"));

    for path in [
        "/integrations/bee",
        "/integrations/bee/actions/ping",
        "/integrations/bee/connections/new",
        "/integrations/bee/export.yaml",
        "/integrations/bee/agents",
    ] {
        let page = get(&gw, path, &a.cookie).await;
        assert_eq!(page.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(
            !page.text().await.unwrap().contains("Bee Secret API"),
            "{path}"
        );
    }
    let home = get(&gw, "/", &a.cookie).await.text().await.unwrap();
    assert!(!home.contains("Bee Secret API"));
    let tried = post(
        &gw,
        "/integrations/bee/connections",
        &a.cookie,
        &[("csrf", &a.csrf), ("type", "none")],
    )
    .await;
    assert_eq!(tried.status(), StatusCode::NOT_FOUND);
    let (_, keys_b) = gw
        .call(
            Method::GET,
            &format!("/api/v1/tenants/{tenant_b}/api-keys"),
            &key_b,
            None,
        )
        .await;
    let id_b = keys_b["data"][0]["id"].as_str().unwrap().to_owned();
    let revoke = post(
        &gw,
        &format!("/settings/keys/{id_b}/revoke"),
        &a.cookie,
        &[("csrf", &a.csrf)],
    )
    .await;
    assert_eq!(revoke.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        get(&gw, "/", &b.cookie).await.status(),
        StatusCode::OK,
        "B's key still works"
    );
    let (_, connections) = gw
        .call(
            Method::GET,
            "/api/v1/integrations/bee/connections",
            &key_b,
            None,
        )
        .await;
    assert_eq!(connections["data"], json!([]));
}

#[tokio::test]
async fn revoking_the_key_ends_its_sessions() {
    let gw = Gateway::start(&[]);
    let (tenant, key) = gw.tenant("acme").await;
    let signed = sign_in(&gw, &key).await;
    let (_, keys) = gw
        .call(
            Method::GET,
            &format!("/api/v1/tenants/{tenant}/api-keys"),
            &key,
            None,
        )
        .await;
    let id = keys["data"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) = gw
        .call(
            Method::DELETE,
            &format!("/api/v1/tenants/{tenant}/api-keys/{id}"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let after = get(&gw, "/", &signed.cookie).await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert_eq!(after.headers()[LOCATION], "/signin");
}

#[tokio::test]
async fn settings_are_saved_through_the_apis_checks() {
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("acme").await;
    gw.created(
        "/api/v1/integrations",
        &key,
        json!({"slug": "pets", "name": "Pets", "baseUrl": "http://127.0.0.1:9",
               "actions": [{"slug": "list", "method": "GET", "path": "/pets"}]}),
    )
    .await;
    let signed = sign_in(&gw, &key).await;
    let saved = post(
        &gw,
        "/integrations/pets/settings",
        &signed.cookie,
        &[
            ("csrf", &signed.csrf),
            ("status", "disabled"),
            ("defaults", r#"{"timeoutMs": 1234}"#),
        ],
    )
    .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let (_, read) = gw
        .call(Method::GET, "/api/v1/integrations/pets", &key, None)
        .await;
    assert_eq!(read["defaults"]["timeoutMs"], json!(1234));
    assert_eq!(read["status"], "disabled");

    // Unknown fields are refused by the definition's own rules, and nothing changes.
    let refused = post(
        &gw,
        "/integrations/pets/settings",
        &signed.cookie,
        &[
            ("csrf", &signed.csrf),
            ("status", "active"),
            ("defaults", r#"{"timeout": 5}"#),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains("unknown field"));
    let (_, read) = gw
        .call(Method::GET, "/api/v1/integrations/pets", &key, None)
        .await;
    assert_eq!(read["status"], "disabled");
}

#[tokio::test]
async fn the_connection_form_offers_each_auth_scheme_and_stores_the_chosen_one() {
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("schemes").await;
    gw.created(
        "/api/v1/integrations",
        &key,
        json!({"slug": "two", "name": "Two Ways", "baseUrl": "http://127.0.0.1:9",
               "auth": {"type": "bearer"},
               "authSchemes": {"token": {"type": "api_key", "in": "header", "name": "X-Token"}},
               "actions": [{"slug": "ping", "method": "GET", "path": "/ping"}]}),
    )
    .await;
    let s = sign_in(&gw, &key).await;

    let form = get(&gw, "/integrations/two/connections/new", &s.cookie).await;
    let html = form.text().await.unwrap();
    assert!(
        html.contains(r#"name="authScheme" value="default""#),
        "{html}"
    );
    assert!(html.contains(r#"name="token""#), "the bearer form: {html}");
    assert!(html.contains("connections/new?scheme=token"), "{html}");

    let form = get(
        &gw,
        "/integrations/two/connections/new?scheme=token",
        &s.cookie,
    )
    .await;
    let html = form.text().await.unwrap();
    assert!(
        html.contains(r#"name="authScheme" value="token""#),
        "{html}"
    );
    assert!(
        html.contains(r#"name="key""#) && html.contains("header X-Token"),
        "{html}"
    );

    let saved = post(
        &gw,
        "/integrations/two/connections",
        &s.cookie,
        &[
            ("csrf", &s.csrf),
            ("name", "tok"),
            ("authScheme", "token"),
            ("type", "api_key"),
            ("key", "k-1"),
        ],
    )
    .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let (status, list) = gw
        .call(
            Method::GET,
            "/api/v1/integrations/two/connections",
            &key,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let tok = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "tok")
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(tok["authScheme"], "token", "{tok}");

    // A credential that does not suit the chosen scheme is refused on the same form.
    let refused = post(
        &gw,
        "/integrations/two/connections",
        &s.cookie,
        &[
            ("csrf", &s.csrf),
            ("name", "bad"),
            ("authScheme", "token"),
            ("type", "basic"),
            ("username", "u"),
            ("password", "p"),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains(r#"name="authScheme" value="token""#),
        "{html}"
    );
    assert!(html.contains("inline-error"), "{html}");
}

/// The page a form post answers, as text.
async fn post_text(gw: &Gateway, path: &str, cookie: &str, form: &[(&str, &str)]) -> String {
    post(gw, path, cookie, form).await.text().await.unwrap()
}

/// A page, as text.
async fn get_text(gw: &Gateway, path: &str, cookie: &str) -> String {
    get(gw, path, cookie).await.text().await.unwrap()
}

/// An upstream that echoes what it was sent: `POST /pets` answers its JSON
/// body, `GET /items?offset=&limit=` pages through 30 items.
async fn echo_upstream() -> String {
    use axum::routing::{get, post};
    async fn echo(
        axum::Json(body): axum::Json<serde_json::Value>,
    ) -> axum::Json<serde_json::Value> {
        axum::Json(json!({"received": body}))
    }
    async fn items(
        axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, u64>>,
    ) -> axum::Json<serde_json::Value> {
        let offset = q.get("offset").copied().unwrap_or(0);
        let limit = q.get("limit").copied().unwrap_or(10);
        let items: Vec<_> = (offset + 1..=(offset + limit).min(30))
            .map(|n| json!({"id": n}))
            .collect();
        axum::Json(json!({"records": items}))
    }
    crate::support::serve_upstream(
        axum::Router::new()
            .route("/pets", post(echo))
            .route("/items", get(items)),
    )
    .await
}

/// An integration whose `add` takes a typed body and whose `list` pages.
async fn typed_integration(gw: &Gateway, key: &str, upstream: &str) {
    gw.created(
        "/api/v1/integrations",
        key,
        json!({"slug": "zoo", "name": "Zoo", "baseUrl": upstream,
            "actions": [
                {"slug": "add", "method": "POST", "path": "/pets",
                 "inputSchema": {"type": "object", "required": ["name"], "properties": {
                    "name": {"type": "string", "description": "What the pet answers to"},
                    "age": {"type": "integer"},
                    "weight": {"type": "number"},
                    "indoor": {"type": "boolean"},
                    "kind": {"enum": ["dog", "cat"]},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "owner": {"type": "object", "properties": {"email": {"type": "string"}}}}}},
                {"slug": "list", "method": "GET", "path": "/items",
                 "parameters": [{"name": "offset", "in": "query"}, {"name": "limit", "in": "query"}],
                 "pagination": {"strategy": "offset", "itemsPath": "/records", "offsetParam": "offset",
                                "limitParam": "limit", "pageSize": 10}}]}),
    )
    .await;
}

#[tokio::test]
async fn try_it_builds_the_input_from_the_schema_form_and_passes_the_paging_options() {
    let upstream = echo_upstream().await;
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("zoo").await;
    typed_integration(&gw, &key, &upstream).await;
    let s = sign_in(&gw, &key).await;

    let page = get(&gw, "/integrations/zoo/actions/add", &s.cookie).await;
    let html = page.text().await.unwrap();
    for expected in [
        r#"name="in/name""#,
        r#"name="in/age" value="" step="1""#,
        r#"name="in/weight" value="" step="any""#,
        r#"<option value="dog">dog</option>"#,
        r#"<option value="true">true</option>"#,
        r#"name="in/tags" spellcheck="false""#,
        "<legend>owner</legend>",
        r#"name="in/owner/email""#,
        r#"id="mode-json""#,
        "What the pet answers to",
    ] {
        assert!(html.contains(expected), "{expected} missing in {html}");
    }
    assert!(!html.contains(r#"id="paging""#), "add has no pagination");

    let path = "/integrations/zoo/actions/add/try";
    let sent = post(
        &gw,
        path,
        &s.cookie,
        &[
            ("csrf", &s.csrf),
            ("mode", "form"),
            ("in/name", "Rex"),
            ("in/age", "3"),
            ("in/weight", "4.5"),
            ("in/indoor", "false"),
            ("in/kind", "dog"),
            ("in/tags", r#"["good", "loud"]"#),
            ("in/owner/email", ""),
            ("input", "ignored in form mode"),
        ],
    )
    .await;
    assert_eq!(sent.status(), StatusCode::OK);
    let html = sent.text().await.unwrap();
    assert!(html.contains("HTTP 200"), "{html}");
    // The upstream received the typed object (the page shows its echo).
    for part in [
        "&#34;age&#34;: 3",
        "&#34;weight&#34;: 4.5",
        "&#34;indoor&#34;: false",
        "&#34;kind&#34;: &#34;dog&#34;",
        "&#34;good&#34;",
    ] {
        assert!(html.contains(part), "{part} missing in {html}");
    }
    let answer = &html[html.find(r#"id="try-body""#).unwrap()..];
    assert!(
        !answer[..answer.find("</pre>").unwrap()].contains("&#34;owner&#34;"),
        "empty optional objects are left out"
    );
    // The page keeps what was sent.
    assert!(html.contains(r#"name="in/name" value="Rex""#), "{html}");

    let list = get_text(&gw, "/integrations/zoo/actions/list", &s.cookie).await;
    assert!(
        list.contains(r#"id="paging""#) && list.contains(r#"name="fetchAll""#),
        "{list}"
    );
    let paged = "/integrations/zoo/actions/list/try";
    for (path, fields, expected) in [
        // A field of the wrong type is refused before anything is sent.
        (
            path,
            &[("mode", "form"), ("in/name", "Rex"), ("in/age", "old")][..],
            &["HTTP 400", "input/age: &#39;old&#39; is not an integer"][..],
        ),
        // A missing required field is the gateway's own input validation.
        (path, &[("mode", "form")], &["VALIDATION_ERROR"]),
        // The raw JSON toggle still works.
        (
            path,
            &[("mode", "json"), ("input", r#"{"name": "Tom", "age": 7}"#)],
            &["HTTP 200", "&#34;Tom&#34;"],
        ),
        // Pagination options for an action that pages.
        (
            paged,
            &[("mode", "form"), ("fetchAll", "true"), ("maxPages", "2")],
            &[
                "HTTP 200",
                "Pagination: 2 page(s), 20 item(s), stopped: max_pages",
            ],
        ),
        // maxPages without fetchAll is refused, as the API refuses it.
        (
            paged,
            &[("mode", "form"), ("maxPages", "2")],
            &["options.maxPages applies to options.fetchAll"],
        ),
    ] {
        let mut form = vec![("csrf", s.csrf.as_str())];
        form.extend_from_slice(fields);
        let html = post_text(&gw, path, &s.cookie, &form).await;
        for part in expected {
            assert!(html.contains(part), "{fields:?}: {part} missing in {html}");
        }
    }
}

/// A provider: `POST /token` answers fresh tokens and counts its requests.
async fn token_provider() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let token = move || {
        let counted = counted.clone();
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            axum::Json(
                json!({"access_token": "fresh-token", "token_type": "Bearer",
                              "expires_in": 3600, "refresh_token": "rt-2"}),
            )
        }
    };
    let url = crate::support::serve_upstream(
        axum::Router::new().route("/token", axum::routing::post(token)),
    )
    .await;
    (url, hits)
}

/// The value of `href="…"` that starts with `prefix`, unescaped.
fn href(html: &str, prefix: &str) -> String {
    let at = html
        .find(&format!("href=\"{prefix}"))
        .unwrap_or_else(|| panic!("no link to {prefix} in {html}"));
    let rest = &html[at + 6..];
    rest[..rest.find('"').unwrap()].replace("&#38;", "&")
}

#[tokio::test]
async fn connect_runs_the_code_flow_back_to_the_dashboard_and_refresh_renews_the_token() {
    use std::sync::atomic::Ordering;
    let (provider, hits) = token_provider().await;
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("oauth").await;
    gw.created(
        "/api/v1/integrations",
        &key,
        json!({"slug": "prov", "name": "Provider", "baseUrl": provider,
               "auth": {"type": "oauth2", "flows": ["authorization_code"],
                        "authorizationUrl": "https://provider.example/authorize",
                        "tokenUrl": format!("{provider}/token"), "scopes": ["read"]},
               "actions": [{"slug": "me", "method": "GET", "path": "/me"}]}),
    )
    .await;
    let s = sign_in(&gw, &key).await;

    let form = get(&gw, "/integrations/prov/connections/new", &s.cookie).await;
    let html = form.text().await.unwrap();
    assert!(
        html.contains(r#"action="/integrations/prov/connect""#),
        "{html}"
    );
    let empty = get(&gw, "/integrations/prov", &s.cookie).await;
    assert!(empty.text().await.unwrap().contains("Connect with OAuth"));

    // Connect: the REST connect handler's authorization URL, and the return cookie.
    let started = post(
        &gw,
        "/integrations/prov/connect",
        &s.cookie,
        &[
            ("csrf", &s.csrf),
            ("name", "default"),
            ("clientId", "cid"),
            ("clientSecret", "csecret"),
        ],
    )
    .await;
    assert_eq!(started.status(), StatusCode::OK);
    let (cookie, header) = set_cookie(&started, "waygate_oauth_return");
    for flag in [
        "HttpOnly",
        "SameSite=Lax",
        "Path=/oauth/callback",
        "Max-Age=600",
    ] {
        assert!(header.contains(flag), "{flag} missing in {header}");
    }
    let html = started.text().await.unwrap();
    let to = href(&html, "https://provider.example/authorize");
    let state = url::Url::parse(&to)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("a state");
    assert_eq!(cookie, format!("waygate_oauth_return={state}"));
    assert!(html.contains(r#"http-equiv="refresh""#), "{html}");
    assert!(!html.contains("csecret"), "the secret is not shown");

    // The provider's redirect, in the browser that started it: back to the dashboard.
    let back = browser()
        .get(format!("{}/oauth/callback?state={state}&code=c-1", gw.url))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), StatusCode::OK);
    let (cleared, _) = set_cookie(&back, "waygate_oauth_return");
    assert_eq!(cleared, "waygate_oauth_return=");
    let page = back.text().await.unwrap();
    assert!(
        page.contains(r#"content="0;url=/integrations/prov?done=authorized""#),
        "{page}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1, "the code was exchanged");

    let listed = get_text(&gw, "/integrations/prov?done=authorized", &s.cookie).await;
    assert!(listed.contains("Connection authorized."), "{listed}");
    assert!(listed.contains("oauth2_tokens"), "{listed}");
    assert!(
        listed.contains("<time datetime="),
        "the token's expiry: {listed}"
    );
    assert!(listed.contains("Refresh token"), "{listed}");

    // Refresh token: through the REST refresh handler, to the provider.
    let refreshed = post(
        &gw,
        "/integrations/prov/connections/default/refresh",
        &s.cookie,
        &[("csrf", &s.csrf)],
    )
    .await;
    assert_eq!(refreshed.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        refreshed.headers()[LOCATION],
        "/integrations/prov?done=refreshed"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 2, "the token was refreshed");
    let missing = post(
        &gw,
        "/integrations/prov/connections/nope/refresh",
        &s.cookie,
        &[("csrf", &s.csrf)],
    )
    .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // A flow started through the API (no cookie) is answered as before.
    let (_, api_started) = gw
        .call(
            Method::POST,
            "/api/v1/integrations/prov/connect",
            &key,
            Some(json!({"connection": "second", "clientId": "cid", "clientSecret": "cs"})),
        )
        .await;
    let page = browser()
        .get(format!(
            "{}/oauth/callback?state={}&code=c-2",
            gw.url,
            api_started["state"].as_str().unwrap()
        ))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("You can close this window"), "{page}");
    assert!(!page.contains("refresh"), "{page}");
}

#[tokio::test]
async fn the_wizards_test_step_calls_a_read_only_action_through_the_connection() {
    let upstream = echo_upstream().await;
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("tests").await;
    typed_integration(&gw, &key, &upstream).await;
    let s = sign_in(&gw, &key).await;

    // Saving the connection from the wizard goes on to the test step.
    let form = get(&gw, "/integrations/zoo/connections/new?wizard=1", &s.cookie).await;
    let html = form.text().await.unwrap();
    assert!(html.contains(r#"name="wizard" value="1""#), "{html}");
    let saved = post(
        &gw,
        "/integrations/zoo/connections",
        &s.cookie,
        &[
            ("csrf", &s.csrf),
            ("name", "main"),
            ("type", "none"),
            ("wizard", "1"),
        ],
    )
    .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let next = saved.headers()[LOCATION].to_str().unwrap().to_owned();
    assert_eq!(next, "/integrations/zoo/test?connection=main");

    let step = get_text(&gw, &next, &s.cookie).await;
    // Only the GET action is offered, chosen, with the connection chosen too.
    assert!(step.contains(r#"<option value="list" selected>"#), "{step}");
    assert!(!step.contains(r#"<option value="add""#), "{step}");
    assert!(step.contains(r#"<option value="main" selected>"#), "{step}");

    let ran = post_text(
        &gw,
        "/integrations/zoo/test",
        &s.cookie,
        &[
            ("csrf", &s.csrf),
            ("action", "list"),
            ("connection", "main"),
        ],
    )
    .await;
    assert!(
        ran.contains("HTTP 200") && ran.contains("&#34;records&#34;"),
        "{ran}"
    );
    let refused = post_text(
        &gw,
        "/integrations/zoo/test",
        &s.cookie,
        &[("csrf", &s.csrf), ("action", "add"), ("connection", "main")],
    )
    .await;
    assert!(refused.contains("HTTP 400"), "{refused}");
    assert!(
        refused.contains("the test calls only read-only actions"),
        "{refused}"
    );
    let (_, logs) = gw
        .call(Method::GET, "/api/v1/logs?integration=zoo", &key, None)
        .await;
    assert!(
        logs["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["action"] == "list"),
        "nothing but the read-only call was made: {logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_docs_url_scrapes_with_progress_and_its_draft_is_reviewed_and_stored() {
    let site = crate::support::opensearch_pages(&[
        "_api-reference/index-apis/close-index.md",
        "_api-reference/cat/cat-indices.md",
    ]);
    let server = crate::support::DocSite::start(&site.0);
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("docs").await;
    let s = sign_in(&gw, &key).await;

    let source = get_text(&gw, "/integrations/new", &s.cookie).await;
    assert!(source.contains("<title>New integration · Waygate</title>"));
    assert!(
        source.contains(r#"action="/integrations/new/scrape""#),
        "{source}"
    );
    let started = post(
        &gw,
        "/integrations/new/scrape",
        &s.cookie,
        &[
            ("csrf", &s.csrf),
            ("docs", &format!("{}/", server.1)),
            ("wishlist", ""),
        ],
    )
    .await;
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let job_page = started.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(
        job_page.starts_with("/integrations/new/scrape/"),
        "{job_page}"
    );
    let first = get_text(&gw, &job_page, &s.cookie).await;
    assert!(first.contains("<progress"), "{first}");

    // The partial htmx polls, until it sends the browser on to the review.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let review = loop {
        let partial = get(&gw, &format!("{job_page}/progress"), &s.cookie).await;
        assert_eq!(partial.status(), StatusCode::OK);
        let redirect = partial
            .headers()
            .get("hx-redirect")
            .map(|v| v.to_str().unwrap().to_owned());
        let html = partial.text().await.unwrap();
        assert!(html.contains(r#"id="scrape-bar""#), "{html}");
        if let Some(to) = redirect {
            assert!(html.contains("succeeded"), "{html}");
            assert!(!html.contains("hx-trigger"), "polling stops: {html}");
            break to;
        }
        assert!(!html.contains("failed"), "{html}");
        assert!(html.contains(r#"hx-trigger="every 1s""#), "{html}");
        assert!(std::time::Instant::now() < deadline, "the job did not end");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    };
    assert_eq!(review, format!("{job_page}/review"));

    let page = get_text(&gw, &review, &s.cookie).await;
    assert!(page.contains("confidence"), "{page}");
    let job = job_page.rsplit('/').next().unwrap();
    assert!(
        page.contains(&format!(r#"name="job" value="{job}""#)),
        "{page}"
    );
    let marker = r#"name="select" value=""#;
    let selects: Vec<String> = page
        .match_indices(marker)
        .map(|(i, _)| {
            let rest = &page[i + marker.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect();
    assert!(selects.len() >= 2, "{page}");

    let created = post(
        &gw,
        "/integrations/new/create",
        &s.cookie,
        &[
            ("csrf", &s.csrf),
            ("job", job),
            ("slug", "opensearch"),
            ("name", "OpenSearch"),
            ("baseUrl", "http://127.0.0.1:9200"),
            ("select", &selects[0]),
        ],
    )
    .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        created.headers()[LOCATION],
        "/integrations/opensearch/connections/new?wizard=1"
    );
    let (status, stored) = gw
        .call(Method::GET, "/api/v1/integrations/opensearch", &key, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    assert_eq!(stored["name"], "OpenSearch");
    assert_eq!(stored["actionCount"], 1, "{stored}");
}

/// The tenant's logged calls of `integration`, once `count` are written.
async fn logged(
    gw: &Gateway,
    key: &str,
    integration: &str,
    count: usize,
) -> Vec<serde_json::Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, logs) = gw
            .call(
                Method::GET,
                &format!("/api/v1/logs?integration={integration}"),
                key,
                None,
            )
            .await;
        let data = logs["data"].as_array().unwrap().clone();
        if data.len() >= count {
            return data;
        }
        assert!(std::time::Instant::now() < deadline, "{logs}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// `zoo.add` called with a valid input through the API; its answer.
async fn add_rex(gw: &Gateway, key: &str) -> serde_json::Value {
    let (status, ok) = gw
        .call(
            Method::POST,
            "/api/v1/actions/zoo/add",
            key,
            Some(json!({"input": {"name": "Rex"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ok}");
    ok
}

#[tokio::test]
async fn home_shows_the_last_call_and_each_call_has_a_detail_page() {
    let upstream = echo_upstream().await;
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("logs").await;
    typed_integration(&gw, &key, &upstream).await;
    let s = sign_in(&gw, &key).await;
    let home = get_text(&gw, "/", &s.cookie).await;
    assert!(home.contains("Last call: never"), "{home}");

    let ok = add_rex(&gw, &key).await;
    let (status, bad) = gw
        .call(
            Method::POST,
            "/api/v1/actions/zoo/add",
            &key,
            Some(json!({"input": {"age": 3}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    let entries = logged(&gw, &key, "zoo", 2).await;

    // Health: twelve hours of calls, these two in the last ones.
    let health = get_text(&gw, "/health", &s.cookie).await;
    assert!(health.contains(r#"<svg class="chart series""#), "{health}");
    let hours: Vec<&str> = health.split(r#"<g class="hour">"#).skip(1).collect();
    assert_eq!(hours.len(), 12, "{health}");
    let calls: u64 = hours
        .iter()
        .map(|h| {
            let after = &h[h.find("UTC: ").unwrap() + 5..];
            after[..after.find(' ').unwrap()].parse::<u64>().unwrap()
        })
        .sum();
    assert_eq!(calls, 2, "{health}");
    assert!(health.contains("(1 error), p95 "), "{health}");

    let home = get_text(&gw, "/", &s.cookie).await;
    assert!(home.contains("Last call: <time datetime="), "{home}");
    assert!(home.contains(">just now</time>"), "{home}");

    // The list links each call to its page.
    let list = get_text(&gw, "/logs", &s.cookie).await;
    let ok_id = ok["meta"]["requestId"].as_str().unwrap();
    assert!(list.contains(&format!(r#"href="/logs/{ok_id}""#)), "{list}");

    let detail = get(&gw, &format!("/logs/{ok_id}"), &s.cookie).await;
    assert_eq!(detail.status(), StatusCode::OK);
    let html = detail.text().await.unwrap();
    assert!(
        html.contains(r#"id="log-request""#) && html.contains("/pets"),
        "{html}"
    );
    assert!(
        html.contains(r#"id="log-response""#) && html.contains("Rex"),
        "{html}"
    );
    assert!(
        html.contains(r#"<strong id="log-attempts">1</strong>"#),
        "{html}"
    );
    assert!(!html.contains(r#"id="log-error""#), "{html}");

    let failed = entries
        .iter()
        .find(|e| e["errorCode"] == "VALIDATION_ERROR")
        .unwrap_or_else(|| panic!("{entries:?}"));
    assert!(
        failed["suggestedResolution"]["description"]
            .as_str()
            .unwrap()
            .starts_with("fix the fields"),
        "the API gives the resolution too: {failed}"
    );
    let id = failed["requestId"].as_str().unwrap();
    let html = get_text(&gw, &format!("/logs/{id}"), &s.cookie).await;
    assert!(
        html.contains(r#"id="log-error""#) && html.contains("VALIDATION_ERROR"),
        "{html}"
    );
    assert!(
        html.contains("fix the fields named in details.violations"),
        "{html}"
    );

    // Unknown ids, and another tenant's, are not found.
    assert_eq!(
        get(&gw, "/logs/no-such-request", &s.cookie).await.status(),
        StatusCode::NOT_FOUND
    );
    let (_, other) = gw.tenant("other").await;
    let o = sign_in(&gw, &other).await;
    assert_eq!(
        get(&gw, &format!("/logs/{ok_id}"), &o.cookie)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let (status, _) = gw
        .call(Method::GET, &format!("/api/v1/logs/{ok_id}"), &other, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Text as askama escapes it (`&#34;` `&#38;` `&#39;` `&#60;` `&#62;`), unescaped.
fn unescape(html: &str) -> String {
    html.replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#38;", "&")
}

/// The text inside `<pre id="{id}" …>…</pre>`, unescaped.
fn pre(html: &str, id: &str) -> String {
    let at = html
        .find(&format!(r#"<pre id="{id}""#))
        .unwrap_or_else(|| panic!("no pre #{id} in {html}"));
    let rest = &html[at..];
    let start = rest.find('>').unwrap() + 1;
    unescape(&rest[start..rest.find("</pre>").unwrap()])
}

#[tokio::test]
async fn the_agents_page_stays_small_and_loads_each_tool_export_on_demand() {
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("agents").await;
    let slack = crate::support::openapi_fixture_text("slack/slack_web_openapi_v2.json");
    gw.created(
        "/api/v1/integrations/import",
        &key,
        json!({"openapi": slack, "slug": "slack"}),
    )
    .await;
    let s = sign_in(&gw, &key).await;

    let page = get_text(&gw, "/integrations/slack/agents", &s.cookie).await;
    println!("the agents page of Slack weighs {} bytes", page.len());
    assert!(
        page.len() < 100 * 1024,
        "the agents page weighs {} bytes",
        page.len()
    );
    assert!(page.contains("/mcp?integrations=slack</pre>"), "{page}");
    assert!(!page.contains("chat_postMessage"), "no tool inline: {page}");

    for format in ["openai", "anthropic", "gemini", "mcp"] {
        let (status, rest) = gw
            .call(
                Method::GET,
                &format!("/api/v1/tools?format={format}&integrations=slack"),
                &key,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{rest}");
        let expected = &rest["tools"];
        assert_eq!(expected.as_array().unwrap().len(), 174, "{format}");
        let path = format!("/integrations/slack/agents/tools/{format}");
        assert!(page.contains(&format!(r#"hx-get="{path}""#)), "{page}");
        assert!(page.contains(&format!(r#"href="{path}""#)), "{page}");

        // Without htmx: the export as a JSON file, whole.
        let file = get(&gw, &path, &s.cookie).await;
        assert_eq!(file.status(), StatusCode::OK);
        assert_eq!(file.headers()["content-type"], "application/json");
        let disposition = file.headers()["content-disposition"].to_str().unwrap();
        assert_eq!(
            disposition,
            format!("attachment; filename=\"slack-{format}-tools.json\"")
        );
        let body: serde_json::Value = file.json().await.unwrap();
        assert_eq!(&body, expected, "{format}");

        // With htmx: the tab's fragment, the same JSON to read and copy.
        let fragment = browser()
            .get(format!("{}{path}", gw.url))
            .header(COOKIE, &s.cookie)
            .header("hx-request", "true")
            .send()
            .await
            .unwrap();
        assert_eq!(fragment.status(), StatusCode::OK);
        assert_eq!(fragment.headers()["vary"], "HX-Request");
        let fragment = fragment.text().await.unwrap();
        assert!(!fragment.contains("<html"), "a fragment, not a page");
        assert!(
            fragment.contains(&format!(r#"data-copy="tools-{format}""#)),
            "{fragment}"
        );
        let shown: serde_json::Value =
            serde_json::from_str(&pre(&fragment, &format!("tools-{format}"))).unwrap();
        assert_eq!(&shown, expected, "{format}");
    }

    // An unknown format, and another tenant's integration, are not found.
    let unknown = get(&gw, "/integrations/slack/agents/tools/xml", &s.cookie).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let (_, other) = gw.tenant("other").await;
    let o = sign_in(&gw, &other).await;
    let theirs = get(&gw, "/integrations/slack/agents/tools/openai", &o.cookie).await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    let theirs = get(&gw, "/integrations/slack/agents", &o.cookie).await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_calls_log_is_read_right_after_the_call() {
    let upstream = echo_upstream().await;
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("fresh").await;
    typed_integration(&gw, &key, &upstream).await;
    let s = sign_in(&gw, &key).await;
    let invoke = || async {
        add_rex(&gw, &key).await["meta"]["requestId"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // Each read comes at once after its call, while the sink's batch is open
    // (no sleep, no retry).
    for _ in 0..3 {
        let id = invoke().await;
        let (status, log) = gw
            .call(Method::GET, &format!("/api/v1/logs/{id}"), &key, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{log}");
        assert_eq!(log["requestId"], id.as_str());
        assert_eq!(log["action"], "add");

        let id = invoke().await;
        let page = get(&gw, &format!("/logs/{id}"), &s.cookie).await;
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.text().await.unwrap().contains(&id));
    }
    // An id nobody logged is still not found.
    let (status, _) = gw
        .call(Method::GET, "/api/v1/logs/no-such-request", &key, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn try_its_input_is_carried_between_the_form_and_the_json() {
    let upstream = echo_upstream().await;
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("carry").await;
    typed_integration(&gw, &key, &upstream).await;
    let s = sign_in(&gw, &key).await;
    let page = get_text(&gw, "/integrations/zoo/actions/add", &s.cookie).await;
    let path = "/integrations/zoo/actions/add/input";
    assert!(
        page.contains(&format!(r#"data-convert="{path}""#)),
        "{page}"
    );
    let convert = |form: Vec<(&'static str, String)>| {
        let gw = &gw;
        let cookie = s.cookie.clone();
        let csrf = s.csrf.clone();
        async move {
            let mut all = vec![("csrf", csrf)];
            all.extend(form);
            let answer = browser()
                .post(format!("{}{path}", gw.url))
                .header(COOKIE, cookie)
                .form(&all)
                .send()
                .await
                .unwrap();
            let status = answer.status();
            (status, answer.json::<serde_json::Value>().await.unwrap())
        }
    };

    // Form → JSON: the object the form would send, typed by the schema.
    let (status, answer) = convert(vec![
        ("to", "json".into()),
        ("mode", "json".into()),
        ("in/name", "Rex".into()),
        ("in/age", "3".into()),
        ("in/indoor", "true".into()),
        ("in/tags", r#"["a"]"#.into()),
        ("in/owner/email", "".into()),
        ("input", "{}".into()),
    ])
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let input: serde_json::Value = serde_json::from_str(answer["input"].as_str().unwrap()).unwrap();
    assert_eq!(
        input,
        json!({"name": "Rex", "age": 3, "indoor": true, "tags": ["a"]})
    );
    // A field that is not of its type stays in the form, with the reason.
    let (status, answer) = convert(vec![("to", "json".into()), ("in/age", "old".into())]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer["error"]["message"],
        "input/age: 'old' is not an integer"
    );

    // JSON → form: the fields that show it.
    let (status, answer) = convert(vec![
        ("to", "form".into()),
        (
            "input",
            r#"{"name": "Tom", "weight": 4.5, "kind": "cat", "owner": {"email": "t@x"}}"#.into(),
        ),
    ])
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["fields"],
        json!({"in/name": "Tom", "in/weight": "4.5", "in/kind": "cat", "in/owner/email": "t@x"})
    );
    // JSON the form cannot show keeps its mode, with the reason.
    for (input, said) in [
        (
            r#"{"name": "Tom", "colour": "red"}"#,
            "input/colour: the form has no such field",
        ),
        (
            r#"{"age": "three"}"#,
            r#"input/age: "three" is not an integer"#,
        ),
        ("{", "input: not JSON"),
    ] {
        let (status, answer) = convert(vec![("to", "form".into()), ("input", input.into())]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{input}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(said), "{input}: {message}");
    }
    let (status, _) = convert(vec![("to", "yaml".into())]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Like every form, it needs the session's CSRF token.
    let forged = post(&gw, path, &s.cookie, &[("to", "json")]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
}

/// A server of the Petstore-expanded description that counts its requests.
async fn counted_spec() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let text =
        crate::support::openapi_fixture_text("oai-examples/examples/v3.0/petstore-expanded.yaml");
    let counter = count.clone();
    let url = crate::support::serve_upstream(axum::Router::new().route(
        "/spec.yaml",
        axum::routing::get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let text = text.clone();
            async move { text }
        }),
    ))
    .await;
    (format!("{url}/spec.yaml"), count)
}

#[tokio::test]
async fn the_wizard_fetches_a_url_once_per_flow_and_per_session() {
    use std::sync::atomic::Ordering;
    let (spec, fetches) = counted_spec().await;
    let gw = Gateway::start(&[("WAYGATE_ALLOW_PRIVATE_NETWORKS", "1")]);
    let (_, key) = gw.tenant("wizard").await;
    let s = sign_in(&gw, &key).await;

    let review = post(
        &gw,
        "/integrations/new/review",
        &s.cookie,
        &[("csrf", &s.csrf), ("url", &spec)],
    )
    .await;
    assert_eq!(review.status(), StatusCode::OK);
    let html = review.text().await.unwrap();
    assert!(html.contains(r#"value="findPets""#), "{html}");
    assert_eq!(fetches.load(Ordering::SeqCst), 1);

    // A failed save shows the review again, and the save itself: no fetch.
    let form = |select: &'static [&'static str]| {
        let mut form = vec![
            ("csrf", s.csrf.clone()),
            ("url", spec.clone()),
            ("slug", "pets".to_owned()),
            ("name", "Pets".to_owned()),
        ];
        form.extend(select.iter().map(|a| ("select", (*a).to_owned())));
        form
    };
    let refused = browser()
        .post(format!("{}/integrations/new/create", gw.url))
        .header(COOKIE, &s.cookie)
        .form(&form(&[]))
        .send()
        .await
        .unwrap();
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Select at least one action.")
    );
    let created = browser()
        .post(format!("{}/integrations/new/create", gw.url))
        .header(COOKIE, &s.cookie)
        .form(&form(&["findPets", "addPet"]))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        1,
        "create reuses the review's copy"
    );
    let (status, stored) = gw
        .call(Method::GET, "/api/v1/integrations/pets", &key, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    assert_eq!(stored["actionCount"], 2, "{stored}");

    // Detecting again starts a new flow: the URL is fetched anew.
    let again = post(
        &gw,
        "/integrations/new/review",
        &s.cookie,
        &[("csrf", &s.csrf), ("url", &spec)],
    )
    .await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(fetches.load(Ordering::SeqCst), 2);

    // Another tenant's session never gets this session's copy.
    let (_, other) = gw.tenant("other").await;
    let o = sign_in(&gw, &other).await;
    let theirs = browser()
        .post(format!("{}/integrations/new/create", gw.url))
        .header(COOKIE, &o.cookie)
        .form(&[
            ("csrf", o.csrf.as_str()),
            ("url", spec.as_str()),
            ("slug", "pets"),
            ("select", "findPets"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        3,
        "fetched for its own flow"
    );
}
