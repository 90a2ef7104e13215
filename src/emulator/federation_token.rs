//! `GET /oauth2/federation/robot/token`: a robot's federated token exchange,
//! as far as it goes without outside network. The caller sends HTTP Basic
//! `namespace+robot:<JWT>`; Quay checks the header, the robot and the JWT's
//! issuer against the robot's federation list, then fetches the issuer's OIDC
//! discovery document to verify the signature. Like the recorded Quay without
//! DNS, the emulator cannot fetch it: it closes the connection without an
//! answer there, so no exchange ever succeeds here. The answers for a JWT
//! without issuer, a robot without federation and an issuer not configured
//! follow Quay's source (`auth/federated_robot_auth.py`); they were not
//! recorded.

use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::errors::{ApiError, Html, json_response};
use super::server::ConnectionKill;
use super::state::State;

/// The endpoint's path.
pub const PATH: &str = "/oauth2/federation/robot/token";

/// What the endpoint does with one request.
pub enum Outcome {
    /// Answer this.
    Answer(Response),
    /// Close the connection without an answer (the OIDC discovery fetch).
    Hang,
}

/// Quay's answer to `method` with `headers`, against `state`.
pub fn exchange(method: &Method, headers: &HeaderMap, state: &State, base_url: &str) -> Outcome {
    if method != Method::GET && method != Method::HEAD {
        return Outcome::Answer(ApiError::Html(Html::MethodNotAllowed).into_response(base_url));
    }
    let refuse = |error: String| {
        Outcome::Answer(json_response(
            StatusCode::UNAUTHORIZED,
            &json!({ "error": error }),
        ))
    };
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return refuse("No auth header".into());
    };
    let Some((username, token)) = basic_credentials(value) else {
        return refuse("Invalid basic auth header".into());
    };
    if !username.contains('+') {
        return refuse("Invalid robot".into());
    }
    let Some((_, robot)) = state.robot(&username) else {
        return Outcome::Answer(
            ApiError::message("Could not find robot with specified username")
                .into_response(base_url),
        );
    };
    // PyJWT's unverified decode raises on anything that is not a JWT, and
    // Quay does not catch it.
    let Some(issuer) = jwt_issuer(&token) else {
        return Outcome::Answer(
            ApiError::Html(Html::ServerError(StatusCode::INTERNAL_SERVER_ERROR))
                .into_response(base_url),
        );
    };
    let Some(issuer) = issuer else {
        return refuse("Token does not contain issuer".into());
    };
    if robot.federation.is_empty() {
        return refuse("Robot does not have federated login configured".into());
    }
    if !robot.federation.iter().any(|e| e["issuer"] == issuer) {
        return refuse(format!("issuer {issuer} not configured for this robot"));
    }
    Outcome::Hang
}

/// Closes the connection of a request that [`exchange`] left unanswered.
pub async fn hang(kill: Option<&ConnectionKill>) -> Response {
    if let Some(kill) = kill {
        kill.kill();
        // The connection task drops this future together with the connection.
        std::future::pending::<()>().await;
    }
    ApiError::Html(Html::ServerError(StatusCode::BAD_GATEWAY)).into_response("")
}

/// `user:password` of an HTTP Basic header.
fn basic_credentials(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// The `iss` claim of a JWT read without verification: `None` when it is
/// not a JWT, `Some(None)` when it has no issuer.
fn jwt_issuer(token: &str) -> Option<Option<String>> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    Some(claims["iss"].as_str().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        format!("{header}.{payload}.")
    }

    #[test]
    fn the_issuer_is_read_from_a_jwt_only() {
        let token = jwt(json!({"iss": "https://issuer.example.com", "sub": "ci"}));
        assert_eq!(
            jwt_issuer(&token),
            Some(Some("https://issuer.example.com".into()))
        );
        assert_eq!(jwt_issuer(&jwt(json!({"sub": "ci"}))), Some(None));
        assert_eq!(jwt_issuer("not.a.jwt"), None);
        assert_eq!(jwt_issuer("nodots"), None);
    }

    #[test]
    fn basic_credentials_split_at_the_first_colon() {
        let header = format!("Basic {}", STANDARD.encode("acme+bot:a.b:c"));
        assert_eq!(
            basic_credentials(&header),
            Some(("acme+bot".into(), "a.b:c".into()))
        );
        assert_eq!(basic_credentials("Bearer abc"), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
    }
}
