//! The registry's tables, as diesel sees them. Written by hand to match both
//! backends' migrations under `migrations/`.

diesel::table! {
    employers (id) {
        id -> Text,
        credit_code -> Text,
        display_name -> Text,
        kind -> Integer,
        province -> Text,
        create_micros -> BigInt,
        update_micros -> BigInt,
    }
}

diesel::table! {
    engineers (id) {
        id -> Text,
        id_number -> Text,
        display_name -> Text,
        province -> Text,
        field -> Integer,
        title_level -> Integer,
        employer_id -> Nullable<Text>,
        create_micros -> BigInt,
        update_micros -> BigInt,
        place_sequence -> BigInt,
    }
}

diesel::table! {
    engineer_moves (id) {
        id -> BigInt,
        engineer_id -> Text,
        from_province -> Text,
        to_province -> Text,
        at_micros -> BigInt,
        request_id -> Text,
    }
}

diesel::table! {
    engineer_changes (sequence) {
        sequence -> BigInt,
        engineer_id -> Text,
        province -> Text,
        employer_id -> Nullable<Text>,
        field -> Integer,
        change_micros -> BigInt,
    }
}

diesel::table! {
    engineer_change_head (id) {
        id -> Integer,
        sequence -> BigInt,
    }
}

diesel::table! {
    institutions (id) {
        id -> Text,
        code -> Text,
        display_name -> Text,
        province -> Text,
        fields -> Text,
        delivery_modes -> Text,
        disclosure_scope -> Text,
        disclosure_content -> Text,
        fee_items -> Text,
        standing -> Integer,
        standing_effective_date -> Text,
        next_change_date -> Nullable<Text>,
        create_micros -> BigInt,
        update_micros -> BigInt,
        quality_grade -> Nullable<Text>,
        quality_period -> Nullable<Text>,
        quality_model -> Nullable<Text>,
        quality_compute_micros -> Nullable<BigInt>,
    }
}

diesel::table! {
    standing_changes (id) {
        id -> Text,
        institution_id -> Text,
        standing -> Integer,
        reason -> Text,
        effective_date -> Text,
        article -> Text,
        case_reference -> Text,
        changed_by -> Text,
        changed_by_role -> Text,
        request_id -> Nullable<Text>,
        request_digest -> Nullable<Text>,
        create_micros -> BigInt,
    }
}

diesel::table! {
    activities (id) {
        id -> Text,
        title -> Text,
        organiser_kind -> Integer,
        organiser -> Text,
        province -> Text,
        field -> Integer,
        subject_category -> Integer,
        delivery_mode -> Integer,
        start_date -> Text,
        end_date -> Text,
        hours_per_day -> Double,
        fee_fen -> BigInt,
        create_micros -> BigInt,
        update_micros -> BigInt,
    }
}

diesel::joinable!(engineers -> employers (employer_id));
diesel::joinable!(engineer_moves -> engineers (engineer_id));
diesel::joinable!(engineer_changes -> engineers (engineer_id));
diesel::joinable!(standing_changes -> institutions (institution_id));
diesel::allow_tables_to_appear_in_same_query!(
    employers,
    engineers,
    engineer_changes,
    engineer_moves,
    institutions,
    standing_changes,
    activities
);
