//! Redirects: which answers are followed, where to, and what of the request
//! survives the hop (RFC 9110 §15.4). Every hop is checked by the URL policy
//! before it is taken, by the caller.

use http::header::{AUTHORIZATION, COOKIE, HeaderMap, LOCATION, PROXY_AUTHORIZATION};
use http::{Method, StatusCode};
use url::Url;

/// The next hop of a redirect.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Hop {
    /// Where to.
    pub(super) url: Url,
    /// Whether the request becomes a `GET` without a body (303, and 301/302 after a `POST`).
    pub(super) as_get: bool,
}

/// The hop a response asks for; `None` when it is no redirect, or one without
/// a usable `Location` (the response is then the answer).
pub(super) fn next(
    status: StatusCode,
    headers: &HeaderMap,
    from: &Url,
    method: &Method,
) -> Option<Hop> {
    let as_get = match status.as_u16() {
        301 | 302 => *method == Method::POST,
        303 => *method != Method::HEAD,
        307 | 308 => false,
        _ => return None,
    };
    let location = headers.get(LOCATION)?.to_str().ok()?;
    let url = from.join(location).ok()?;
    Some(Hop { url, as_get })
}

/// Drops what must not follow a request to another origin: the standard
/// credential headers and every header the authorize step marked sensitive
/// (an API key in a custom header).
pub(in crate::pipeline) fn strip_for_other_origin(from: &Url, to: &Url, headers: &mut HeaderMap) {
    if from.origin() == to.origin() {
        return;
    }
    for name in [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION] {
        headers.remove(name);
    }
    let sensitive: Vec<_> = headers
        .iter()
        .filter(|(_, v)| v.is_sensitive())
        .map(|(n, _)| n.clone())
        .collect();
    for name in sensitive {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn location(to: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(LOCATION, HeaderValue::from_str(to).unwrap());
        h
    }

    #[test]
    fn methods_change_only_where_the_status_says_so() {
        let from = Url::parse("https://a.example/x/y").unwrap();
        let hop = |status: u16, method: Method| {
            next(
                StatusCode::from_u16(status).unwrap(),
                &location("../z?q=1"),
                &from,
                &method,
            )
            .map(|h| h.as_get)
        };
        assert_eq!(hop(301, Method::POST), Some(true));
        assert_eq!(hop(302, Method::GET), Some(false));
        assert_eq!(hop(302, Method::PUT), Some(false));
        assert_eq!(hop(303, Method::PUT), Some(true));
        assert_eq!(hop(303, Method::HEAD), Some(false));
        assert_eq!(hop(307, Method::POST), Some(false));
        assert_eq!(hop(308, Method::DELETE), Some(false));
        assert_eq!(hop(200, Method::GET), None);
        assert_eq!(hop(304, Method::GET), None);
        let url = next(
            StatusCode::FOUND,
            &location("../z?q=1"),
            &from,
            &Method::GET,
        )
        .unwrap()
        .url;
        assert_eq!(url.as_str(), "https://a.example/z?q=1");
    }

    #[test]
    fn a_redirect_without_a_usable_location_is_the_answer() {
        let from = Url::parse("https://a.example/").unwrap();
        assert_eq!(
            next(StatusCode::FOUND, &HeaderMap::new(), &from, &Method::GET),
            None
        );
        assert_eq!(
            next(
                StatusCode::FOUND,
                &location("http://[::1"),
                &from,
                &Method::GET
            ),
            None
        );
    }

    #[test]
    fn credentials_do_not_follow_to_another_origin() {
        let from = Url::parse("https://a.example/").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer s"));
        let mut key = HeaderValue::from_static("k");
        key.set_sensitive(true);
        headers.insert("x-api-key", key);
        headers.insert("x-trace", HeaderValue::from_static("t"));

        let mut same = headers.clone();
        strip_for_other_origin(
            &from,
            &Url::parse("https://a.example/other").unwrap(),
            &mut same,
        );
        assert_eq!(same.len(), 3);

        for other in [
            "https://b.example/",
            "http://a.example/",
            "https://a.example:8443/",
        ] {
            let mut h = headers.clone();
            strip_for_other_origin(&from, &Url::parse(other).unwrap(), &mut h);
            assert_eq!(h.keys().collect::<Vec<_>>(), ["x-trace"], "{other}");
        }
    }
}
