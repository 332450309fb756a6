//! `body = "json" | "form" | "multipart"` and `idempotent`.

use schemars::JsonSchema;
use serde::Serialize;
use waygate_core::Action;
use waygate_core::model::BodyEncoding;

#[derive(Serialize, JsonSchema, Action)]
#[action(
    integration = "files",
    name = "create",
    method = "POST",
    path = "/items",
    body = "json"
)]
struct Json {
    name: String,
}

#[derive(Serialize, JsonSchema, Action)]
#[action(
    integration = "files",
    name = "token",
    method = "post",
    path = "/oauth/token",
    body = "form",
    idempotent = false
)]
struct Form {
    grant_type: String,
}

#[derive(Serialize, JsonSchema, Action)]
#[action(
    integration = "files",
    name = "upload",
    method = "Put",
    path = "/files/{id}",
    body = "multipart",
    idempotent = true
)]
struct Multipart {
    #[action(path)]
    id: u64,
    file: serde_json::Value,
}

fn main() {
    assert_eq!(
        Json::definition().body.unwrap().encoding,
        BodyEncoding::Json
    );
    let form = Form::definition();
    assert_eq!(form.body.unwrap().encoding, BodyEncoding::Form);
    assert_eq!(form.idempotent, Some(false));
    let multipart = Multipart::definition();
    assert_eq!(multipart.method, "PUT");
    assert_eq!(multipart.body.unwrap().encoding, BodyEncoding::Multipart);
    assert_eq!(multipart.idempotent, Some(true));
}
