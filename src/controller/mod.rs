//! kube-rs glue: watches the custom resources and drives the engine. All
//! Kubernetes access goes through here; the engine and the Quay client know
//! nothing of Kubernetes.

mod connection;
mod connections;
mod context;
pub mod feed;
pub mod identity;
mod kinds;
pub mod reconcile;
pub mod references;
mod scope;
pub mod signals;
mod status;
pub mod tenancy;

use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, future};
use k8s_openapi::api::core::v1::Secret;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::Controller;
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::{Predicate, WatchStreamExt, predicates, watcher};
use kube::{Api, Client, Resource};

pub use connection::{
    TOKEN_FINALIZER, reconcile as reconcile_connection,
    reconcile_cluster as reconcile_cluster_connection,
};
pub use connections::secret_value;
pub use connections::{ConnectionError, Connections};
pub use context::Context;
pub use kinds::{Inputs, ManagedResource, QuayLocation, ResourceRef};
pub use reconcile::{Error, FINALIZER, KindContext};

use crate::crd::{
    ClusterQuayConnection, ConnectionKind, QuayConnection, QuayGlobalMessage, QuayMirrorConfig,
    QuayNotification, QuayOAuthApplication, QuayOrganization, QuayProxyCache, QuayQuota,
    QuayRepository, QuayRobotAccount, QuayTeam, QuayUserNamespace,
};

/// Settings of `quay-config-operator run`.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Watch only this namespace (all when `None`).
    pub namespace: Option<String>,
    /// Drift check interval of in-sync objects.
    pub resync: Duration,
    /// How long one Quay list answer serves other objects.
    pub list_ttl: Duration,
    /// Parallel reconciles per kind.
    pub concurrency: u16,
    /// The operator's namespace, where ClusterQuayConnections' Secrets live.
    pub operator_namespace: Option<String>,
    /// Poll interval of the organizations' change feeds (`None`: off).
    pub change_feed: Option<Duration>,
    /// Full observation interval of resources a change feed covers.
    pub full_resync: Duration,
    /// Where reconcile outcomes and Quay calls are counted.
    pub metrics: Arc<crate::metrics::Metrics>,
}

fn api<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// Lists kind `K` (one item) to prove its CRD is installed; the error is an
/// install hint.
async fn probe<K>(client: &Client, namespace: Option<&str>) -> Result<(), String>
where
    K: Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    K::Scope: scope::KindScope,
{
    let api: Api<K> = <K::Scope as scope::KindScope>::api(client, namespace);
    api.list(&kube::api::ListParams::default().limit(1))
        .await
        .map(|_| ())
        .map_err(|e| {
            format!(
                "cannot list {}: {e}; are the CRDs installed? (kubectl apply -f crds/)",
                K::plural(&())
            )
        })
}

/// Fails with an install hint when the CRD of a kind the operator has always
/// had is missing. Lists in `namespace` only when given, which is all a
/// namespaced (Role-based) install may do. The kinds added later
/// ([`run_if_installed`]) may be missing: `helm upgrade` never upgrades CRDs.
pub async fn check_crds(client: &Client, namespace: Option<&str>) -> Result<(), String> {
    probe::<QuayConnection>(client, namespace).await?;
    probe::<QuayOrganization>(client, namespace).await?;
    probe::<QuayRepository>(client, namespace).await?;
    probe::<QuayRobotAccount>(client, namespace).await?;
    probe::<QuayTeam>(client, namespace).await?;
    probe::<QuayNotification>(client, namespace).await?;
    probe::<QuayMirrorConfig>(client, namespace).await?;
    probe::<QuayQuota>(client, namespace).await?;
    // Cluster-scoped: only a cluster-wide install can list it.
    if namespace.is_none() {
        probe::<ClusterQuayConnection>(client, None).await?;
    }
    Ok(())
}

/// Runs the controller of kind `K` when its CRD is installed; otherwise says
/// once which CRD to apply and leaves the other kinds running (an upgrade by
/// `helm upgrade` does not install new CRDs).
async fn run_if_installed<K>(
    client: &Client,
    namespace: Option<&str>,
    controller: impl std::future::Future<Output = ()>,
) where
    K: Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    K::Scope: scope::KindScope,
{
    match probe::<K>(client, namespace).await {
        Ok(()) => controller.await,
        Err(hint) => tracing::warn!("{} are not managed: {hint}", K::kind(&())),
    }
}

