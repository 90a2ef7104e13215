//! Quay's API rules and their handlers, one module per API area.

mod autoprune;
mod discovery;
mod logs;
mod mirror;
mod notification;
mod organization;
mod permission;
mod prototype;
mod proxycache;
mod quota;
mod repository;
mod robot;
mod team;
mod user;

use axum::http::Method;
use rand::Rng;
use rand::distr::Alphanumeric;

use super::auth::Scope;
use super::routing::Route;

/// The Quay expression namespaces (and robot and team names) must match.
pub const NAME_EXPRESSION: &str = "^([a-z0-9]+(?:[._-][a-z0-9]+)*)$";

/// Quay's `validate_username`: the expression, then 2-255 characters.
pub fn validate_namespace_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.split(['.', '_', '-']).all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
    if !valid {
        return Err(format!("Namespace must match expression {NAME_EXPRESSION}"));
    }
    if !(2..=255).contains(&name.len()) {
        return Err("Namespace must be between 2 and 255 characters in length".to_string());
    }
    Ok(())
}

/// A 40-character OAuth access token.
pub fn random_token() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(40)
        .map(char::from)
        .collect()
}

/// A generated password (what `POST /api/v1/superuser/users/` hands out).
pub fn random_password() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

/// A 64-character robot token (upper-case letters and digits, like Quay's).
pub fn random_robot_token() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(64)
        .map(|b| char::from(b).to_ascii_uppercase())
        .collect()
}

