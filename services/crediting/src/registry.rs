//! What crediting asks the registry (over gRPC, as the crediting service):
//! engineers, activities and institutions' standing. Answers are cached
//! briefly so a burst of records for the same engineers and activities does
//! not make one call each.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ce_proto::registry::OrganiserKind;
use ce_proto::registry::registry_service_client::RegistryServiceClient;
use ce_proto::registry::{
    Activity, BatchGetActivitiesRequest, BatchGetEngineersRequest, Engineer, GetActivityRequest,
    ListEngineerChangesRequest, ListEngineerChangesResponse, ListEngineersRequest,
    ListStandingChangesRequest,
};
use ce_rules::standing::Change;
use ce_server::ApiError;
use ce_server::peer::{PeerAuth, Peers};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tracing::Instrument;

/// How long an answer is reused.
const TTL: Duration = Duration::from_secs(30);

type Client = RegistryServiceClient<InterceptedService<Channel, PeerAuth>>;

/// Answers a cache holds at most, of each kind; past it the least
/// recently used go first.
const CAPACITY: u64 = 100_000;

/// Registry answers by resource name, each reused for [`TTL`]. Least
/// recently used rather than moka's default admission policy: a bulk
/// message caches its engineers and activities just before it reads them,
/// and a new answer must not be refused for being new.
type Cache<T> = moka::sync::Cache<String, T>;

fn cache<T: Clone + Send + Sync + 'static>() -> Cache<T> {
    moka::sync::Cache::builder()
        .max_capacity(CAPACITY)
        .time_to_live(TTL)
        .eviction_policy(moka::policy::EvictionPolicy::lru())
        .build()
}

/// How many standing histories a bulk message may be waiting for at once.
const LOOKUPS_IN_FLIGHT: usize = 16;

/// Names a batch get takes at most (the registry's limit).
const BATCH: usize = 1000;

/// The registry, as crediting sees it.
pub struct Registry {
    client: Client,
    engineers: Cache<Option<Engineer>>,
    activities: Cache<Option<Activity>>,
    standings: Cache<Vec<Change>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Registry")
    }
}

fn unavailable(e: tonic::Status) -> ApiError {
    ApiError::Unavailable(format!(
        "the registry did not answer ({:?}): {}",
        e.code(),
        e.message()
    ))
}

impl Registry {
    pub fn new(peers: &Arc<Peers>) -> Result<Registry, ce_server::peer::PeerError> {
        Ok(Registry {
            client: RegistryServiceClient::new(peers.intercepted("registry")?),
            engineers: cache(),
            activities: cache(),
            standings: cache(),
        })
    }

    /// The engineers with these names; `None` for one that does not exist.
    pub async fn engineers(&self, names: &[String]) -> Result<Vec<Option<Engineer>>, ApiError> {
        // Each answer is read from the cache once or asked for, and kept
        // here: the cache may drop an answer as soon as it is put.
        let mut answers: HashMap<&str, Option<Engineer>> = HashMap::new();
        let mut wanted = std::collections::BTreeSet::new();
        for n in names {
            if answers.contains_key(n.as_str()) || wanted.contains(n) {
                continue;
            }
            match self.engineers.get(n) {
                Some(e) => {
                    answers.insert(n, e);
                }
                None => {
                    wanted.insert(n.clone());
                }
            }
        }
        let wanted: Vec<String> = wanted.into_iter().collect();
        let mut fetched: HashMap<String, Option<Engineer>> = HashMap::new();
        for chunk in wanted.chunks(BATCH) {
            let found = self
                .client
                .clone()
                .batch_get_engineers(BatchGetEngineersRequest {
                    names: chunk.to_vec(),
                })
                .await
                .map_err(unavailable)?
                .into_inner();
            for e in found.engineers {
                self.engineers.insert(e.name.clone(), Some(e.clone()));
                fetched.insert(e.name.clone(), Some(e));
            }
            for m in found.missing {
                self.engineers.insert(m.clone(), None);
                fetched.insert(m, None);
            }
        }
        Ok(names
            .iter()
            .map(|n| {
                answers
                    .get(n.as_str())
                    .or_else(|| fetched.get(n))
                    .cloned()
                    .flatten()
            })
            .collect())
    }