/// Runs every controller until SIGTERM/Ctrl-C.
pub async fn run(client: Client, config: RunConfig) {
    let mut context = Context::new(
        client.clone(),
        config.resync,
        config.list_ttl,
        config.metrics.clone(),
    )
    .with_operator_namespace(config.operator_namespace.clone());
    if let Some(interval) = config.change_feed {
        context = context.with_change_feeds(interval, config.full_resync);
    }
    let ctx = Arc::new(context);
    let feeds = tokio::spawn(ctx.feeds.clone().run());
    let ns = config.namespace.as_deref();
    let controller_config =
        kube::runtime::controller::Config::default().concurrency(config.concurrency);

    let connections = Controller::new(
        api::<QuayConnection>(&client, ns),
        watcher::Config::default(),
    )
    .with_config(controller_config.clone());
    let store = connections.store();
    // Only Secret metadata is watched: the operator never keeps Secret data in memory.
    let secrets = watcher(
        api::<PartialObjectMeta<Secret>>(&client, ns),
        watcher::Config::default(),
    )
    .default_backoff()
    .touched_objects();
    // A resource whose token Quay refused has the connection checked now.
    let rechecks = ctx.signals.rechecks().filter_map(|id| {
        future::ready(match (id.kind, id.namespace) {
            (ConnectionKind::QuayConnection, Some(namespace)) => {
                Some(ObjectRef::<QuayConnection>::new(&id.name).within(&namespace))
            }
            _ => None,
        })
    });
    let connections = connections
        .reconcile_on(rechecks)
        .watches_stream(secrets, move |secret: PartialObjectMeta<Secret>| {
            let name = secret.metadata.name.clone().unwrap_or_default();
            let namespace = secret.metadata.namespace.clone();
            store
                .state()
                .into_iter()
                .filter(|c| {
                    c.metadata.namespace == namespace
                        && (c.spec.token_secret_ref.name == name
                            || c.spec
                                .ca_bundle
                                .as_ref()
                                .and_then(|b| b.secret_ref.as_ref())
                                .map(|r| &r.name)
                                == Some(&name))
                })
                .map(|c| ObjectRef::from_obj(&*c))
                .collect::<Vec<_>>()
        })
        .shutdown_on_signal()
        .run(connection::reconcile, connection::error_policy, ctx.clone())
        .for_each(|_| future::ready(()));
    // ClusterQuayConnections: only a cluster-wide install can watch them.
    let (cluster_ctx, cluster_config, cluster_client) =
        (ctx.clone(), controller_config.clone(), client.clone());
    let cluster_rechecks = ctx.signals.rechecks().filter_map(|id| {
        future::ready(
            (id.kind == ConnectionKind::ClusterQuayConnection)
                .then(|| ObjectRef::<ClusterQuayConnection>::new(&id.name)),
        )
    });
    let cluster_connections = async move {
        if ns.is_none() {
            Controller::new(
                Api::<ClusterQuayConnection>::all(cluster_client),
                watcher::Config::default(),
            )
            .with_config(cluster_config)
            .reconcile_on(cluster_rechecks)
            .shutdown_on_signal()
            .run(
                connection::reconcile_cluster,
                connection::error_policy,
                cluster_ctx,
            )
            .for_each(|_| future::ready(()))
            .await;
        }
    };

    let organizations =
        managed::<QuayOrganization>(&client, ns, ctx.clone(), controller_config.clone());
    let repositories =
        managed::<QuayRepository>(&client, ns, ctx.clone(), controller_config.clone());
    let robots = managed::<QuayRobotAccount>(&client, ns, ctx.clone(), controller_config.clone());
    let teams = managed::<QuayTeam>(&client, ns, ctx.clone(), controller_config.clone());
    let notifications =
        managed::<QuayNotification>(&client, ns, ctx.clone(), controller_config.clone());
    let mirrors = managed::<QuayMirrorConfig>(&client, ns, ctx.clone(), controller_config.clone());
    let quotas = managed::<QuayQuota>(&client, ns, ctx.clone(), controller_config.clone());
    let proxy_caches = run_if_installed::<QuayProxyCache>(
        &client,
        ns,
        managed::<QuayProxyCache>(&client, ns, ctx.clone(), controller_config.clone()),
    );
    let applications = run_if_installed::<QuayOAuthApplication>(
        &client,
        ns,
        managed::<QuayOAuthApplication>(&client, ns, ctx.clone(), controller_config.clone()),
    );
    let user_namespaces = run_if_installed::<QuayUserNamespace>(
        &client,
        ns,
        managed::<QuayUserNamespace>(&client, ns, ctx.clone(), controller_config.clone()),
    );
    // Cluster-scoped kinds: only a cluster-wide install can watch them.
    let message_client = client.clone();
    let messages = async move {
        if ns.is_none() {
            run_if_installed::<QuayGlobalMessage>(
                &message_client,
                ns,
                managed::<QuayGlobalMessage>(&message_client, ns, ctx, controller_config),
            )
            .await;
        }
    };
    tokio::join!(
        connections,
        cluster_connections,
        organizations,
        repositories,
        robots,
        teams,
        notifications,
        mirrors,
        quotas,
        proxy_caches,
        applications,
        user_namespaces,
        messages
    );
    feeds.abort();
}

