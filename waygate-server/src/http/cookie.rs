//! Reading a cookie from a request's headers (the dashboard's session and the
//! OAuth callback's return cookie).

use axum::http::{HeaderMap, header};

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; waygate_session_x=2; waygate_session=3"),
        );
        assert_eq!(cookie(&headers, "waygate_session"), Some("3"));
        assert_eq!(cookie(&headers, "b"), None);
    }
}
