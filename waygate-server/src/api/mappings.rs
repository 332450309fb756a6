//! An action's field mappings: `GET / PUT
//! /integrations/{idOrSlug}/actions/{action}/mappings`. Without `?connection=`
//! they are the definition's (a new revision of the integration); with it, that
//! connection's own, which replace the definition's for its calls (decision 66).

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use waygate_core::model::{self, Mappings};

use super::auth::Tenant;
use super::error::{ApiError, ApiResult, store_error};
use super::integrations::{checked, definition, find, store};
use crate::app::AppState;

/// Query of the mappings routes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MappingsQuery {
    /// A connection's name: its own mappings instead of the definition's.
    pub connection: Option<String>,
}

/// Field mappings of one action, each direction applied in order.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MappingsBody {
    /// Applied to the caller's input before input validation: each
    /// `{from, to?, transform?, default?}` with JSON pointers (`*` for every
    /// array element); transforms `string`, `number`, `boolean`, `wrap`,
    /// `omit`, `{"date": "%Y-%m-%d" | "rfc3339" | "unix"}`.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub input: Vec<model::FieldMapping>,
    /// Applied to the response data after response validation.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub output: Vec<model::FieldMapping>,
}

/// The mappings a call of the action uses.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MappingsView {
    /// The action's slug.
    pub action: String,
    /// The connection asked about, if one was.
    pub connection: Option<String>,
    /// `definition`, or `connection` when the connection has its own.
    pub source: String,
    /// Input mappings.
    #[schema(value_type = Vec<Object>)]
    pub input: Vec<model::FieldMapping>,
    /// Output mappings.
    #[schema(value_type = Vec<Object>)]
    pub output: Vec<model::FieldMapping>,
}

impl MappingsView {
    fn new(action: &str, connection: Option<String>, own: bool, m: Mappings) -> Self {
        Self {
            action: action.to_owned(),
            connection,
            source: if own { "connection" } else { "definition" }.to_owned(),
            input: m.input,
            output: m.output,
        }
    }
}

/// The action's field mappings: the definition's, or those a connection uses.
#[utoipa::path(
    get,
    operation_id = "getActionMappings", path = "/integrations/{idOrSlug}/actions/{action}/mappings",
    tag = "integrations",
    params(("idOrSlug" = String, Path, description = "Integration id or slug"),
        ("action" = String, Path, description = "Action slug"), MappingsQuery),
    responses((status = 200, body = MappingsView), (status = 404, body = super::ErrorBody)))]
pub async fn get(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Path((id, action)): Path<(String, String)>,
    Query(query): Query<MappingsQuery>,
) -> ApiResult<Json<MappingsView>> {
    let slug = find(&app, &tenant, &id).await?.slug;
    let def = definition(&app, &tenant, &slug).await?;
    let action_def = def
        .action(&action)
        .ok_or_else(|| ApiError::not_found(format!("action '{slug}.{action}'")))?;
    let Some(name) = query.connection else {
        return Ok(Json(MappingsView::new(
            &action,
            None,
            false,
            action_def.mappings.clone(),
        )));
    };
    let own = app
        .store
        .load_connection(&tenant, &slug, &name)
        .await
        .map_err(|e| store_error("reading the connection", &e))?
        .ok_or_else(|| ApiError::not_found(format!("connection '{name}' of integration '{slug}'")))?
        .mappings
        .remove(&action);
    let is_own = own.is_some();
    let effective = own.unwrap_or_else(|| action_def.mappings.clone());
    Ok(Json(MappingsView::new(
        &action,
        Some(name),
        is_own,
        effective,
    )))
}

/// Replace the action's field mappings: the definition's (a new revision), or
/// a connection's own with `?connection=`. Each mapping is checked; a problem
/// is named by its field (`input[0].to`).
#[utoipa::path(
    put,
    operation_id = "putActionMappings", path = "/integrations/{idOrSlug}/actions/{action}/mappings",
    tag = "integrations",
    params(("idOrSlug" = String, Path, description = "Integration id or slug"),
        ("action" = String, Path, description = "Action slug"), MappingsQuery),
    request_body = MappingsBody,
    responses((status = 200, body = MappingsView), (status = 400, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody)))]
pub async fn put(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Path((id, action)): Path<(String, String)>,
    Query(query): Query<MappingsQuery>,
    Json(body): Json<MappingsBody>,
) -> ApiResult<Json<MappingsView>> {
    let slug = find(&app, &tenant, &id).await?.slug;
    let mut def = (*definition(&app, &tenant, &slug).await?).clone();
    let mappings = Mappings {
        input: body.input,
        output: body.output,
    };
    model::check_mappings(&mappings).map_err(|e| ApiError::from(waygate_core::Error::from(e)))?;
    let Some(action_def) = def.actions.iter_mut().find(|a| a.slug == action) else {
        return Err(ApiError::not_found(format!("action '{slug}.{action}'")));
    };
    match query.connection {
        None => {
            action_def.mappings = mappings.clone();
            let def = app.cpu.run(move || checked(def)).await??;
            // Through the resolve cache: the new revision is seen at once.
            store(&app, &tenant, def).await?;
            Ok(Json(MappingsView::new(&action, None, false, mappings)))
        }
        Some(name) => {
            app.writes()
                .put_connection_mappings(&tenant, &slug, &name, &action, &mappings)
                .await
                .map_err(|e| store_error("storing the mappings", &e))?;
            Ok(Json(MappingsView::new(&action, Some(name), true, mappings)))
        }
    }
}