/// A controller for one managed kind. Status writes do not trigger it: only
/// spec (generation) and finalizer changes do, plus the resync timer.
fn managed<K: ManagedResource>(
    client: &Client,
    namespace: Option<&str>,
    shared: Arc<Context>,
    config: kube::runtime::controller::Config,
) -> impl std::future::Future<Output = ()> {
    let (reader, writer) = reflector::store();
    let stream = watcher(
        <K::Scope as scope::KindScope>::api::<K>(client, namespace),
        watcher::Config::default(),
    )
    .default_backoff()
    .modify(slim)
    .reflect(writer)
    .touched_objects()
    .predicate_filter(
        (predicates::generation::<K>)
            .combine(predicates::finalizers::<K>)
            .combine(predicates::annotations::<K>),
        Default::default(),
    );
    let ctx = Arc::new(KindContext {
        shared,
        store: reader.clone(),
    });
    let store = reader.clone();
    let triggers = ctx.shared.feeds.triggers(store.clone());
    let mut controller = Controller::for_stream(stream, reader)
        .reconcile_on(triggers)
        .reconcile_on(recovered(&ctx.shared, store.clone()))
        .reconcile_on(appeared::<K>(&ctx.shared));
    if K::references_secrets() {
        let store = store.clone();
        // A change to a Secret the spec references (e.g. mirror credentials)
        // reconciles the resources that reference it, promptly. Only Secret
        // metadata is watched.
        let secrets = watcher(
            api::<PartialObjectMeta<Secret>>(client, namespace),
            watcher::Config::default(),
        )
        .default_backoff()
        .touched_objects();
        controller =
            controller.watches_stream(secrets, move |secret: PartialObjectMeta<Secret>| {
                let name = secret.metadata.name.unwrap_or_default();
                dependents(&store, secret.metadata.namespace.as_deref(), |o| {
                    o.secret_refs().iter().any(|r| r.name == name)
                })
            });
    }
    for referenced in K::referenced_kinds() {
        controller = match referenced {
            kinds::Referenced::Repository => watch_referenced::<K, QuayRepository>(
                controller,
                client,
                namespace,
                &store,
                ResourceRef::Repository,
            ),
            kinds::Referenced::Organization => watch_referenced::<K, QuayOrganization>(
                controller,
                client,
                namespace,
                &store,
                ResourceRef::Organization,
            ),
        };
    }
    if namespace.is_none() {
        // A ClusterQuayConnection whose spec (URL, token, tenancy rules)
        // changed reconciles the resources that use it, in every namespace.
        // Only a cluster-wide install can watch it.
        let changed = watcher(
            Api::<PartialObjectMeta<ClusterQuayConnection>>::all(client.clone()),
            watcher::Config::default(),
        )
        .default_backoff()
        .touched_objects()
        .predicate_filter(predicates::generation, Default::default());
        let store = store.clone();
        controller = controller.watches_stream(changed, move |connection| {
            let name = connection.metadata.name.unwrap_or_default();
            store
                .state()
                .into_iter()
                .filter(|o| {
                    let used = o.connection();
                    used.kind == ConnectionKind::ClusterQuayConnection && used.name == name
                })
                .map(|o| ObjectRef::from_obj(&*o))
                .collect::<Vec<_>>()
        });
    }
    if K::owns_secrets() {
        // Only the Secrets the operator wrote are watched (full objects), by
        // their label; an edited or deleted one is rewritten by its owner.
        let label = format!("{}={}", kinds::MANAGED_BY.0, kinds::MANAGED_BY.1);
        let owned = watcher(
            api::<Secret>(client, namespace),
            watcher::Config::default().labels(&label),
        )
        .default_backoff()
        .touched_objects();
        controller = controller.owns_stream(owned);
    }
    controller
        .with_config(config)
        .shutdown_on_signal()
        .run(reconcile::reconcile::<K>, reconcile::error_policy::<K>, ctx)
        .for_each(|_| future::ready(()))
}

