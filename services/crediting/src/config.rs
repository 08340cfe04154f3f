//! Crediting's own configuration: the `crediting` and `certificates`
//! sections (`docs/configuration.md`). The keys every service shares are
//! `ce_server::app::ServiceConfig`'s.

use ce_server::app::ServiceConfig;
use ce_server::config::ConfigError;
use serde::Deserialize;

/// Crediting's sections, checked and defaulted.
#[derive(Debug, Clone)]
pub struct Config {
    pub crediting: CreditingConfig,
    pub certificates: CertificatesConfig,
}

impl Config {
    /// Reads crediting's sections of `config`; an unknown key or a bad
    /// value stops start-up, naming the section and the key.
    pub fn of(config: &ServiceConfig) -> Result<Config, ConfigError> {
        Ok(Config {
            crediting: config.section("crediting")?,
            certificates: config.section("certificates")?,
        })
    }
}

/// The `crediting` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditingConfig {
    /// Seconds between reads of the registry's changes of where engineers
    /// are, after which the open years of engineers who moved are put
    /// under their new province, employer and field (Art. 22); 0 turns
    /// following off.
    #[serde(default = "follow_registry_secs")]
    pub follow_registry_secs: u64,
    /// Whether crediting, once started, reassesses in the background the
    /// stored years assessed under other rules than now (an overlay
    /// edited, a rules fix released; see docs/rules.md).
    #[serde(default = "reassess_on_start")]
    pub reassess_on_start: bool,
}

fn follow_registry_secs() -> u64 {
    5
}

fn reassess_on_start() -> bool {
    true
}

/// The `certificates` section: how crediting signs hour certificates
/// (Art. 15, 21).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificatesConfig {
    /// The issuer's identifier in every certificate, a DID or URL.
    #[serde(default = "issuer")]
    pub issuer: String,
    /// The issuer's name in every certificate.
    #[serde(default = "issuer_name")]
    pub issuer_name: String,
    /// Ed25519 private key (PKCS#8 PEM) that signs certificates. Required in
    /// production; in development a key is made under the data folder.
    #[serde(default)]
    pub signing_key_path: Option<String>,
    /// Where verifiers fetch the revocation status lists, without the
    /// list's number: list `n` is `{status_list_base_url}/{n}`, which
    /// crediting serves at `/credentials/status/{n}`. Unset: derived from a
    /// `did:web` issuer's host (`https://{host}/credentials/status`); with
    /// another issuer and no URL, certificates carry no status entry
    /// (docs/architecture.md, "Certificates anyone can verify").
    #[serde(default)]
    pub status_list_base_url: Option<String>,
}

fn issuer() -> String {
    "did:web:ce.mohrss.example".into()
}

fn issuer_name() -> String {
    "Continuing Education Crediting Service (development)".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_hold_until_a_key_is_set_and_unknown_keys_are_refused() {
        let mut c = ServiceConfig::load("crediting", 0, None).unwrap();
        let own = Config::of(&c).unwrap();
        assert_eq!(own.crediting.follow_registry_secs, 5);
        assert!(own.crediting.reassess_on_start);
        assert_eq!(own.certificates.issuer, "did:web:ce.mohrss.example");
        assert_eq!(own.certificates.signing_key_path, None);
        assert_eq!(own.certificates.status_list_base_url, None);
        c.set("crediting.follow_registry_secs", 0);
        assert_eq!(Config::of(&c).unwrap().crediting.follow_registry_secs, 0);
        c.set("crediting.follow_registy_secs", 1);
        let e = Config::of(&c).unwrap_err().to_string();
        assert!(
            e.contains("unknown field `follow_registy_secs`") && e.contains("for key `crediting`"),
            "{e}"
        );
    }
}
