//! Credentials for an external registry, read from a Secret. Quay never shows
//! them back, so kinds that send them compare where they came from instead:
//! the Secret's version, and a keyed digest of its content.

/// Whether credentials last sent from Secret version `sent` are the ones
/// read at `current`. A version is `uid/resourceVersion`, then (what the
/// operator records; versions of earlier releases have neither) `;` and the
/// keys read, `#` and a digest of those keys and values keyed by the
/// connection's token. The same when the Secret version and keys are the
/// same (even if the token, and so the digest, changed), or when the content
/// is (a write to the Secret's metadata alone: a label, an annotation, a
/// GitOps tool's tracking id). Another key of an unchanged Secret is a change.
pub fn same_source(sent: &str, current: &str) -> bool {
    let (sent_version, sent_digest) = split(sent);
    let (current_version, current_digest) = split(current);
    match sent_digest {
        // Recorded by an earlier release: the Secret version alone.
        None => shown(sent_version) == shown(current_version),
        Some(_) => sent_version == current_version || sent_digest == current_digest,
    }
}

/// The `uid/resourceVersion` part of a version, for messages.
pub fn shown(version: &str) -> &str {
    version.split(['#', ';']).next().unwrap_or(version)
}

fn split(version: &str) -> (&str, Option<&str>) {
    match version.split_once('#') {
        Some((version, digest)) => (version, Some(digest)),
        None => (version, None),
    }
}

/// A user name and password with the version of the Secret they came from.
/// `Debug` shows only the version.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryCredentials {
    /// User name.
    pub username: String,
    /// Password (never logged).
    pub password: String,
    /// Version of the Secret they were read from (see [`same_source`]).
    pub version: String,
}

impl RegistryCredentials {
    /// Whether these are what was last sent from Secret version `sent`
    /// (`None`: nothing recorded, so not known to be sent).
    pub fn already_sent(&self, sent: Option<&str>) -> bool {
        sent.is_some_and(|sent| same_source(sent, &self.version))
    }
}

impl std::fmt::Debug for RegistryCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryCredentials")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_secret_version_or_the_same_content_is_the_same_source() {
        // A label on the Secret: new version, same content.
        assert!(same_source("u/1;p,u#d1", "u/2;p,u#d1"));
        // The connection's token changed (so did the digest), not the Secret.
        assert!(same_source("u/1;p,u#d1", "u/1;p,u#d2"));
        // Recorded by an earlier release, without keys and digest.
        assert!(same_source("u/1", "u/1;p,u#d1"));
        assert!(!same_source("u/1", "u/2;p,u#d1"));
        // New content; another key of the same Secret version.
        assert!(!same_source("u/1;p,u#d1", "u/2;p,u#d2"));
        assert!(!same_source("u/1;p,u#d1", "u/1;p2,u#d3"));
        assert_eq!(shown("u/1;p,u#d1"), "u/1");
        assert_eq!(shown("u/1"), "u/1");
    }
}