    /// Caches the activities named in `names` (one `BatchGetActivities` a
    /// thousand not cached yet), then the standing history of each
    /// institution organising one of them ([`LOOKUPS_IN_FLIGHT`] at a time),
    /// so that a bulk message's records find theirs in the cache instead of
    /// waiting for one call after another. An activity the registry does
    /// not hold is cached as such (its records are refused when prepared);
    /// an unreachable registry is an error, and the client re-sends the
    /// message.
    pub async fn prefetch_activities<'a>(
        self: &Arc<Self>,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), ApiError> {
        let wanted: Vec<String> = names
            .into_iter()
            // A malformed name is refused when its record is prepared.
            .filter(|n| ce_server::names::parse("", "activities", n).is_ok())
            .filter(|n| !self.activities.contains_key(*n))
            .map(str::to_owned)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut institutions = std::collections::BTreeSet::new();
        for chunk in wanted.chunks(BATCH) {
            let answer = match self
                .client
                .clone()
                .batch_get_activities(BatchGetActivitiesRequest {
                    names: chunk.to_vec(),
                })
                .await
            {
                Ok(answer) => answer.into_inner(),
                // A name that is not an activity's: each record is refused
                // on its own when prepared.
                Err(s) if s.code() == Code::InvalidArgument => continue,
                Err(s) => return Err(unavailable(s)),
            };
            for a in answer.activities {
                if a.organiser_kind() == OrganiserKind::Institution
                    && !self.standings.contains_key(&a.organiser)
                {
                    institutions.insert(a.organiser.clone());
                }
                self.activities.insert(a.name.clone(), Some(a));
            }
            for m in answer.missing {
                self.activities.insert(m, None);
            }
        }
        let mut running = tokio::task::JoinSet::new();
        let joined = |done: Result<Result<(), ApiError>, tokio::task::JoinError>| {
            done.map_err(|e| ApiError::Internal(format!("a standing lookup failed: {e}")))?
        };
        for institution in institutions {
            if running.len() >= LOOKUPS_IN_FLIGHT
                && let Some(done) = running.join_next().await
            {
                joined(done)?;
            }
            let registry = self.clone();
            // Each lookup carries the caller's trace to the registry, as one
            // made in the caller's own task does.
            running.spawn(
                async move { registry.standing_history(&institution).await.map(drop) }
                    .instrument(tracing::Span::current()),
            );
        }
        while let Some(done) = running.join_next().await {
            joined(done)?;
        }
        Ok(())
    }

    /// One page of the engineers of a province (all provinces when empty),
    /// and the token of the next page (empty on the last).
    pub async fn list_engineers(
        &self,
        province: &str,
        page_token: String,
    ) -> Result<(Vec<Engineer>, String), ApiError> {
        let page = self
            .client
            .clone()
            .list_engineers(ListEngineersRequest {
                page_size: 1000,
                page_token,
                province: province.to_owned(),
                ..Default::default()
            })
            .await
            .map_err(unavailable)?
            .into_inner();
        Ok((page.engineers, page.next_page_token))
    }

    /// Up to `page_size` changes of where engineers are, after `after`.
    pub async fn engineer_changes(
        &self,
        after: i64,
        page_size: i32,
    ) -> Result<ListEngineerChangesResponse, ApiError> {
        Ok(self
            .client
            .clone()
            .list_engineer_changes(ListEngineerChangesRequest {
                after_sequence: after,
                page_size,
            })
            .await
            .map_err(unavailable)?
            .into_inner())
    }

    /// Forgets what the cache holds of `engineer` (`engineers/{id}`): they
    /// changed, and the next lookup asks the registry.
    pub fn forget_engineer(&self, engineer: &str) {
        self.engineers.invalidate(engineer);
    }

    /// One engineer, or NOT_FOUND naming the field.
    pub async fn engineer(&self, name: &str) -> Result<Engineer, ApiError> {
        self.engineers(&[name.to_owned()])
            .await?
            .pop()
            .flatten()
            .ok_or_else(|| {
                ApiError::invalid(
                    "hour_record.engineer",
                    format!("{name} is not a registered engineer"),
                )
            })
    }

    /// The registry's activity, or an error naming the field.
    pub async fn activity(&self, name: &str) -> Result<Activity, ApiError> {
        if let Some(a) = self.activities.get(name) {
            return a.ok_or_else(|| not_an_activity(name));
        }
        let found = match self
            .client
            .clone()
            .get_activity(GetActivityRequest {
                name: name.to_owned(),
            })
            .await
        {
            Ok(a) => Some(a.into_inner()),
            Err(s) if matches!(s.code(), Code::NotFound | Code::InvalidArgument) => None,
            Err(s) => return Err(unavailable(s)),
        };
        self.activities.insert(name.to_owned(), found.clone());
        found.ok_or_else(|| not_an_activity(name))
    }

    /// An institution's standing history, in recorded order.
    pub async fn standing_history(&self, institution: &str) -> Result<Vec<Change>, ApiError> {
        if let Some(h) = self.standings.get(institution) {
            return Ok(h);
        }
        let mut history = Vec::new();
        let mut token = String::new();
        loop {
            let page = self
                .client
                .clone()
                .list_standing_changes(ListStandingChangesRequest {
                    parent: institution.to_owned(),
                    page_size: 1000,
                    page_token: token,
                })
                .await
                .map_err(unavailable)?
                .into_inner();
            history.extend(page.standing_changes.iter().filter_map(|c| {
                Some(Change {
                    effective: ce_server::dates::from_proto(c.effective_date.as_ref()).ok()?,
                    standing: ce_server::convert::standing_from_wire(c.standing)?,
                })
            }));
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        self.standings
            .insert(institution.to_owned(), history.clone());
        Ok(history)
    }
}

fn not_an_activity(name: &str) -> ApiError {
    ApiError::invalid(
        "hour_record.registry_activity",
        format!("{name} is not a registered activity"),
    )
}
