//! The reference lists as messages: the Art. 29 fields and the regions.

use ce_proto::reference::{FIELDS, REGIONS};
use ce_proto::registry::{FieldInfo, ListFieldsResponse, ListProvincesResponse, Province};

pub fn fields() -> ListFieldsResponse {
    ListFieldsResponse {
        fields: FIELDS
            .iter()
            .map(|(f, zh, en)| FieldInfo {
                field: *f as i32,
                name_zh: (*zh).to_owned(),
                name_en: (*en).to_owned(),
            })
            .collect(),
    }
}

pub fn provinces() -> ListProvincesResponse {
    ListProvincesResponse {
        provinces: REGIONS
            .iter()
            .map(|r| Province {
                code: r.code.to_owned(),
                name_zh: r.name_zh.to_owned(),
                name_en: r.name_en.to_owned(),
            })
            .collect(),
    }
}
