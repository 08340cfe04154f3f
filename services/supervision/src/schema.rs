//! Supervision's tables, matching both backends' migrations.

diesel::table! {
    violations (id) {
        id -> Text,
        institution_id -> Nullable<Text>,
        engineer_id -> Nullable<Text>,
        category -> Integer,
        state -> Integer,
        province -> Text,
        field -> Integer,
        body -> Binary,
        recorded_by -> Text,
        request_id -> Nullable<Text>,
        request_digest -> Nullable<Text>,
        create_micros -> BigInt,
        update_micros -> BigInt,
        deadline -> Nullable<Text>,
        fields -> Text,
        employer_id -> Nullable<Text>,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        employer_id -> Text,
        violation_id -> Text,
        province -> Text,
        body -> Binary,
        create_micros -> BigInt,
        acknowledge_micros -> Nullable<BigInt>,
        department -> Nullable<Text>,
    }
}

diesel::table! {
    draw_secrets (inspection_id) {
        inspection_id -> Text,
        seed_hex -> Text,
    }
}

diesel::table! {
    quality_results (id) {
        id -> Text,
        violation_id -> Nullable<Text>,
        poor -> Integer,
        compute_micros -> BigInt,
    }
}

diesel::table! {
    inspections (id) {
        id -> Text,
        province -> Text,
        field -> Integer,
        state -> Integer,
        body -> Binary,
        created_by -> Text,
        create_micros -> BigInt,
        update_micros -> BigInt,
    }
}

diesel::table! {
    referrals (id) {
        id -> Text,
        department -> Text,
        province -> Text,
        resolved -> Integer,
        body -> Binary,
        create_micros -> BigInt,
    }
}
