//! The identity a connection is pinned to: the Quay user its token belonged
//! to when it was first checked. A token that now belongs to someone else
//! acts for nobody until a person confirms the new user with an annotation,
//! so a swapped Secret cannot silently act as someone else.

/// Annotation on a connection accepting a new Quay user for its token.
pub const CONFIRM_USER_ANNOTATION: &str = "quayconfig.io/confirm-user";

/// The token belongs to another user than the one the connection is pinned to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the token now authenticates as {current:?}, but this connection is pinned to {pinned:?}; \
     to accept the new user, set the annotation {CONFIRM_USER_ANNOTATION}: {current} on the connection"
)]
pub struct IdentityChanged {
    /// The user the connection is pinned to.
    pub pinned: String,
    /// The user the token belongs to now.
    pub current: String,
}

/// Whether the token's `current` user may act for a connection pinned to
/// `pinned` (nothing pinned yet: yes), given the confirmation annotation.
pub fn check(
    pinned: Option<&str>,
    confirmed: Option<&str>,
    current: &str,
) -> Result<(), IdentityChanged> {
    match pinned {
        None => Ok(()),
        Some(pinned) if pinned == current || confirmed == Some(current) => Ok(()),
        Some(pinned) => Err(IdentityChanged {
            pinned: pinned.to_owned(),
            current: current.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_unpinned_and_confirmed() {
        assert_eq!(check(None, None, "alice"), Ok(()));
        assert_eq!(check(Some("alice"), None, "alice"), Ok(()));
        let changed = check(Some("alice"), None, "bob").unwrap_err();
        assert_eq!(changed.pinned, "alice");
        let message = changed.to_string();
        assert!(
            message.contains("now authenticates as \"bob\""),
            "{message}"
        );
        assert!(
            message.contains("quayconfig.io/confirm-user: bob"),
            "{message}"
        );
        // A confirmation names the user it accepts, no other.
        assert!(check(Some("alice"), Some("carol"), "bob").is_err());
        assert_eq!(check(Some("alice"), Some("bob"), "bob"), Ok(()));
    }
}
