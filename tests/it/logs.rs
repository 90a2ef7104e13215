//! What the operator's log output looks like to a log collector.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Text logs written to a pipe (a file, `kubectl logs`, a collector) carry no ANSI
/// colour codes.
#[test]
fn text_logs_to_a_pipe_have_no_colour_codes() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_quay-config-operator"))
        .args(["emulator", "--listen", "127.0.0.1:0", "--token", "t"])
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the operator binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    child.kill().ok();
    child.wait().ok();
    assert!(line.contains("INFO"), "{line:?}");
    assert!(line.contains("Quay emulator listening"), "{line:?}");
    assert!(!line.contains('\u{1b}'), "{line:?}");
}
