//! In-memory Quay emulator (placeholder; built in the emulator branch).

/// Command-line arguments of `quay-config-operator emulator`.
#[derive(clap::Args, Debug)]
pub struct EmulatorArgs {}

/// Serve the emulator until interrupted.
pub async fn serve(_args: EmulatorArgs) -> std::io::Result<()> {
    Ok(())
}
