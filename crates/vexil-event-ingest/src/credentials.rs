//! Which environment an SDK credential belongs to: config-api's `Credentials.Resolve`,
//! with answers (known and unknown alike) remembered for `credentials.cache_ttl`, so a
//! revoked key is refused within that time and a flood of bad keys costs one call each
//! per TTL. Keys are remembered as SHA-256 digests only, never in the clear.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};
use vexil_proto::config::v1::credentials_client::CredentialsClient;
use vexil_proto::config::v1::{CredentialKind, ResolveRequest};
use vexil_service::service_auth::BearerToken;

use crate::config::{ConfigApiConfig, CredentialsConfig};

/// The environment a credential opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedCredential {
    pub environment_id: String,
    pub project_key: String,
    pub environment_key: String,
    pub kind: CredentialKind,
}

/// Why a credential opens nothing.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// Unknown, revoked or expired (config-api's NOT_FOUND).
    #[error("unknown, revoked or expired credential")]
    Unknown,
    /// config-api could not answer; the request should be retried later.
    #[error("config-api could not resolve the credential")]
    Unavailable(#[source] Status),
}

/// Cheap to clone; clones share the cache and the connection.
#[derive(Clone)]
pub struct CredentialResolver {
    client: CredentialsClient<InterceptedService<Channel, BearerToken>>,
    cache: Arc<Mutex<Cache>>,
    ttl: Duration,
    capacity: usize,
}

struct Cache {
    entries: HashMap<[u8; 32], CacheEntry>,
    /// Expired entries are swept when the cache is full, at most once per TTL, so a
    /// flood of new keys never makes every request scan the whole cache.
    next_sweep: Instant,
}

struct CacheEntry {
    resolved: Option<Arc<ResolvedCredential>>,
    expires_at: Instant,
}

/// A configuration the resolver cannot use.
#[derive(Debug, thiserror::Error)]
pub enum ResolverError {
    #[error("config_api.grpc_url is not a valid URL")]
    Url(#[source] tonic::transport::Error),
    #[error("service_token is not a valid header value")]
    Token,
}

impl CredentialResolver {
    /// Connects lazily: config-api need not be up when event ingest starts.
    pub fn new(
        config_api: &ConfigApiConfig,
        credentials: &CredentialsConfig,
        service_token: Option<&str>,
    ) -> Result<CredentialResolver, ResolverError> {
        let channel = Endpoint::from_shared(config_api.grpc_url.clone())
            .map_err(ResolverError::Url)?
            .connect_timeout(config_api.request_timeout)
            .timeout(config_api.request_timeout)
            .http2_keep_alive_interval(Duration::from_secs(20))
            .keep_alive_timeout(Duration::from_secs(10))
            .connect_lazy();
        let token = BearerToken::new(service_token).map_err(|_| ResolverError::Token)?;
        Ok(CredentialResolver {
            client: CredentialsClient::with_interceptor(channel, token),
            cache: Arc::new(Mutex::new(Cache {
                entries: HashMap::new(),
                next_sweep: Instant::now(),
            })),
            ttl: credentials.cache_ttl,
            capacity: credentials.cache_capacity,
        })
    }

    /// The environment `credential` opens, from the cache or config-api.
    pub async fn resolve(&self, credential: &str) -> Result<Arc<ResolvedCredential>, ResolveError> {
        let digest: [u8; 32] = Sha256::digest(credential.as_bytes()).into();
        if let Some(cached) = self.cached(&digest) {
            return cached.ok_or(ResolveError::Unknown);
        }
        let answer = self
            .client
            .clone()
            .resolve(ResolveRequest {
                credential: credential.to_owned(),
            })
            .await;
        let resolved = match answer {
            Ok(response) => {
                let response = response.into_inner();
                Some(Arc::new(ResolvedCredential {
                    kind: response.kind(),
                    environment_id: response.environment_id,
                    project_key: response.project_key,
                    environment_key: response.environment_key,
                }))
            }
            Err(status) if status.code() == Code::NotFound => None,
            Err(status) => return Err(ResolveError::Unavailable(status)),
        };
        self.remember(digest, resolved.clone());
        resolved.ok_or(ResolveError::Unknown)
    }

    /// `Some(answer)` while a cached answer is fresh.
    fn cached(&self, digest: &[u8; 32]) -> Option<Option<Arc<ResolvedCredential>>> {
        let cache = self.cache.lock().expect("the cache lock is never poisoned");
        cache
            .entries
            .get(digest)
            .filter(|entry| entry.expires_at > Instant::now())
            .map(|entry| entry.resolved.clone())
    }

    fn remember(&self, digest: [u8; 32], resolved: Option<Arc<ResolvedCredential>>) {
        if self.ttl.is_zero() || self.capacity == 0 {
            return;
        }
        let now = Instant::now();
        let mut cache = self.cache.lock().expect("the cache lock is never poisoned");
        let is_full = cache.entries.len() >= self.capacity;
        if is_full && !cache.entries.contains_key(&digest) {
            if now < cache.next_sweep {
                return;
            }
            cache.entries.retain(|_, entry| entry.expires_at > now);
            cache.next_sweep = now + self.ttl;
            if cache.entries.len() >= self.capacity {
                return;
            }
        }
        cache.entries.insert(
            digest,
            CacheEntry {
                resolved,
                expires_at: now + self.ttl,
            },
        );
    }
}
