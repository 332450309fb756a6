//! The new-integration wizard: a document (pasted, uploaded into the field,
//! or a URL) → the detected actions to review (grouped, wishlist matches
//! first, select/deselect), name, base URL and suggested tags → stored by the
//! REST import handler → the connection form for the detected auth type.
//!
//! Review imports the document without storing it (`import_document`, the
//! import handler's own first half); create imports it again with the
//! reviewed choices and stores it as the import handler does
//! (`store_imported`), so both paths apply the same checks. A URL's
//! documents are fetched once, at review ([`super::wizard_fetch`]). A scrape
//! job's draft ([`super::wizard_scrape`]) is reviewed on the same page and
//! stored by the scrape apply handler.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};

use super::integration::auth_type;
use super::page::{Chrome, PageResult, tag_colour};
use super::session::Session;
use crate::api::auth::Tenant;
use crate::api::error::ApiError;
use crate::api::integrations::{self, Imported, UpdateIntegration};
use crate::api::scrape::{self, ApplyRequest};
use crate::app::AppState;

/// The wizard's fields, as the forms send them (`select` and `tag` repeat).
#[derive(Debug, Default, Clone)]
pub struct WizardForm {
    document: String,
    url: String,
    /// A documentation URL to scrape (not a spec).
    pub docs: String,
    /// The scrape job whose draft is reviewed.
    job: String,
    wishlist: String,
    slug: String,
    name: String,
    base_url: String,
    select: Vec<String>,
    tags: Vec<String>,
}

impl WizardForm {
    /// Reads a urlencoded form body.
    pub fn parse(body: &[u8]) -> Self {
        let mut form = Self::default();
        for (key, value) in url::form_urlencoded::parse(body) {
            let value = value.into_owned();
            match key.as_ref() {
                "document" => form.document = value,
                "url" => form.url = value.trim().to_owned(),
                "docs" => form.docs = value.trim().to_owned(),
                "job" => form.job = value.trim().to_owned(),
                "wishlist" => form.wishlist = value,
                "slug" => form.slug = value.trim().to_owned(),
                "name" => form.name = value.trim().to_owned(),
                "baseUrl" => form.base_url = value.trim().to_owned(),
                "select" => form.select.push(value),
                "tag" => form.tags.push(value),
                _ => {}
            }
        }
        form
    }

    /// The wishlist's phrases.
    pub fn wishes(&self) -> Vec<String> {
        self.wishlist
            .split([',', '\n'])
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The body of `POST /integrations/import` for this form; `select` only
    /// when the review chose.
    fn import_request(&self, select: Option<&[String]>) -> Value {
        let mut body = json!({ "wishlist": self.wishes() });
        if self.url.is_empty() {
            body["openapi"] = Value::String(self.document.clone());
        } else {
            body["url"] = Value::String(self.url.clone());
        }
        for (key, value) in [
            ("slug", &self.slug),
            ("name", &self.name),
            ("baseUrl", &self.base_url),
        ] {
            if !value.is_empty() {
                body[key] = Value::String(value.clone());
            }
        }
        if let Some(select) = select {
            body["select"] = json!(select);
        }
        body
    }
}

/// Step 1: the document.
#[derive(Template, WebTemplate)]
#[template(path = "wizard_source.html")]
pub struct SourcePage {
    chrome: Chrome,
    form: WizardForm,
    error: Option<String>,
}

impl SourcePage {
    /// The step with `form` filled in and why it was refused.
    pub fn new(session: &Session, form: WizardForm, error: Option<String>) -> Self {
        Self {
            chrome: session.chrome("integrations"),
            form,
            error,
        }
    }
}

/// `GET /integrations/new`.
pub async fn source(session: Session) -> SourcePage {
    SourcePage::new(&session, WizardForm::default(), None)
}

/// An action offered for review.
pub struct Offered {
    slug: String,
    name: String,
    method: String,
    path: String,
    wished: bool,
    /// Ticked: every action at first, the chosen ones after a failed save.
    checked: bool,
    confidence: Option<String>,
}

/// A group of offered actions.
pub struct Group {
    name: String,
    actions: Vec<Offered>,
}

/// Step 2: review.
#[derive(Template, WebTemplate)]
#[template(path = "wizard_review.html")]
pub struct ReviewPage {
    chrome: Chrome,
    form: WizardForm,
    auth_type: String,
    action_count: usize,
    groups: Vec<Group>,
    warnings: Vec<String>,
    tags: Vec<(String, u8)>,
    error: Option<String>,
}

/// Groups in the order their first action comes (wishlist matches lead).
fn groups(def: &waygate_core::IntegrationDef, chosen: &[String]) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for a in &def.actions {
        let name = a.group.clone().unwrap_or_else(|| "other".to_owned());
        let offered = Offered {
            slug: a.slug.clone(),
            name: a.name.clone().unwrap_or_else(|| a.slug.clone()),
            method: a.method.clone(),
            path: a.path.clone(),
            wished: a.metadata.get("wished") == Some(&Value::Bool(true)),
            checked: chosen.is_empty() || chosen.contains(&a.slug),
            confidence: a
                .metadata
                .get("confidence")
                .and_then(Value::as_f64)
                .map(|c| format!("{:.0}%", c * 100.0)),
        };
        match groups.iter_mut().find(|g| g.name == name) {
            Some(g) => g.actions.push(offered),
            None => groups.push(Group {
                name,
                actions: vec![offered],
            }),
        }
    }
    groups
}

