//! Crediting's tables, matching both backends' migrations.

diesel::table! {
    hour_records (id) {
        id -> Text,
        engineer_id -> Text,
        year -> Integer,
        province -> Text,
        field -> Integer,
        employer_id -> Nullable<Text>,
        route -> Integer,
        state -> Integer,
        activity -> Binary,
        registry_activity -> Text,
        institution_id -> Nullable<Text>,
        claimed_centi -> Nullable<BigInt>,
        submitted_by -> Text,
        submitted_role -> Text,
        submitter -> Text,
        client_key -> Nullable<Text>,
        content_digest -> Text,
        decided_by -> Nullable<Text>,
        decision_reason -> Nullable<Text>,
        explanation -> Nullable<Binary>,
        create_micros -> BigInt,
        update_micros -> BigInt,
        make_up_for -> Nullable<Integer>,
        supersedes -> Nullable<Text>,
        last_year -> Integer,
        /// The request that created the record (its audit row's request id).
        request_id -> Nullable<Text>,
        /// Its position in the change feed: set when it is created and
        /// whenever its state changes.
        feed_seq -> Nullable<BigInt>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(claims, hour_records);

diesel::table! {
    claims (record_id) {
        record_id -> Text,
        engineer_id -> Text,
        evidence_key -> Text,
    }
}

diesel::table! {
    deferrals (engineer_id, year) {
        engineer_id -> Text,
        year -> Integer,
        reason -> Integer,
        explanation -> Text,
        certified_by -> Text,
        create_micros -> BigInt,
    }
}

diesel::table! {
    annual_statuses (engineer_id, year) {
        engineer_id -> Text,
        year -> Integer,
        province -> Text,
        field -> Integer,
        employer_id -> Nullable<Text>,
        state -> Integer,
        total_centi -> BigInt,
        professional_centi -> BigInt,
        computed_on -> Text,
        update_micros -> BigInt,
        body_digest -> Nullable<BigInt>,
        rule_set -> Nullable<Text>,
        verdict -> Binary,
    }
}

diesel::table! {
    /// Each status's body: its encoding without the verdict's fields.
    annual_status_bodies (engineer_id, year) {
        engineer_id -> Text,
        year -> Integer,
        body -> Binary,
    }
}

diesel::allow_tables_to_appear_in_same_query!(annual_statuses, annual_status_bodies, deferrals);

diesel::table! {
    changes (seq) {
        seq -> BigInt,
        kind -> Integer,
        resource_id -> Text,
        year -> Integer,
        province -> Text,
        create_micros -> BigInt,
    }
}

diesel::table! {
    feed_head (id) {
        id -> Integer,
        seq -> BigInt,
    }
}

diesel::table! {
    hour_certificates (id) {
        id -> Text,
        engineer_id -> Text,
        year -> Integer,
        province -> Text,
        field -> Integer,
        employer_id -> Nullable<Text>,
        credential -> Text,
        issued_by -> Text,
        create_micros -> BigInt,
        revoke_micros -> Nullable<BigInt>,
        revocation_reason -> Nullable<Text>,
        /// Its bit in the revocation status list; none only where a
        /// database has not been migrated yet.
        status_index -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// The next status-list number to give (one row, id 1).
    status_list_head (id) {
        id -> Integer,
        next_index -> BigInt,
    }
}

diesel::table! {
    /// The last registry engineer change applied to each engineer.
    followed_engineers (engineer_id) {
        engineer_id -> Text,
        sequence -> BigInt,
        province -> Nullable<Text>,
        field -> Nullable<Integer>,
        employer_id -> Nullable<Text>,
    }
}
