//! Quality monitoring's tables, matching both backends' migrations (the
//! outbox's is `ce_server::outbox`).

diesel::table! {
    evaluations (id) {
        id -> Text,
        institution_id -> Text,
        period -> Text,
        learner -> Nullable<Text>,
        activity -> Nullable<Text>,
        score -> Integer,
        submitted_by -> Text,
        create_micros -> BigInt,
    }
}

diesel::table! {
    indicators (institution_id, period, indicator) {
        institution_id -> Text,
        period -> Text,
        indicator -> Integer,
        value -> Double,
        samples -> BigInt,
        source -> Text,
        take_micros -> BigInt,
    }
}

diesel::table! {
    scores (institution_id, period) {
        institution_id -> Text,
        period -> Text,
        province -> Text,
        field -> Integer,
        state -> Integer,
        score -> Double,
        grade -> Text,
        body -> Binary,
        compute_micros -> BigInt,
    }
}

diesel::table! {
    score_history (id) {
        id -> Text,
        institution_id -> Text,
        period -> Text,
        body -> Binary,
        compute_micros -> BigInt,
    }
}

diesel::table! {
    grade_changes (id) {
        id -> Text,
        institution_id -> Text,
        period -> Text,
        province -> Text,
        from_grade -> Nullable<Text>,
        to_grade -> Text,
        change_micros -> BigInt,
    }
}

diesel::table! {
    institution_fields (institution_id, field) {
        institution_id -> Text,
        field -> Integer,
    }
}

diesel::table! {
    period_closures (province, period) {
        province -> Text,
        period -> Text,
        closed -> Integer,
        changed_by -> Text,
        reason -> Nullable<Text>,
        change_micros -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(scores, institution_fields, grade_changes);
diesel::allow_columns_to_appear_in_same_group_by_clause!(
    scores::province,
    scores::state,
    scores::grade,
    institution_fields::field,
);
