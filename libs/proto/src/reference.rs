//! Reference data tied to the proto enums: the Art. 29 field names and the
//! province-level regions. Served by the registry's `ListFields` and
//! `ListProvinces`, and used wherever a code is validated.

use crate::common::Field;

/// A province-level region: GB/T 2260 two-digit code, Chinese and English
/// names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub code: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
}

/// The code used for a national (ministry-level) activity or scope.
pub const NATIONAL: &str = "00";

/// The province-level units of GB/T 2260 on the mainland, plus the Xinjiang
/// Production and Construction Corps, which has its own HRSS bureau and no
/// GB/T 2260 code of its own; "66" is the code national statistics use for it.
pub const REGIONS: &[Region] = &[
    Region {
        code: "11",
        name_zh: "北京市",
        name_en: "Beijing",
    },
    Region {
        code: "12",
        name_zh: "天津市",
        name_en: "Tianjin",
    },
    Region {
        code: "13",
        name_zh: "河北省",
        name_en: "Hebei",
    },
    Region {
        code: "14",
        name_zh: "山西省",
        name_en: "Shanxi",
    },
    Region {
        code: "15",
        name_zh: "内蒙古自治区",
        name_en: "Inner Mongolia",
    },
    Region {
        code: "21",
        name_zh: "辽宁省",
        name_en: "Liaoning",
    },
    Region {
        code: "22",
        name_zh: "吉林省",
        name_en: "Jilin",
    },
    Region {
        code: "23",
        name_zh: "黑龙江省",
        name_en: "Heilongjiang",
    },
    Region {
        code: "31",
        name_zh: "上海市",
        name_en: "Shanghai",
    },
    Region {
        code: "32",
        name_zh: "江苏省",
        name_en: "Jiangsu",
    },
    Region {
        code: "33",
        name_zh: "浙江省",
        name_en: "Zhejiang",
    },
    Region {
        code: "34",
        name_zh: "安徽省",
        name_en: "Anhui",
    },
    Region {
        code: "35",
        name_zh: "福建省",
        name_en: "Fujian",
    },
    Region {
        code: "36",
        name_zh: "江西省",
        name_en: "Jiangxi",
    },
    Region {
        code: "37",
        name_zh: "山东省",
        name_en: "Shandong",
    },
    Region {
        code: "41",
        name_zh: "河南省",
        name_en: "Henan",
    },
    Region {
        code: "42",
        name_zh: "湖北省",
        name_en: "Hubei",
    },
    Region {
        code: "43",
        name_zh: "湖南省",
        name_en: "Hunan",
    },
    Region {
        code: "44",
        name_zh: "广东省",
        name_en: "Guangdong",
    },
    Region {
        code: "45",
        name_zh: "广西壮族自治区",
        name_en: "Guangxi",
    },
    Region {
        code: "46",
        name_zh: "海南省",
        name_en: "Hainan",
    },
    Region {
        code: "50",
        name_zh: "重庆市",
        name_en: "Chongqing",
    },
    Region {
        code: "51",
        name_zh: "四川省",
        name_en: "Sichuan",
    },
    Region {
        code: "52",
        name_zh: "贵州省",
        name_en: "Guizhou",
    },
    Region {
        code: "53",
        name_zh: "云南省",
        name_en: "Yunnan",
    },
    Region {
        code: "54",
        name_zh: "西藏自治区",
        name_en: "Tibet",
    },
    Region {
        code: "61",
        name_zh: "陕西省",
        name_en: "Shaanxi",
    },
    Region {
        code: "62",
        name_zh: "甘肃省",
        name_en: "Gansu",
    },
    Region {
        code: "63",
        name_zh: "青海省",
        name_en: "Qinghai",
    },
    Region {
        code: "64",
        name_zh: "宁夏回族自治区",
        name_en: "Ningxia",
    },
    Region {
        code: "65",
        name_zh: "新疆维吾尔自治区",
        name_en: "Xinjiang",
    },
    Region {
        code: "66",
        name_zh: "新疆生产建设兵团",
        name_en: "Xinjiang Production and Construction Corps",
    },
];

/// The region with this code, if it is one.
pub fn region(code: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|r| r.code == code)
}

