//! Query-string and body parsing with errors that name the field: every bad value is a 400
//! saying which parameter and why, never a panic or a silent default.

use std::collections::HashMap;
use std::net::IpAddr;

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use netsec_core::detect::{AlertStatus, Severity};
use netsec_core::time::Timestamp;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::storage::MAX_LIMIT;

/// The query string as name → value, refusing repeated or unknown names.
#[derive(Debug, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Parses `raw` and checks every name is one of `known`.
    ///
    /// # Errors
    /// A 400 naming an unknown or repeated parameter, or a malformed query string.
    pub fn parse(raw: Option<&str>, known: &[&str]) -> Result<Params, ApiError> {
        let mut map = HashMap::new();
        let pairs: Vec<(String, String)> = serde_urlencoded_pairs(raw.unwrap_or(""))?;
        for (k, v) in pairs {
            if !known.contains(&k.as_str()) {
                return Err(ApiError::field(
                    &k,
                    format!("unknown parameter (known: {})", known.join(", ")),
                ));
            }
            if map.insert(k.clone(), v).is_some() {
                return Err(ApiError::field(&k, "given more than once"));
            }
        }
        Ok(Params(map))
    }

    /// The raw text of `name`, when given and not empty.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    /// A text value of at most `max` characters.
    ///
    /// # Errors
    /// A 400 naming `name` when longer.
    pub fn bounded(&self, name: &str, max: usize) -> Result<Option<String>, ApiError> {
        match self.text(name) {
            Some(t) if t.chars().count() > max => Err(ApiError::field(
                name,
                format!("longer than {max} characters"),
            )),
            other => Ok(other.map(str::to_string)),
        }
    }

    /// `name` parsed by `parse`, which says what it expected.
    ///
    /// # Errors
    /// A 400 naming `name`.
    pub fn get<T>(
        &self,
        name: &str,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, ApiError> {
        match self.text(name) {
            None => Ok(None),
            Some(t) => parse(t)
                .map(Some)
                .ok_or_else(|| ApiError::field(name, format!("{t:?} is not {expected}"))),
        }
    }

    /// An address.
    ///
    /// # Errors
    /// A 400 naming `name`.
    pub fn ip(&self, name: &str) -> Result<Option<IpAddr>, ApiError> {
        self.get(name, "an IPv4 or IPv6 address", |t| t.parse().ok())
    }

    /// A time: RFC 3339 (`2026-12-04T10:00:00Z`) or seconds since the epoch.
    ///
    /// # Errors
    /// A 400 naming `name`.
    pub fn time(&self, name: &str) -> Result<Option<Timestamp>, ApiError> {
        self.get(name, "an RFC 3339 time or epoch seconds", parse_time)
    }

    /// `limit`, 1 to [`MAX_LIMIT`].
    ///
    /// # Errors
    /// A 400 naming `limit`.
    pub fn limit(&self, default: usize) -> Result<usize, ApiError> {
        let n = self.get("limit", "a whole number", |t| t.parse::<u64>().ok())?;
        match n {
            None => Ok(default),
            Some(n) if (1..=MAX_LIMIT as u64).contains(&n) => Ok(n as usize),
            Some(n) => Err(ApiError::field(
                "limit",
                format!("{n} is not within 1..={MAX_LIMIT}"),
            )),
        }
    }
}

/// Parses a time given as RFC 3339 or as (fractional) epoch seconds.
pub fn parse_time(t: &str) -> Option<Timestamp> {
    if let Some(ts) = Timestamp::parse_rfc3339(t) {
        return Some(ts);
    }
    let secs: f64 = t.parse().ok()?;
    (secs.is_finite() && (0.0..1e11).contains(&secs))
        .then(|| Timestamp::from_micros((secs * 1e6) as i64))
}

/// `a=1&b=x%20y` as pairs.
fn serde_urlencoded_pairs(raw: &str) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    for part in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let k = decode(k).ok_or_else(|| ApiError::bad_request("malformed query string"))?;
        let v = decode(v).ok_or_else(|| ApiError::field(&k, "malformed percent-encoding"))?;
        out.push((k, v));
    }
    Ok(out)
}

/// Percent-decoding with `+` as space; `None` for bad escapes or non-UTF-8.
fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// A severity by name, any case.
pub fn severity(t: &str) -> Option<Severity> {
    [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ]
    .into_iter()
    .find(|s| s.as_str().eq_ignore_ascii_case(t))
}

/// A status by name, any case.
pub fn status(t: &str) -> Option<AlertStatus> {
    AlertStatus::ALL
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(t))
}

/// A JSON body whose rejections are the API's errors: 400 naming what failed to parse, 413
/// when too large, 415 without a JSON content type.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        use axum::extract::rejection::JsonRejection;
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(JsonBody(v)),
            Err(JsonRejection::JsonDataError(e)) => Err(ApiError::bad_request(format!(
                "body: {}",
                std::error::Error::source(&e).map_or_else(|| e.body_text(), |s| s.to_string())
            ))),
            Err(JsonRejection::JsonSyntaxError(_)) => {
                Err(ApiError::bad_request("body: not valid JSON"))
            }
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code: "unsupported_media_type",
                message: "body: send Content-Type: application/json".into(),
            }),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                code: "too_large",
                message: "body: larger than the server accepts".into(),
            }),
            Err(e) => Err(ApiError {
                status: e.status(),
                code: "bad_request",
                message: format!("body: {}", e.body_text()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_name_the_bad_field() {
        let p = Params::parse(
            Some("limit=5&src_ip=10.0.0.1&q=a+b%21"),
            &["limit", "src_ip", "q"],
        )
        .expect("parses");
        assert_eq!(p.limit(100).expect("limit"), 5);
        assert_eq!(p.text("q"), Some("a b!"));
        let err = Params::parse(Some("nope=1"), &["limit"]).expect_err("unknown");
        assert!(err.message.starts_with("nope:"), "{err}");
        let err = Params::parse(Some("limit=1&limit=2"), &["limit"]).expect_err("twice");
        assert!(err.message.contains("more than once"));
        let p = Params::parse(Some("limit=1000000"), &["limit"]).expect("parses");
        assert!(p
            .limit(1)
            .expect_err("too big")
            .message
            .starts_with("limit:"));
        let p = Params::parse(Some("since=yesterday"), &["since"]).expect("parses");
        assert!(p
            .time("since")
            .expect_err("bad time")
            .message
            .starts_with("since:"));
        assert!(Params::parse(Some("q=%zz"), &["q"]).is_err());
        assert_eq!(parse_time("1.5"), Some(Timestamp::from_micros(1_500_000)));
        assert!(severity("high").is_some() && status("acknowledged").is_some());
    }
}