/// Imports the form's document without storing it and shows it for review.
async fn review_page(
    app: &AppState,
    session: &Session,
    mut form: WizardForm,
    error: Option<String>,
) -> PageResult<Response> {
    let imported = if form.job.is_empty() {
        import(app, session, &form, None).await
    } else {
        scrape::draft(app, &session.tenant, &form.job).await
    };
    let Imported {
        def,
        warnings,
        suggested_tags,
    } = match imported {
        Ok(imported) => imported,
        Err(e) => {
            let status = e.status();
            let page = SourcePage::new(session, form, Some(e.message().to_owned()));
            return Ok((status, page).into_response());
        }
    };
    if form.slug.is_empty() {
        form.slug.clone_from(&def.slug);
    }
    if form.name.is_empty() {
        form.name.clone_from(&def.name);
    }
    if form.base_url.is_empty() {
        form.base_url = def.base_url.clone().unwrap_or_default();
    }
    let chosen = std::mem::take(&mut form.select);
    Ok(ReviewPage {
        chrome: session.chrome("integrations"),
        auth_type: auth_type(&serde_json::to_value(&def.auth).unwrap_or(Value::Null)),
        action_count: def.actions.len(),
        groups: groups(&def, &chosen),
        tags: suggested_tags
            .into_iter()
            .map(|t| {
                let c = tag_colour(&t);
                (t, c)
            })
            .collect(),
        warnings,
        form,
        error,
    }
    .into_response())
}

/// `POST /integrations/new/review`.
pub async fn review(
    State(app): State<AppState>,
    session: Session,
    body: Bytes,
) -> PageResult<Response> {
    let form = WizardForm::parse(&body);
    if form.document.trim().is_empty() && form.url.is_empty() {
        let page = SourcePage::new(
            &session,
            form,
            Some("Paste or upload a document, or give its URL.".to_owned()),
        );
        return Ok((axum::http::StatusCode::BAD_REQUEST, page).into_response());
    }
    // Detecting starts a flow: the URL is fetched anew (it may have changed
    // since an earlier try); the flow's later steps reuse this copy.
    app.wizard_documents.forget(&session, &form.url);
    review_page(&app, &session, form, None).await
}

/// `GET /integrations/new/scrape/{job}/review`: a scrape job's draft.
pub async fn review_draft(
    State(app): State<AppState>,
    session: Session,
    Path(job): Path<String>,
) -> PageResult<Response> {
    let form = WizardForm {
        job,
        ..WizardForm::default()
    };
    review_page(&app, &session, form, None).await
}