/// A new uuid4 string.
pub fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Every rule the emulator implements, with the scope Quay's discovery lists.
pub fn table() -> Vec<Route> {
    use Method as M;
    use Scope::*;
    let r = Route::new;
    vec![
        // user and superuser
        r(M::POST, "/api/v1/user/initialize", None, user::initialize),
        r(M::GET, "/api/v1/user/", Some(UserRead), user::get_user),
        r(
            M::GET,
            "/api/v1/superuser/users/",
            Some(SuperUser),
            user::list_users,
        ),
        r(
            M::POST,
            "/api/v1/superuser/users/",
            Some(SuperUser),
            user::create_user,
        ),
        r(
            M::GET,
            "/api/v1/superuser/organizations/",
            Some(SuperUser),
            user::list_organizations,
        ),
        r(M::GET, "/api/v1/discovery", None, discovery::discovery),
        // organizations
        r(
            M::POST,
            "/api/v1/organization/",
            Some(UserAdmin),
            organization::create,
        ),
        r(
            M::GET,
            "/api/v1/organization/{orgname}",
            None,
            organization::get,
        ),
        r(
            M::PUT,
            "/api/v1/organization/{orgname}",
            Some(OrgAdmin),
            organization::update,
        ),
        r(
            M::DELETE,
            "/api/v1/organization/{orgname}",
            Some(OrgAdmin),
            organization::delete,
        ),
        r(
            M::GET,
            "/api/v1/organization/{orgname}/members",
            Some(OrgAdmin),
            organization::members,
        ),
        // robots
        r(
            M::GET,
            "/api/v1/organization/{orgname}/robots",
            Some(OrgAdmin),
            robot::list_org,
        ),
        r(
            M::GET,
            "/api/v1/organization/{orgname}/robots/{robot_shortname}",
            Some(OrgAdmin),
            robot::get_org,
        ),
        r(
            M::PUT,
            "/api/v1/organization/{orgname}/robots/{robot_shortname}",
            Some(OrgAdmin),
            robot::create_org,
        ),
        r(
            M::DELETE,
            "/api/v1/organization/{orgname}/robots/{robot_shortname}",
            Some(OrgAdmin),
            robot::delete_org,
        ),
        r(
            M::GET,
            "/api/v1/organization/{orgname}/robots/{robot_shortname}/permissions",
            Some(UserAdmin),
            robot::permissions_org,
        ),
        r(
            M::POST,
            "/api/v1/organization/{orgname}/robots/{robot_shortname}/regenerate",
            Some(OrgAdmin),
            robot::regenerate_org,
        ),
        r(
            M::GET,
            "/api/v1/user/robots",
            Some(UserAdmin),
            robot::list_user,
        ),
        r(
            M::GET,
            "/api/v1/user/robots/{robot_shortname}",
            Some(UserAdmin),
            robot::get_user,
        ),
        r(
            M::PUT,
            "/api/v1/user/robots/{robot_shortname}",
            Some(UserAdmin),
            robot::create_user,
        ),
        r(
            M::DELETE,
            "/api/v1/user/robots/{robot_shortname}",
            Some(UserAdmin),
            robot::delete_user,
        ),
        r(
            M::GET,
            "/api/v1/user/robots/{robot_shortname}/permissions",
            Some(UserAdmin),
            robot::permissions_user,
        ),
        r(
            M::POST,
            "/api/v1/user/robots/{robot_shortname}/regenerate",
            Some(UserAdmin),
            robot::regenerate_user,
        ),
        // teams
        r(
            M::PUT,
            "/api/v1/organization/{orgname}/team/{teamname}",
            Some(OrgAdmin),
            team::put,
        ),
        r(
            M::DELETE,
            "/api/v1/organization/{orgname}/team/{teamname}",
            Some(OrgAdmin),
            team::delete,
        ),
        r(
            M::GET,
            "/api/v1/organization/{orgname}/team/{teamname}/members",
            Some(OrgAdmin),
            team::members,
        ),
        r(
            M::PUT,
            "/api/v1/organization/{orgname}/team/{teamname}/members/{membername}",
            Some(OrgAdmin),
            team::add_member,
        ),
        r(
            M::DELETE,
            "/api/v1/organization/{orgname}/team/{teamname}/members/{membername}",
            Some(OrgAdmin),
            team::remove_member,
        ),
        r(
            M::GET,
            "/api/v1/organization/{orgname}/team/{teamname}/permissions",
            None,
            team::permissions,
        ),
        // prototypes
        r(
            M::GET,
            "/api/v1/organization/{orgname}/prototypes",
            Some(OrgAdmin),
            prototype::list,
        ),
        r(
            M::POST,
            "/api/v1/organization/{orgname}/prototypes",
            Some(OrgAdmin),
            prototype::create,
        ),
        r(
            M::PUT,
            "/api/v1/organization/{orgname}/prototypes/{prototypeid}",
            Some(OrgAdmin),
            prototype::update,
        ),
        r(
            M::DELETE,
            "/api/v1/organization/{orgname}/prototypes/{prototypeid}",
            Some(OrgAdmin),
            prototype::delete,
        ),
        // quota
        r(
            M::GET,
            "/api/v1/organization/{orgname}/quota",
            None,
            quota::org_list,
        ),
        r(
            M::POST,
            "/api/v1/organization/{orgname}/quota",
            Some(SuperUser),
            quota::org_create,
        ),
        r(
            M::GET,
            "/api/v1/organization/{orgname}/quota/{quota_id}",
            None,
            quota::org_get,
        ),
        r(
            M::PUT,
            "/api/v1/organization/{orgname}/quota/{quota_id}",
            Some(SuperUser),
            quota::org_update,
        ),
        r(
            M::DELETE,
            "/api/v1/organization/{orgname}/quota/{quota_id}",
            Some(SuperUser),
            quota::org_delete,
        ),
        r(
            M::GET,
            "/api/v1/organization/{orgname}/quota/{quota_id}/limit",
            None,
            quota::org_limits,
        ),
        r(
            M::POST,
            "/api/v1/organization/{orgname}/quota/{quota_id}/limit",
            Some(SuperUser),
            quota::org_limit_create,
        ),
        r(
            M::GET,
            "/api/v1/organization/{orgname}/quota/{quota_id}/limit/{limit_id}",
            None,
            quota::org_limit_get,
        ),
        r(
            M::PUT,
            "/api/v1/organization/{orgname}/quota/{quota_id}/limit/{limit_id}",
            Some(SuperUser),
            quota::org_limit_update,
        ),
        r(
            M::DELETE,
            "/api/v1/organization/{orgname}/quota/{quota_id}/limit/{limit_id}",
            Some(SuperUser),
            quota::org_limit_delete,
        ),
        r(
            M::GET,
            "/api/v1/user/quota",
            Some(UserAdmin),
            quota::user_list,
        ),
        r(
            M::GET,
            "/api/v1/user/quota/{quota_id}",
            Some(UserAdmin),
            quota::user_get,
        ),
        r(
            M::GET,
            "/api/v1/user/quota/{quota_id}/limit",
            Some(UserAdmin),
            quota::user_limits,
        ),
        r(
            M::GET,
            "/api/v1/user/quota/{quota_id}/limit/{limit_id}",
            Some(UserAdmin),
            quota::user_limit_get,
        ),
        r(
            M::GET,
            "/api/v1/superuser/organization/{namespace}/quota",
            Some(SuperUser),
            quota::su_org_list,
        ),
        r(
            M::POST,
            "/api/v1/superuser/organization/{namespace}/quota",
            Some(SuperUser),
            quota::su_org_create,
        ),
        r(
            M::PUT,
            "/api/v1/superuser/organization/{namespace}/quota/{quota_id}",
            Some(SuperUser),
            quota::su_org_update,
        ),
        r(
            M::DELETE,
            "/api/v1/superuser/organization/{namespace}/quota/{quota_id}",
            Some(SuperUser),
            quota::su_org_delete,
        ),
        r(
            M::GET,
            "/api/v1/superuser/users/{namespace}/quota",
            Some(SuperUser),
            quota::su_user_list,
        ),
        r(
            M::POST,
            "/api/v1/superuser/users/{namespace}/quota",
            Some(SuperUser),
            quota::su_user_create,
        ),
        r(
            M::PUT,
            "/api/v1/superuser/users/{namespace}/quota/{quota_id}",
            Some(SuperUser),
            quota::su_user_update,
        ),
        r(
            M::DELETE,
            "/api/v1/superuser/users/{namespace}/quota/{quota_id}",
            Some(SuperUser),
            quota::su_user_delete,
        ),
        // auto-prune
        r(
            M::GET,
            "/api/v1/organization/{orgname}/autoprunepolicy/",
            Some(OrgAdmin),
            autoprune::org_list,
        ),
        r(
            M::POST,
            "/api/v1/organization/{orgname}/autoprunepolicy/",
            Some(OrgAdmin),
            autoprune::org_create,
        ),
        r(
            M::GET,
            "/api/v1/organization/{orgname}/autoprunepolicy/{policy_uuid}",
            Some(OrgAdmin),
            autoprune::org_get,
        ),
        r(
            M::PUT,
            "/api/v1/organization/{orgname}/autoprunepolicy/{policy_uuid}",
            Some(OrgAdmin),
            autoprune::org_update,
        ),
        r(
            M::DELETE,
            "/api/v1/organization/{orgname}/autoprunepolicy/{policy_uuid}",
            Some(OrgAdmin),
            autoprune::org_delete,
        ),
        r(
            M::GET,
            "/api/v1/user/autoprunepolicy/",
            Some(UserAdmin),
            autoprune::user_list,
        ),
        r(
            M::POST,
            "/api/v1/user/autoprunepolicy/",
            Some(UserAdmin),
            autoprune::user_create,
        ),
        r(
            M::GET,
            "/api/v1/user/autoprunepolicy/{policy_uuid}",
            Some(UserAdmin),
            autoprune::user_get,
        ),
        r(
            M::PUT,
            "/api/v1/user/autoprunepolicy/{policy_uuid}",
            Some(UserAdmin),
            autoprune::user_update,
        ),
        r(
            M::DELETE,
            "/api/v1/user/autoprunepolicy/{policy_uuid}",
            Some(UserAdmin),
            autoprune::user_delete,
        ),
        r(
            M::GET,
            "/api/v1/repository/{repository}/autoprunepolicy/",
            Some(RepoAdmin),
            autoprune::repo_list,
        ),
        r(
            M::POST,
            "/api/v1/repository/{repository}/autoprunepolicy/",
            Some(RepoAdmin),
            autoprune::repo_create,
        ),
        r(
            M::GET,
            "/api/v1/repository/{repository}/autoprunepolicy/{policy_uuid}",
            Some(RepoAdmin),
            autoprune::repo_get,
        ),
        r(
            M::PUT,
            "/api/v1/repository/{repository}/autoprunepolicy/{policy_uuid}",
            Some(RepoAdmin),
            autoprune::repo_update,
        ),
        r(
            M::DELETE,
            "/api/v1/repository/{repository}/autoprunepolicy/{policy_uuid}",
            Some(RepoAdmin),
            autoprune::repo_delete,
        ),
        // proxy cache
        r(
            M::GET,
            "/api/v1/organization/{orgname}/proxycache",
            None,
            proxycache::get,
        ),
        r(
            M::POST,
            "/api/v1/organization/{orgname}/proxycache",
            None,
            proxycache::create,
        ),
        r(
            M::DELETE,
            "/api/v1/organization/{orgname}/proxycache",
            None,
            proxycache::delete,
        ),
        // audit logs
        r(
            M::GET,
            "/api/v1/organization/{orgname}/logs",
            Some(OrgAdmin),
            logs::org_logs,
        ),
        r(
            M::GET,
            "/api/v1/organization/{orgname}/aggregatelogs",
            Some(OrgAdmin),
            logs::org_aggregate,
        ),
        r(
            M::GET,
            "/api/v1/repository/{repository}/logs",
            Some(RepoAdmin),
            logs::repo_logs,
        ),
        r(
            M::GET,
            "/api/v1/repository/{repository}/aggregatelogs",
            Some(RepoAdmin),
            logs::repo_aggregate,
        ),
        r(
            M::GET,
            "/api/v1/user/logs",
            Some(UserAdmin),
            logs::user_logs,
        ),
        r(
            M::GET,
            "/api/v1/user/aggregatelogs",
            Some(UserAdmin),
            logs::user_aggregate,
        ),
        // repositories
        r(
            M::GET,
            "/api/v1/repository",
            Some(RepoRead),
            repository::list,
        ),
        r(
            M::POST,
            "/api/v1/repository",
            Some(RepoCreate),
            repository::create,
        ),
        r(
            M::POST,
            "/api/v1/repository/{repository}/changevisibility",
            Some(RepoAdmin),
            repository::change_visibility,
        ),
        r(
            M::PUT,
            "/api/v1/repository/{repository}/changestate",
            Some(RepoAdmin),
            repository::change_state,
        ),
        // repository permissions
        r(
            M::GET,
            "/api/v1/repository/{repository}/permissions/user/",
            Some(RepoAdmin),
            permission::list_users,
        ),
        r(
            M::GET,
            "/api/v1/repository/{repository}/permissions/team/",
            Some(RepoAdmin),
            permission::list_teams,
        ),
        r(
            M::GET,
            "/api/v1/repository/{repository}/permissions/user/{username}/transitive",
            Some(RepoAdmin),
            permission::transitive,
        ),
        r(
            M::GET,
            "/api/v1/repository/{repository}/permissions/user/{username}",
            Some(RepoAdmin),
            permission::get_user,
        ),
        r(
            M::PUT,
            "/api/v1/repository/{repository}/permissions/user/{username}",
            Some(RepoAdmin),
            permission::put_user,
        ),
        r(
            M::DELETE,
            "/api/v1/repository/{repository}/permissions/user/{username}",
            Some(RepoAdmin),
            permission::delete_user,
        ),
        r(
            M::GET,
            "/api/v1/repository/{repository}/permissions/team/{teamname}",
            Some(RepoAdmin),
            permission::get_team,
        ),
        r(
            M::PUT,
            "/api/v1/repository/{repository}/permissions/team/{teamname}",
            Some(RepoAdmin),
            permission::put_team,
        ),
        r(
            M::DELETE,
            "/api/v1/repository/{repository}/permissions/team/{teamname}",
            Some(RepoAdmin),
            permission::delete_team,
        ),
        // notifications
        r(
            M::GET,
            "/api/v1/repository/{repository}/notification/",
            Some(RepoAdmin),
            notification::list,
        ),
        r(
            M::POST,
            "/api/v1/repository/{repository}/notification/",
            Some(RepoAdmin),
            notification::create,
        ),
        r(
            M::GET,
            "/api/v1/repository/{repository}/notification/{uuid}",
            Some(RepoAdmin),
            notification::get,
        ),
        r(
            M::POST,
            "/api/v1/repository/{repository}/notification/{uuid}",
            Some(RepoAdmin),
            notification::reset_failures,
        ),
        r(
            M::DELETE,
            "/api/v1/repository/{repository}/notification/{uuid}",
            Some(RepoAdmin),
            notification::delete,
        ),
        r(
            M::POST,
            "/api/v1/repository/{repository}/notification/{uuid}/test",
            Some(RepoAdmin),
            notification::test,
        ),
        // mirror
        r(
            M::GET,
            "/api/v1/repository/{repository}/mirror",
            Some(RepoAdmin),
            mirror::get,
        ),
        r(
            M::POST,
            "/api/v1/repository/{repository}/mirror",
            Some(RepoAdmin),
            mirror::create,
        ),
        r(
            M::PUT,
            "/api/v1/repository/{repository}/mirror",
            Some(RepoAdmin),
            mirror::update,
        ),
        r(
            M::POST,
            "/api/v1/repository/{repository}/mirror/sync-now",
            Some(RepoAdmin),
            mirror::sync_now,
        ),
        r(
            M::POST,
            "/api/v1/repository/{repository}/mirror/sync-cancel",
            Some(RepoAdmin),
            mirror::sync_cancel,
        ),
        // the greedy repository resource (must stay last: routing treats it specially)
        r(
            M::GET,
            "/api/v1/repository/{repository}",
            Some(RepoRead),
            repository::get,
        ),
        r(
            M::PUT,
            "/api/v1/repository/{repository}",
            Some(RepoWrite),
            repository::update,
        ),
        r(
            M::DELETE,
            "/api/v1/repository/{repository}",
            Some(RepoAdmin),
            repository::delete,
        ),
    ]
}
