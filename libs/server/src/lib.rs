//! The server stack every service of the suite shares.
//!
//! | module | holds |
//! |---|---|
//! | [`config`] | loading configuration: defaults, file, environment |
//! | [`auth`] | bearer tokens (Ed25519 JWT), the [`auth::Caller`], the auth layer, the dev key |
//! | [`context`] | request ids, tracing spans with W3C trace context, access log |
//! | [`body`] | response bodies that hold a call's permit and record its end |
//! | [`connection`] | idle connections closed, calls in flight counted per connection |
//! | [`limit`] | the concurrency limit that sheds load, held for a call's whole life |
//! | [`call`] | what a handler reads about its call, and audit rows |
//! | [`error`] | [`error::ApiError`] and its mapping to gRPC status |
//! | [`reason`] | why a call failed: the reasons of `ErrorInfo` (docs/errors.md), in two languages |
//! | [`paging`] | page tokens, and pages bounded in bytes |
//! | [`peer`] | calling other services: channels, service tokens, trace context |
//! | [`cursor`] | how far a service has read another service's feed |
//! | [`serve`] | the tower stack, health, reflection, graceful shutdown |
//! | [`web`] | gRPC-Web for the whole stack of a service browsers call |
//! | [`audit_service`] | verifying the audit log's seals (`ce.audit.v1`), and the sealer |
//! | [`app`] | a service's start-up: configuration, authenticator, database, serving, exit codes |
//! | [`outbox`] | effects on other services, stored with their cause and delivered with retries |
//! | [`scope`] | pieces every service's scope rules are built from (the rules stay in each service) |
//! | [`names`] | resource names (AIP-122, `{collection}/{id}`) and UUIDv7 ids |
//! | [`convert`] | conversions between wire types and the rules library that several services need |
//! | [`deployment`] | a deployment's scope: single, one province's system, or the national one |
//! | [`dates`] | calendar dates: stored text, `google.type.Date`, today in China Standard Time, the injected clock |
//! | [`hash`] | FNV-1a fingerprints stable across builds and replicas (digests, page tokens, lock keys) |

pub mod app;
pub mod audit_service;
pub mod auth;
pub mod body;
pub mod call;
pub mod config;
pub mod connection;
pub mod context;
pub mod convert;
pub mod cursor;
pub mod dates;
pub mod deployment;
pub mod error;
pub mod hash;
pub mod limit;
pub mod names;
pub mod outbox;
pub mod paging;
pub mod peer;
pub mod permit;
pub mod reason;
pub mod scope;
pub mod serve;
pub mod web;

pub use auth::{Authenticator, Caller};
pub use call::Call;
pub use error::{ApiError, FieldViolation, Violations};
