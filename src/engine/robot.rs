//! Robot accounts. Quay has no update call for robots: the description is
//! fixed at creation, so a difference is reported, never "fixed" by
//! recreating the robot (which would change its token). The federated
//! identities (robot federation) are a list Quay replaces as a whole; Quay
//! shows them only per robot, so they are read only when the spec manages
//! them.

use super::driver::{FieldChange, Managed};
use super::error::EngineError;
use super::quay::Quay;
use crate::quay::ErrorKind;
use crate::quay::api::robot::{FederationEntry, Robot, RobotOwner};

/// A robot as Quay shows it, with its federated identities when the
/// desired state manages them.
#[derive(Debug, Clone)]
pub struct LiveRobot {
    /// The robot (with its token when Quay gave it).
    pub robot: Robot,
    /// Federated identities, sorted; `None` when not read.
    pub federation: Option<Vec<FederationEntry>>,
}

/// The desired state of a robot account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredRobot {
    /// Organization or the token's user.
    pub owner: RobotOwner,
    /// For a robot of the token's user: the user it must be (checked before
    /// anything is sent); `None` takes whoever the token belongs to.
    pub user: Option<String>,
    /// Short name.
    pub short_name: String,
    /// Description given at creation.
    pub description: String,
    /// The complete list of federated identities, sorted (`None`: not
    /// managed, never read).
    pub federation: Option<Vec<FederationEntry>>,
}

impl DesiredRobot {
    /// Quay's full name (`namespace+short`), given the token's user name.
    pub fn full_name(&self, me: &str) -> String {
        match &self.owner {
            RobotOwner::Organization(org) => format!("{org}+{}", self.short_name),
            RobotOwner::CurrentUser => format!("{me}+{}", self.short_name),
        }
    }

    /// Whether Quay's description differs (Quay cannot change it in place).
    pub fn description_differs(&self, live: &Robot) -> bool {
        live.description != self.description
    }

    /// Regenerates the robot's token and returns the robot with the new one.
    pub async fn rotate(&self, quay: &Quay) -> Result<Robot, EngineError> {
        let robot = quay
            .client
            .regenerate_robot_token(&self.owner, &self.short_name)
            .await?;
        quay.forget_robots(&self.owner);
        Ok(robot)
    }

    fn suffix(&self) -> String {
        format!("+{}", self.short_name)
    }

    /// The live robot with its federation read, if the spec manages it.
    async fn with_federation(&self, quay: &Quay, robot: Robot) -> Result<LiveRobot, EngineError> {
        let federation = match &self.federation {
            None => None,
            Some(_) => {
                let mut live = quay
                    .client
                    .robot_federation(&self.owner, &self.short_name)
                    .await?;
                live.sort();
                Some(live)
            }
        };
        Ok(LiveRobot { robot, federation })
    }

    async fn set_federation(
        &self,
        quay: &Quay,
        want: &[FederationEntry],
    ) -> Result<Vec<FederationEntry>, EngineError> {
        let mut stored = quay
            .client
            .set_robot_federation(&self.owner, &self.short_name, want)
            .await?;
        stored.sort();
        Ok(stored)
    }
}

/// `issuer subject, ...` for messages and drift reports (`none` when empty).
fn render(entries: &[FederationEntry]) -> String {
    match entries.is_empty() {
        true => "none".to_owned(),
        false => entries
            .iter()
            .map(|e| format!("{} {}", e.issuer, e.subject))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

impl Managed for DesiredRobot {
    type Live = LiveRobot;

    fn describe(&self) -> String {
        match &self.owner {
            RobotOwner::Organization(org) => format!("robot {org}+{}", self.short_name),
            RobotOwner::CurrentUser => format!("robot {} of the token's user", self.short_name),
        }
    }

    async fn observe(&self, quay: &Quay) -> Result<Option<LiveRobot>, EngineError> {
        if let (RobotOwner::CurrentUser, Some(user)) = (&self.owner, &self.user) {
            super::user_namespace::require_token_user(quay, user, "robot accounts").await?;
        }
        let robots = match quay.robots(&self.owner).await {
            // Quay answers 403 (or 404) for the robots of an unknown organization.
            Err(e)
                if matches!(e.kind, ErrorKind::NotFound | ErrorKind::Forbidden)
                    && self.org_missing(quay).await? =>
            {
                return Err(self.waiting_for_org());
            }
            other => other?,
        };
        let suffix = self.suffix();
        let found = robots.iter().find(|r| match &self.owner {
            RobotOwner::Organization(org) => r.name == format!("{org}{suffix}"),
            RobotOwner::CurrentUser => {
                r.name.ends_with(&suffix) && !r.name[..r.name.len() - suffix.len()].contains('+')
            }
        });
        match found {
            Some(robot) => Ok(Some(self.with_federation(quay, robot.clone()).await?)),
            None => Ok(None),
        }
    }

    fn diff(&self, live: &LiveRobot) -> Vec<FieldChange> {
        // The description cannot be changed; the controller reports it apart.
        match (&self.federation, &live.federation) {
            (Some(want), Some(have)) if want != have => {
                vec![FieldChange::new("federation", render(have), render(want))]
            }
            _ => Vec::new(),
        }
    }

    async fn create(&self, quay: &Quay) -> Result<Option<LiveRobot>, EngineError> {
        // Never below an organization not seen to exist: a superuser's token lists
        // no robots for a missing organization, and its create is refused.
        if let RobotOwner::Organization(org) = &self.owner
            && !quay.namespace_known(org).await?
        {
            return Err(self.waiting_for_org());
        }
        let created = quay
            .client
            .create_robot(&self.owner, &self.short_name, &self.description, None)
            .await;
        quay.forget_robots(&self.owner);
        match created {
            Ok(robot) => {
                let federation = match &self.federation {
                    Some(want) if !want.is_empty() => Some(self.set_federation(quay, want).await?),
                    other => other.clone(),
                };
                Ok(Some(LiveRobot { robot, federation }))
            }
            Err(e)
                if e.kind == ErrorKind::NotFound
                    || (e.kind == ErrorKind::Forbidden && self.org_missing(quay).await?) =>
            {
                Err(EngineError::Waiting {
                    what: format!("the Quay organization of {} to exist", self.describe()),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn update(
        &self,
        quay: &Quay,
        _: &LiveRobot,
        changes: &[FieldChange],
    ) -> Result<(), EngineError> {
        if let Some(want) = &self.federation
            && changes.iter().any(|c| c.field == "federation")
        {
            self.set_federation(quay, want).await?;
        }
        Ok(())
    }

    async fn delete(&self, quay: &Quay, _live: &Self::Live) -> Result<(), EngineError> {
        quay.client
            .delete_robot(&self.owner, &self.short_name)
            .await?;
        quay.forget_robots(&self.owner);
        Ok(())
    }
}

impl DesiredRobot {
    fn waiting_for_org(&self) -> EngineError {
        EngineError::Waiting {
            what: format!("the Quay organization of {} to exist", self.describe()),
        }
    }

    async fn org_missing(&self, quay: &Quay) -> Result<bool, EngineError> {
        match &self.owner {
            RobotOwner::Organization(org) => Ok(!quay.namespace_known(org).await?),
            RobotOwner::CurrentUser => Ok(false),
        }
    }
}
