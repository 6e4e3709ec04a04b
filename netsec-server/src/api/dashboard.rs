//! The dashboard's files ([`netsec_core::report::DASHBOARD`], compiled in; built from
//! `dashboard/` with `npm ci && npm run build`), served with an ETag (a SHA-256 prefix of the
//! content) so a browser revalidates instead of downloading again; gzip comes from the
//! router's compression layer.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use netsec_core::report::DASHBOARD;
use sha2::{Digest, Sha256};

use super::error::ApiError;

/// A served file: its bytes, content type and ETag.
struct File {
    body: &'static str,
    kind: &'static str,
    etag: HeaderValue,
}

fn file(body: &'static str, kind: &'static str) -> File {
    let digest = Sha256::digest(body.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    File {
        body,
        kind,
        etag: HeaderValue::from_str(&format!("\"{hex}\""))
            .unwrap_or(HeaderValue::from_static("\"0\"")),
    }
}

fn files() -> &'static [(&'static str, File); 3] {
    static FILES: OnceLock<[(&'static str, File); 3]> = OnceLock::new();
    FILES.get_or_init(|| {
        [
            (
                "index.html",
                file(DASHBOARD.index_html, "text/html; charset=utf-8"),
            ),
            (
                "app.js",
                file(DASHBOARD.app_js, "text/javascript; charset=utf-8"),
            ),
            (
                "app.css",
                file(DASHBOARD.app_css, "text/css; charset=utf-8"),
            ),
        ]
    })
}

fn serve(name: &str, headers: &HeaderMap) -> Response {
    let Some((_, f)) = files().iter().find(|(n, _)| *n == name) else {
        return ApiError::not_found(format!("asset {name}")).into_response();
    };
    let cache = HeaderValue::from_static("no-cache");
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().as_bytes() == f.etag.as_bytes())
        });
    if fresh {
        return (
            StatusCode::NOT_MODIFIED,
            [
                (header::ETAG, f.etag.clone()),
                (header::CACHE_CONTROL, cache),
            ],
        )
            .into_response();
    }
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(f.kind)),
            (header::ETAG, f.etag.clone()),
            (header::CACHE_CONTROL, cache),
        ],
        f.body,
    )
        .into_response()
}

/// `GET /`: the dashboard page.
pub async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

/// `GET /assets/{name}`: its script and style sheet.
pub async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    serve(&name, &headers)
}