/// The resources of `store` that failed because of their connection, each
/// time it works again (see [`signals`]).
fn recovered<K: ManagedResource>(
    shared: &Context,
    store: reflector::Store<K>,
) -> impl futures::Stream<Item = ObjectRef<K>> + Send + 'static {
    shared.signals.recoveries().flat_map(move |id| {
        let waiting: Vec<ObjectRef<K>> = store
            .state()
            .into_iter()
            .filter(|o| {
                let namespace = o.meta().namespace.as_deref().unwrap_or_default();
                signals::ConnectionId::of(namespace, &o.connection()) == id
                    && o.conditions().iter().any(|c| {
                        c.type_ == "Ready"
                            && c.status == "False"
                            && signals::CONNECTION_REASONS.contains(&c.reason.as_str())
                    })
            })
            .map(|o| ObjectRef::from_obj(&*o))
            .collect();
        futures::stream::iter(waiting)
    })
}

/// The resources of kind `K` whose wait for a dependency ended because the
/// operator created something at their place (see [`signals`]).
fn appeared<K: ManagedResource>(
    shared: &Context,
) -> impl futures::Stream<Item = ObjectRef<K>> + Send + 'static {
    let kind = K::kind(&()).into_owned();
    shared.signals.woken().filter_map(move |waiter| {
        let woken = (waiter.kind == kind).then(|| {
            let object = ObjectRef::new(&waiter.name);
            match &waiter.namespace {
                Some(namespace) => object.within(namespace),
                None => object,
            }
        });
        future::ready(woken)
    })
}

/// The annotation `kubectl apply` (client-side) keeps the whole last applied
/// manifest in.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Drops from a watched object what the operator never reads before the
/// reflector stores it: `managedFields` and kubectl's last-applied manifest,
/// together most of an object's size (the store holds every resource).
pub fn slim<K: Resource>(object: &mut K) {
    let meta = object.meta_mut();
    meta.managed_fields = None;
    if let Some(annotations) = &mut meta.annotations {
        annotations.remove(LAST_APPLIED);
    }
}

/// Reconciles the resources of kind `K` that reference a resource of kind
/// `R` by name whenever such a resource changes (only its metadata is
/// watched): a resource waiting for it proceeds at once.
fn watch_referenced<K, R>(
    controller: Controller<K>,
    client: &Client,
    namespace: Option<&str>,
    store: &reflector::Store<K>,
    reference: fn(String) -> ResourceRef,
) -> Controller<K>
where
    K: ManagedResource,
    R: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let stream = watcher(
        api::<PartialObjectMeta<R>>(client, namespace),
        watcher::Config::default(),
    )
    .default_backoff()
    .touched_objects();
    let store = store.clone();
    controller.watches_stream(stream, move |changed: PartialObjectMeta<R>| {
        let wanted = reference(changed.metadata.name.unwrap_or_default());
        dependents(&store, changed.metadata.namespace.as_deref(), |o| {
            o.resource_refs().contains(&wanted)
        })
    })
}

/// The resources of the store in `namespace` that `depends` says depend on
/// a changed object: what a watch on that object must reconcile.
pub fn dependents<K: ManagedResource>(
    store: &reflector::Store<K>,
    namespace: Option<&str>,
    depends: impl Fn(&K) -> bool,
) -> Vec<ObjectRef<K>> {
    store
        .state()
        .into_iter()
        .filter(|o| o.meta().namespace.as_deref() == namespace && depends(o))
        .map(|o| ObjectRef::from_obj(&*o))
        .collect()
}
