//! Tables that several services have in their own databases, each created by
//! the service's own migrations (the audit log's are in [`crate::audit`] and
//! [`crate::seal`], created for every service by this crate's migrations).

diesel::table! {
    /// Effects on other services, stored with the change that causes them
    /// and delivered by `ce_server::outbox` (supervision, quality).
    outbox (id) {
        id -> Text,
        /// What caused it: a violation, a score.
        cause -> Text,
        /// Which RPC of which peer, e.g. `registry.ChangeInstitutionStanding`.
        method -> Text,
        /// The request, protobuf-encoded.
        payload -> Binary,
        attempts -> Integer,
        next_attempt_micros -> BigInt,
        last_error -> Nullable<Text>,
        create_micros -> BigInt,
        delivered_micros -> Nullable<BigInt>,
        /// The W3C traceparent of the change that caused it: delivery
        /// continues that trace.
        trace_parent -> Nullable<Text>,
    }
}

diesel::table! {
    /// How far a service has read another's change feed, read and moved by
    /// `ce_server::cursor` (crediting, quality).
    feed_cursors (feed) {
        /// Which feed, e.g. `crediting`.
        feed -> Text,
        /// The last sequence read.
        sequence -> BigInt,
    }
}
