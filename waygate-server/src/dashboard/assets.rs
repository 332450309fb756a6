//! The dashboard's static files, embedded in the binary: no build step, no
//! CDN. Fonts are the Latin subsets of the `@fontsource` packages (OFL),
//! htmx is copied from its npm package (`assets/vendor/`).

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Name, content type and bytes of each asset.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/app.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../assets/favicon.svg"),
    ),
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/vendor/htmx-2.0.11.min.js"),
    ),
    (
        "inter-400.woff2",
        "font/woff2",
        include_bytes!("../../assets/fonts/inter-latin-400-normal.woff2"),
    ),
    (
        "inter-600.woff2",
        "font/woff2",
        include_bytes!("../../assets/fonts/inter-latin-600-normal.woff2"),
    ),
    (
        "crimson-pro-600.woff2",
        "font/woff2",
        include_bytes!("../../assets/fonts/crimson-pro-latin-600-normal.woff2"),
    ),
    (
        "jetbrains-mono-400.woff2",
        "font/woff2",
        include_bytes!("../../assets/fonts/jetbrains-mono-latin-400-normal.woff2"),
    ),
];

/// `GET /assets/{file}`. Pages link assets with the crate version in the
/// query, so a browser may keep them for a day without serving stale ones
/// after an upgrade.
pub async fn serve(Path(file): Path<String>) -> Response {
    let Some((_, content_type, bytes)) = ASSETS.iter().find(|(name, _, _)| *name == file) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let mut response = (*bytes).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_unique_name_and_content() {
        for (i, (name, _, bytes)) in ASSETS.iter().enumerate() {
            assert!(!bytes.is_empty(), "{name}");
            assert!(ASSETS[i + 1..].iter().all(|(n, _, _)| n != name), "{name}");
        }
    }
}
