//! The emulator (which runs in users' CI): any method, path, query, token and
//! body gets an HTTP answer, never a panic. The input is
//! `METHOD-INDEX PATH\nBODY`; the first byte picks the method and whether the
//! request carries the emulator's token.

#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::Request;
use libfuzzer_sys::fuzz_target;
use quay_config_operator::emulator::{EmulatorConfig, service};
use tower::ServiceExt;

const TOKEN: &str = "fuzz-token";
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "PATCH"];

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let (path, body) = text.split_once('\n').unwrap_or((&text, ""));
    let mut request = Request::builder()
        .method(METHODS[usize::from(first) % METHODS.len()])
        .uri(format!("/api/v1/{}", path.trim_start_matches('/')))
        .header("content-type", "application/json");
    if first & 0x80 == 0 {
        request = request.header("authorization", format!("Bearer {TOKEN}"));
    }
    let Ok(request) = request.body(Body::from(body.to_owned())) else {
        return;
    };
    let app = service(EmulatorConfig {
        token: Some(TOKEN.to_owned()),
        superusers_full_access: first & 0x40 != 0,
        mailing: false,
    });
    let response = runtime().block_on(app.oneshot(request));
    let Ok(response) = response;
    assert!(response.status().as_u16() >= 200);
});