/// `POST /integrations/new/create`: stores the reviewed integration through
/// the import handler, sets the chosen tags, and goes on to its connection.
pub async fn create(
    State(app): State<AppState>,
    session: Session,
    body: Bytes,
) -> PageResult<Response> {
    let form = WizardForm::parse(&body);
    match store(&app, &session, &form).await {
        Ok(slug) => Ok(
            Redirect::to(&format!("/integrations/{slug}/connections/new?wizard=1")).into_response(),
        ),
        Err(e) => review_page(&app, &session, form, Some(e.message().to_owned())).await,
    }
}

/// Imports the form's document as `POST /integrations/import` would (the
/// handler's own first half); a URL's documents are fetched once per flow,
/// at review, and imported again from that copy ([`super::wizard_fetch`]).
async fn import(
    app: &AppState,
    session: &Session,
    form: &WizardForm,
    select: Option<&[String]>,
) -> Result<Imported, ApiError> {
    let body = Bytes::from(form.import_request(select).to_string());
    if form.url.is_empty() {
        return integrations::import_document(app, body).await;
    }
    let fetched = app.wizard_documents.get(app, session, &form.url);
    let imported = integrations::import_document_keeping(app, body, Some(fetched.clone())).await;
    app.wizard_documents.keep(app, session, &form.url, fetched);
    imported
}

async fn store(app: &AppState, session: &Session, form: &WizardForm) -> Result<String, ApiError> {
    if form.select.is_empty() {
        return Err(ApiError::bad_request("Select at least one action."));
    }
    if !form.job.is_empty() {
        return store_draft(app, session, form).await;
    }
    let Imported {
        def,
        warnings,
        suggested_tags,
    } = import(app, session, form, Some(&form.select)).await?;
    let (_, Json(created)) =
        integrations::store_imported(app, &session.tenant, def, warnings, suggested_tags).await?;
    app.wizard_documents.forget(session, &form.url);
    let slug = created.integration.summary.slug;
    if !form.tags.is_empty() {
        integrations::update(
            State(app.clone()),
            Tenant(session.tenant.clone()),
            Path(slug.clone()),
            Json(UpdateIntegration {
                name: None,
                description: None,
                base_url: None,
                tags: Some(form.tags.clone()),
                status: None,
                defaults: None,
            }),
        )
        .await
        .map(drop)?;
    }
    Ok(slug)
}

/// Stores a scrape job's reviewed draft through the apply handler, with the
/// chosen name, base URL and tags as its overrides.
async fn store_draft(
    app: &AppState,
    session: &Session,
    form: &WizardForm,
) -> Result<String, ApiError> {
    let mut overrides = serde_json::Map::new();
    for (key, value) in [("name", &form.name), ("baseUrl", &form.base_url)] {
        if !value.is_empty() {
            overrides.insert(key.to_owned(), Value::String(value.clone()));
        }
    }
    if !form.tags.is_empty() {
        overrides.insert("tags".to_owned(), json!(form.tags));
    }
    let (_, Json(created)) = scrape::apply(
        State(app.clone()),
        Tenant(session.tenant.clone()),
        Path(form.job.clone()),
        Json(ApplyRequest {
            slug: form.slug.clone(),
            select: Some(form.select.clone()),
            overrides: Some(overrides),
        }),
    )
    .await?;
    Ok(created.integration.summary.slug)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_fields_are_kept_and_the_url_wins_over_an_empty_document() {
        let form = WizardForm::parse(
            b"url=http%3A%2F%2Fx%2Fspec.json&select=a&select=b&tag=x&wishlist=list+pets%2C+add&slug=pets",
        );
        assert_eq!(form.select, ["a", "b"]);
        assert_eq!(form.tags, ["x"]);
        let body = form.import_request(Some(&form.select));
        assert_eq!(body["url"], "http://x/spec.json");
        assert!(body.get("openapi").is_none());
        assert_eq!(body["wishlist"], json!(["list pets", "add"]));
        assert_eq!(body["select"], json!(["a", "b"]));
        assert_eq!(body["slug"], "pets");
        assert!(body.get("name").is_none());
    }
}