/// The Art. 29 fields with their names, in the order of the article.
pub const FIELDS: &[(Field, &str, &str)] = &[
    (
        Field::GeologicalExploration,
        "地质勘探",
        "Geological exploration",
    ),
    (
        Field::SurveyingMappingGeoinformation,
        "测绘和地理信息",
        "Surveying, mapping and geoinformation",
    ),
    (Field::Mining, "矿山", "Mining"),
    (Field::OilAndGas, "石油天然气", "Oil and gas"),
    (Field::Metallurgy, "冶金", "Metallurgy"),
    (Field::ChemicalEngineering, "化工", "Chemical engineering"),
    (Field::Machinery, "机械", "Machinery"),
    (Field::Aeronautics, "航空", "Aeronautics"),
    (Field::Electronics, "电子", "Electronics"),
    (
        Field::InformationAndCommunications,
        "信息和通信",
        "Information and communications",
    ),
    (
        Field::ElectricalEngineering,
        "电气",
        "Electrical engineering",
    ),
    (Field::ElectricPower, "电力", "Electric power"),
    (Field::PostalAndExpress, "邮政和快递", "Postal and express"),
    (
        Field::BroadcastingFilmTvPerformanceEquipment,
        "广播电影电视及演艺设备",
        "Broadcasting, film, TV and performance equipment",
    ),
    (
        Field::RoadAndWaterwayTransport,
        "道路和水上运输",
        "Road and waterway transport",
    ),
    (Field::CivilAviation, "民用航空", "Civil aviation"),
    (Field::Railways, "铁道", "Railways"),
    (Field::Construction, "建筑", "Construction"),
    (Field::BuildingMaterials, "建材", "Building materials"),
    (Field::Agriculture, "农业", "Agriculture"),
    (
        Field::ForestryAndGrassland,
        "林草",
        "Forestry and grassland",
    ),
    (Field::WaterResources, "水利", "Water resources"),
    (Field::Marine, "海洋", "Marine"),
    (
        Field::TextilesAndApparel,
        "纺织服装",
        "Textiles and apparel",
    ),
    (Field::Food, "食品", "Food"),
    (Field::Meteorology, "气象", "Meteorology"),
    (Field::Seismology, "地震", "Seismology"),
    (
        Field::EnvironmentalProtection,
        "环境保护",
        "Environmental protection",
    ),
    (Field::Safety, "安全", "Safety"),
    (
        Field::IndustrialManagement,
        "管理（工业）",
        "Industrial management",
    ),
    (
        Field::InspectionAndQuarantine,
        "检验检疫",
        "Inspection and quarantine",
    ),
    (Field::Pharmaceuticals, "制药", "Pharmaceuticals"),
    (
        Field::PrintingAndReproduction,
        "印刷复制",
        "Printing and reproduction",
    ),
    (
        Field::IndustrialDesign,
        "工业（产品）设计",
        "Industrial (product) design",
    ),
    (Field::RehabilitationAids, "康复辅具", "Rehabilitation aids"),
    (Field::LightIndustry, "轻工", "Light industry"),
    (
        Field::SpatialPlanningAndEcologicalRestoration,
        "国土空间规划与生态修复",
        "Territorial spatial planning and ecological restoration",
    ),
    (Field::DigitalTechnology, "数字技术", "Digital technology"),
    (Field::Standardisation, "标准化", "Standardisation"),
    (Field::Metrology, "计量", "Metrology"),
    (
        Field::QualityCertificationAccreditation,
        "质量和认证认可",
        "Quality, certification and accreditation",
    ),
    (Field::Other, "其他工程技术领域", "Other engineering fields"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_of_art_29_is_listed_once_and_other_is_last() {
        assert_eq!(FIELDS.len(), 42);
        for (i, (f, _, _)) in FIELDS.iter().enumerate() {
            assert_eq!(*f as usize, i + 1, "field order follows Art. 29");
        }
        assert_eq!(FIELDS.last().map(|f| f.0), Some(Field::Other));
    }

    #[test]
    fn regions_are_the_31_mainland_units_and_the_corps() {
        assert_eq!(REGIONS.len(), 32);
        assert!(region("44").is_some());
        assert!(
            region("71").is_none(),
            "Taiwan is outside the suite's scope"
        );
        assert!(region(NATIONAL).is_none());
    }
}
