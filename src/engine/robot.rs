//! Robot accounts. Quay has no update call for robots: the description is
//! fixed at creation, so a difference is reported, never "fixed" by
//! recreating the robot (which would change its token).

use super::driver::{FieldChange, Managed};
use super::error::EngineError;
use super::quay::Quay;
use crate::quay::ErrorKind;
use crate::quay::api::robot::{Robot, RobotOwner};

/// The desired state of a robot account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredRobot {
    /// Organization or the token's user.
    pub owner: RobotOwner,
    /// Short name.
    pub short_name: String,
    /// Description given at creation.
    pub description: String,
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
}

impl Managed for DesiredRobot {
    type Live = Robot;

    fn describe(&self) -> String {
        match &self.owner {
            RobotOwner::Organization(org) => format!("robot {org}+{}", self.short_name),
            RobotOwner::CurrentUser => format!("robot {} of the token's user", self.short_name),
        }
    }

    async fn observe(&self, quay: &Quay) -> Result<Option<Robot>, EngineError> {
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
        Ok(found.cloned())
    }

    fn diff(&self, _live: &Robot) -> Vec<FieldChange> {
        // The description cannot be changed; the controller reports it apart.
        Vec::new()
    }

    async fn create(&self, quay: &Quay) -> Result<Option<Robot>, EngineError> {
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
            Ok(robot) => Ok(Some(robot)),
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

    async fn update(&self, _: &Quay, _: &Robot, _: &[FieldChange]) -> Result<(), EngineError> {
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
