//! Matching request paths against Quay's URL rules the way Werkzeug does:
//! `{repository}` is greedy (two or more segments, so nested repository names
//! work and unknown sub-paths fall through to the repository resource), rules
//! that need a trailing slash redirect (308), GETs of unknown paths redirect to
//! the slash URL (Quay's UI catch-all), slash-terminated unknown paths get the
//! UI's 404 page for GET and its 405 page for other methods, and a known path
//! with an unsupported method gets 405.

use axum::http::Method;

use super::auth::Scope;
use super::errors::ApiResult;
use super::request::Ctx;
use super::state::State;

/// An API handler.
pub type Handler = fn(&Ctx, &mut State) -> ApiResult;

/// One API rule: method + path template (Quay's parameter names).
pub struct Route {
    pub method: Method,
    /// Template like `/api/v1/repository/{repository}/mirror`.
    pub template: &'static str,
    /// OAuth scope the operation requires (from Quay's discovery document).
    pub scope: Option<Scope>,
    pub handler: Handler,
    segments: Vec<Segment>,
}

impl Route {
    /// A rule; `template` must start with `/api/v1/`.
    pub fn new(
        method: Method,
        template: &'static str,
        scope: Option<Scope>,
        handler: Handler,
    ) -> Route {
        let segments = template
            .trim_start_matches('/')
            .split('/')
            .map(
                |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some("repository") => Segment::Greedy("repository"),
                    Some(name) => Segment::Param(name),
                    None => Segment::Static(s),
                },
            )
            .collect();
        Route {
            method,
            template,
            scope,
            handler,
            segments,
        }
    }

    /// The stats key, e.g. `GET /api/v1/repository/{repository}`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    fn is_bare_repository(&self) -> bool {
        self.template == "/api/v1/repository/{repository}"
    }

    /// Matches a decoded path, returning the parameters.
    fn matches(&self, path: &[&str]) -> Option<Vec<(&'static str, String)>> {
        let greedy_at = self
            .segments
            .iter()
            .position(|s| matches!(s, Segment::Greedy(_)));
        let mut params = Vec::new();
        match greedy_at {
            None => {
                if path.len() != self.segments.len() {
                    return None;
                }
                for (seg, part) in self.segments.iter().zip(path) {
                    seg.match_one(part, &mut params)?;
                }
            }
            Some(at) => {
                let suffix = self.segments.len() - at - 1;
                if path.len() < at + suffix + 2 {
                    return None;
                }
                let greedy_end = path.len() - suffix;
                for (seg, part) in self.segments[..at].iter().zip(&path[..at]) {
                    seg.match_one(part, &mut params)?;
                }
                let middle = &path[at..greedy_end];
                if middle.iter().any(|p| p.is_empty()) {
                    return None;
                }
                params.push(("repository", middle.join("/")));
                for (seg, part) in self.segments[at + 1..].iter().zip(&path[greedy_end..]) {
                    seg.match_one(part, &mut params)?;
                }
            }
        }
        Some(params)
    }
}

enum Segment {
    Static(&'static str),
    Param(&'static str),
    Greedy(&'static str),
}

impl Segment {
    fn match_one(&self, part: &str, params: &mut Vec<(&'static str, String)>) -> Option<()> {
        match self {
            Segment::Static(s) => (*s == part).then_some(()),
            Segment::Param(name) | Segment::Greedy(name) => {
                if part.is_empty() {
                    return None;
                }
                params.push((name, part.to_string()));
                Some(())
            }
        }
    }
}

/// Outcome of routing one request.
pub enum Resolution<'a> {
    /// Dispatch to this rule.
    Route(&'a Route, Vec<(&'static str, String)>),
    /// 308 to this path (the request path plus a trailing slash).
    Redirect(String),
    /// 405 with `{"message"}` (a rule matches the path but not the method).
    MethodNotAllowed,
    /// 405 HTML page (an unknown slash URL with a non-GET method).
    MethodNotAllowedPage,
    /// The UI's 404 HTML page.
    NotFoundPage,
}

/// Resolves `path` (decoded, without query) for `method` against `routes`.
pub fn resolve<'a>(routes: &'a [Route], method: &Method, path: &str) -> Resolution<'a> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut path_matched = false;
    for route in routes.iter().filter(|r| !r.is_bare_repository()) {
        if let Some(params) = route.matches(&parts) {
            if route.method == method {
                return Resolution::Route(route, params);
            }
            path_matched = true;
        }
    }
    let ends_with_slash = path.ends_with('/');
    if !ends_with_slash {
        let mut with_slash = parts.clone();
        with_slash.push("");
        if routes
            .iter()
            .filter(|r| !r.is_bare_repository())
            .any(|r| r.matches(&with_slash).is_some())
        {
            return Resolution::Redirect(format!("{path}/"));
        }
    }
    for route in routes.iter().filter(|r| r.is_bare_repository()) {
        if let Some(params) = route.matches(&parts) {
            if route.method == method {
                return Resolution::Route(route, params);
            }
            path_matched = true;
        }
    }
    if (method == Method::GET || method == Method::HEAD) && !ends_with_slash {
        return Resolution::Redirect(format!("{path}/"));
    }
    if path_matched {
        return Resolution::MethodNotAllowed;
    }
    if ends_with_slash {
        // The UI's catch-all page route takes only GET: Quay answers any
        // other method on an unknown slash URL with its 405 page.
        if method != Method::GET && method != Method::HEAD {
            return Resolution::MethodNotAllowedPage;
        }
        return Resolution::NotFoundPage;
    }
    Resolution::Redirect(format!("{path}/"))
}

/// Percent-decodes a URL path (invalid escapes are kept as they are).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits and decodes a query string (`+` means space).
pub fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}
