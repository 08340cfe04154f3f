//! Quality monitoring's own configuration: the `quality` section
//! (`docs/configuration.md`). The keys every service shares are
//! `ce_server::app::ServiceConfig`'s.

use ce_server::app::ServiceConfig;
use ce_server::config::ConfigError;
use serde::Deserialize;

/// The `quality` section: provincial scoring models (Art. 25) and how
/// often crediting's changes are followed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualityConfig {
    /// Folder of provincial scoring models (`*.toml`, each with a
    /// `province` key); empty for the national model only.
    #[serde(default)]
    pub models_dir: String,
    /// Seconds between reads of crediting's change feed, after which the
    /// institutions whose uploaded hours changed are rescored; 0 turns
    /// following off.
    #[serde(default = "follow_crediting_secs")]
    pub follow_crediting_secs: u64,
}

fn follow_crediting_secs() -> u64 {
    30
}

impl QualityConfig {
    /// Reads the `quality` section of `config`; an unknown key or a bad
    /// value stops start-up, naming the section and the key.
    pub fn of(config: &ServiceConfig) -> Result<QualityConfig, ConfigError> {
        config.section("quality")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_hold_until_a_key_is_set() {
        let mut c = ServiceConfig::load("quality", 0, None).unwrap();
        let own = QualityConfig::of(&c).unwrap();
        assert_eq!(
            (own.models_dir.as_str(), own.follow_crediting_secs),
            ("", 30)
        );
        c.set("quality.follow_crediting_secs", 0);
        c.set("quality.models_dir", "/etc/ce/models");
        let own = QualityConfig::of(&c).unwrap();
        assert_eq!(
            (own.models_dir.as_str(), own.follow_crediting_secs),
            ("/etc/ce/models", 0)
        );
        c.set("quality.follow_crediting_secs", "often");
        let e = QualityConfig::of(&c).unwrap_err().to_string();
        assert!(e.contains("for key `quality.follow_crediting_secs`"), "{e}");
    }
}
