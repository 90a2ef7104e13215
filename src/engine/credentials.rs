//! Credentials for an external registry, read from a Secret. Quay never shows
//! them back, so kinds that send them compare the Secret's version instead.

/// A user name and password with the version of the Secret they came from.
/// `Debug` shows only the version.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryCredentials {
    /// User name.
    pub username: String,
    /// Password (never logged).
    pub password: String,
    /// Version (`uid/resourceVersion`) of the Secret they were read from.
    pub version: String,
}

impl std::fmt::Debug for RegistryCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryCredentials")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}
