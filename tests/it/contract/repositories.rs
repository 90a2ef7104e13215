use quay_config_operator::quay::ErrorKind;
use quay_config_operator::quay::api::repository::NewRepository;

use super::Target;

fn new_repo(namespace: &str, name: &str) -> NewRepository {
    NewRepository {
        namespace: namespace.into(),
        repository: name.into(),
        visibility: "private".into(),
        description: "My *app*".into(),
        repo_kind: "image".into(),
    }
}

#[tokio::test]
async fn repository_lifecycle() {
    let t = Target::new().await;
    let org = t.org("repo").await;
    let c = &t.client;

    c.create_repository(&new_repo(&org, "app")).await.unwrap();
    let again = c
        .create_repository(&new_repo(&org, "app"))
        .await
        .unwrap_err();
    assert_eq!(
        again.kind,
        ErrorKind::AlreadyExists,
        "Quay answers 400 'Repository already exists'"
    );

    let repo = c.get_repository(&org, "app").await.unwrap().expect("repo");
    assert_eq!(repo.description.as_deref(), Some("My *app*"));
    assert!(!repo.is_public);
    assert_eq!(repo.kind, "image");
    assert_eq!(repo.state, "NORMAL");

    let listed = c.list_repositories(&org).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0], repo,
        "the list carries everything the engine compares"
    );

    c.update_repository_description(&org, "app", "new description")
        .await
        .unwrap();
    c.change_repository_visibility(&org, "app", "public")
        .await
        .unwrap();
    c.change_repository_visibility(&org, "app", "public")
        .await
        .unwrap();
    c.change_repository_state(&org, "app", "READ_ONLY")
        .await
        .unwrap();
    let repo = c.get_repository(&org, "app").await.unwrap().unwrap();
    assert_eq!(repo.description.as_deref(), Some("new description"));
    assert!(repo.is_public);
    assert_eq!(repo.state, "READ_ONLY");
    c.change_repository_state(&org, "app", "NORMAL")
        .await
        .unwrap();

    c.delete_repository(&org, "app").await.unwrap();
    c.delete_repository(&org, "app")
        .await
        .expect("Quay answers 204 to a repeated delete");
    assert!(c.get_repository(&org, "app").await.unwrap().is_none());
    t.cleanup(&org).await;
}

#[tokio::test]
async fn repository_errors() {
    let t = Target::new().await;
    let org = t.org("repoerr").await;
    let c = &t.client;

    let err = c
        .create_repository(&new_repo(&org, "App"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(err.message, "Invalid repository name");

    let mut bad = new_repo(&org, "vis");
    bad.visibility = "internal".into();
    let err = c.create_repository(&bad).await.unwrap_err();
    assert!(
        err.message.starts_with("'internal' is not one of"),
        "{}",
        err.message
    );
    assert!(
        !err.message.contains("Failed validating"),
        "the jsonschema dump is cut off"
    );

    let err = c
        .create_repository(&new_repo(&t.name("nosuchns"), "x"))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::Forbidden,
        "unknown namespace is 403 in Quay"
    );
    let err = c
        .get_repository(&t.name("nosuchns"), "x")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Forbidden);
    t.cleanup(&org).await;
}

#[tokio::test]
async fn listing_follows_pages() {
    let t = Target::new().await;
    let org = t.org("pages").await;
    for i in 0..105 {
        t.client
            .create_repository(&new_repo(&org, &format!("r{i:03}")))
            .await
            .unwrap();
    }
    let before = t.client.request_count();
    let listed = t.client.list_repositories(&org).await.unwrap();
    assert_eq!(listed.len(), 105);
    assert_eq!(
        t.client.request_count() - before,
        2,
        "Quay pages 100 repositories per answer"
    );
    t.cleanup(&org).await;
}
