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
