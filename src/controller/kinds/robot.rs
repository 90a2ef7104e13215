//! QuayRobotAccount → the engine's robot, plus the credentials Secret the
//! operator owns, and token rotation on request.

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::runtime::events::EventType;
use secrecy::ExposeSecret;
use serde_json::json;

use super::owned_secret::{ensure_owned_secret, owned_secret, record_in_status};
use super::{Inputs, ManagedResource, StepError};
use crate::controller::context::Context;
use crate::controller::status::Conditions;
use crate::crd::{DeletionPolicy, QuayRobotAccount, QuayRobotAccountStatus, ROTATE_ANNOTATION};
use crate::engine::robot::{DesiredRobot, LiveRobot};
use crate::engine::{EngineError, Managed, Quay, Report};
use crate::quay::api::robot::{FederationEntry, RobotOwner};

/// What the after-apply step learned, for the status.
pub struct RobotExtra {
    full_name: String,
    secret_name: String,
    rotation: Option<String>,
    /// Quay's description, when it differs from the spec.
    live_description: Option<String>,
}

impl QuayRobotAccount {
    fn engine_robot(&self) -> DesiredRobot {
        DesiredRobot {
            owner: match &self.spec.organization {
                Some(org) => RobotOwner::Organization(org.clone()),
                None => RobotOwner::CurrentUser,
            },
            user: self.spec.user.clone(),
            short_name: self.spec.short_name(&self.name_any()),
            description: self.spec.description.clone().unwrap_or_default(),
            federation: self.spec.federation.as_ref().map(|list| {
                let mut entries: Vec<FederationEntry> = list
                    .iter()
                    .map(|f| FederationEntry {
                        issuer: f.issuer.clone(),
                        subject: f.subject.clone(),
                    })
                    .collect();
                entries.sort();
                entries
            }),
        }
    }

    /// The credentials Secret for `robot` on registry `host`.
    fn credentials_secret(&self, name: &str, host: &str, robot: &str, token: &str) -> Secret {
        use base64::Engine as _;
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{robot}:{token}"));
        let docker = json!({"auths": {host: {"username": robot, "password": token, "auth": auth}}});
        owned_secret(
            self,
            name,
            "kubernetes.io/dockerconfigjson",
            &[
                (".dockerconfigjson", &docker.to_string()),
                ("username", robot),
                ("password", token),
            ],
        )
    }
}

impl ManagedResource for QuayRobotAccount {
    type Desired = DesiredRobot;
    type Status = QuayRobotAccountStatus;
    type Extra = RobotExtra;

    fn announces() -> bool {
        true
    }
    fn desired(&self, _secrets: &Inputs) -> Result<DesiredRobot, String> {
        Ok(self.engine_robot())
    }
    fn quay_identity(&self) -> String {
        let owner = self
            .spec
            .organization
            .as_deref()
            .or(self.spec.user.as_deref())
            .unwrap_or("(token user)");
        format!("{owner}+{}", self.spec.short_name(&self.name_any()))
    }
    fn quay_location(&self) -> Option<super::QuayLocation> {
        self.spec
            .organization
            .as_deref()
            .or(self.spec.user.as_deref())
            .map(super::QuayLocation::of_namespace)
    }
    common_accessors!();
    fn default_deletion_policy() -> DeletionPolicy {
        DeletionPolicy::Delete
    }
    fn owns_secrets() -> bool {
        true
    }

    async fn after_apply(
        &self,
        ctx: &Context,
        quay: &Quay,
        report: &Report<LiveRobot>,
    ) -> Result<RobotExtra, StepError> {
        let desired = self.engine_robot();
        let mut robot = match &report.live {
            Some(live) if live.robot.token.is_some() => live.robot.clone(),
            _ => {
                desired
                    .observe(quay)
                    .await?
                    .ok_or_else(|| {
                        EngineError::Rejected(format!(
                            "{} vanished from Quay right after this reconcile",
                            desired.describe()
                        ))
                    })?
                    .robot
            }
        };
        let requested = self.annotations().get(ROTATE_ANNOTATION).cloned();
        let handled = self.status.as_ref().and_then(|s| s.rotation.clone());
        let mut rotation = handled.clone();
        if let Some(value) = requested.filter(|v| Some(v) != handled.as_ref()) {
            // A value present when the robot is first created is recorded, not acted on:
            // the token is brand new anyway.
            if !report.created() {
                robot = desired.rotate(quay).await?;
                let note = format!(
                    "regenerated the token of {} ({ROTATE_ANNOTATION}={value})",
                    robot.name
                );
                ctx.publish(self, EventType::Normal, "TokenRotated", "Reconcile", note)
                    .await;
            }
            rotation = Some(value);
        }
        let token = robot.token.as_ref().ok_or_else(|| {
            EngineError::Rejected("Quay returned the robot without its token".to_owned())
        })?;
        let secret_name = self.spec.secret_name(&self.name_any());
        let secret = self.credentials_secret(
            &secret_name,
            &quay.client.registry_host(),
            &robot.name,
            token.expose_secret(),
        );
        let previous = self.status.as_ref().and_then(|s| s.secret_name.as_deref());
        if let Err(e) = ensure_owned_secret(ctx, self, secret, previous).await {
            // The token was rotated: record that, or the next attempt would rotate again.
            if rotation != handled {
                record_in_status(ctx, self, json!({"rotation": rotation})).await?;
            }
            return Err(e);
        }
        Ok(RobotExtra {
            full_name: robot.name.clone(),
            secret_name,
            rotation,
            live_description: desired
                .description_differs(&robot)
                .then(|| robot.description.clone()),
        })
    }

    fn status(
        &self,
        common: crate::crd::ManagedStatus,
        _registry_host: Option<&str>,
        extra: Option<RobotExtra>,
    ) -> QuayRobotAccountStatus {
        let previous = self.status.clone().unwrap_or_default();
        let mut common = common;
        let conditions = &mut common.conditions;
        match &extra {
            Some(extra) => {
                let mut c =
                    Conditions::new(&previous.common.conditions, common.observed_generation);
                match &extra.live_description {
                    Some(live) => c.set(
                        "DescriptionInSync",
                        false,
                        "CannotUpdateRobot",
                        format!(
                            "Quay's description is {live:?}; Quay cannot change a robot's description, and the \
                             operator does not recreate the robot (that would change its token)"
                        ),
                    ),
                    None => c.set("DescriptionInSync", true, "InSync", "the description matches the spec"),
                };
                conditions.extend(c.into_vec());
            }
            None => conditions.extend(
                previous
                    .common
                    .conditions
                    .iter()
                    .filter(|c| c.type_ == "DescriptionInSync")
                    .cloned(),
            ),
        }
        QuayRobotAccountStatus {
            common,
            full_name: extra
                .as_ref()
                .map(|e| e.full_name.clone())
                .or(previous.full_name),
            secret_name: extra
                .as_ref()
                .map(|e| e.secret_name.clone())
                .or(previous.secret_name),
            rotation: extra
                .as_ref()
                .map_or(previous.rotation, |e| e.rotation.clone()),
        }
    }
}
