//! Configuration: a TOML file, then `KONTOR_*` environment overrides, then
//! defaults that just work on a laptop.
//!
//! Environment variables name a key as `KONTOR_<SECTION>__<KEY>`, e.g.
//! `KONTOR_SERVER__LISTEN=0.0.0.0:8080` or `KONTOR_STORAGE__DATA_DIR=/var/lib/kontor`.
//! Values are parsed as TOML when they can be (numbers, booleans) and taken
//! as strings otherwise.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use kontor_storage::blobs::S3Settings;
use serde::{Deserialize, Serialize};

/// The whole configuration.
#[derive(Clone, Debug, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Network settings.
    pub server: ServerConfig,
    /// Where data lives.
    pub storage: StorageConfig,
    /// The database: embedded SQLite, or a shared PostgreSQL.
    pub database: DatabaseConfig,
    /// Real-time fan-out between nodes.
    pub events: EventsConfig,
    /// Attachments: where they live, sizes and quotas.
    pub files: FilesConfig,
    /// The S3-compatible bucket, when `files.backend = "s3"`.
    pub s3: S3Settings,
    /// Logging.
    pub log: LogConfig,
    /// The Prometheus endpoint.
    pub metrics: MetricsConfig,
    /// Showing colleagues who is online.
    pub presence: PresenceConfig,
    /// Cheap password hashes for test servers. Not read from a file and
    /// never written to one, so no deployment can weaken its hashes.
    #[serde(skip)]
    pub test_only_password_cost: crate::auth::PasswordCost,
}

/// Presence: whether people may show colleagues when they are online. Off
/// by default, because a system that shows who is at work is one the works
/// council has a say over (BetrVG §87(1) no. 6); turn it on once that is
/// agreed. Even then each person decides for themselves (off until they
/// turn it on), and nothing about it is stored. See docs/presence.md.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PresenceConfig {
    /// Offer presence at all.
    pub enabled: bool,
}

/// `/metrics`: on by default. Without a token it answers this host only
/// (a scraper on the same machine), since the numbers tell an outsider how
/// busy the installation is and which routes it uses; a token, or
/// `public = true`, opens it to other machines.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Serve `/metrics` at all.
    pub enabled: bool,
    /// When set, scrapes must send `Authorization: Bearer <token>`, from
    /// anywhere.
    pub token: String,
    /// Without a token, answer scrapes from other machines too (for a
    /// network where the port is reachable only by the monitoring).
    pub public: bool,
}

impl std::fmt::Debug for MetricsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsConfig")
            .field("enabled", &self.enabled)
            .field("public", &self.public)
            .field(
                "token",
                &if self.token.is_empty() {
                    ""
                } else {
                    "<redacted>"
                },
            )
            .finish()
    }
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            enabled: true,
            token: String::new(),
            public: false,
        }
    }
}

/// Attachments: how large one may be and how much a person or the whole
/// organisation may store. A quota of 0 means no limit.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilesConfig {
    /// `local` (under `<data_dir>/files`) or `s3` (the `[s3]` section).
    pub backend: FilesBackend,
    /// Largest upload in MiB.
    pub max_upload_mib: u64,
    /// Bytes one person may store in all, in MiB (0: no limit).
    pub user_quota_mib: u64,
    /// Bytes the organisation may store in all, in MiB (0: no limit).
    pub org_quota_mib: u64,
    /// Largest image (width × height, in megapixels) that is decoded for a
    /// thumbnail; larger ones are refused, so a decompression bomb cannot
    /// exhaust memory.
    pub max_image_megapixels: u64,
    /// Memory, in MiB, that decoding images may take at once on this
    /// server; uploads wait for room, and an image that would need more
    /// than all of it is refused. 100 megapixels of RGBA need 400 MB.
    pub image_memory_mib: u32,
    /// Hours an upload may wait for a message before the sweep removes it.
    pub keep_unsent_hours: u64,
}

impl Default for FilesConfig {
    fn default() -> Self {
        FilesConfig {
            backend: FilesBackend::Local,
            max_upload_mib: 100,
            user_quota_mib: 2048,
            org_quota_mib: 0,
            max_image_megapixels: 100,
            image_memory_mib: 512,
            keep_unsent_hours: 24,
        }
    }
}

impl FilesConfig {
    fn bytes(mib: u64) -> u64 {
        mib.saturating_mul(1024 * 1024)
    }

    /// Largest upload in bytes.
    pub fn max_upload_bytes(&self) -> u64 {
        Self::bytes(self.max_upload_mib)
    }

    /// The per-person quota in bytes, if any.
    pub fn user_quota_bytes(&self) -> Option<u64> {
        (self.user_quota_mib > 0).then(|| Self::bytes(self.user_quota_mib))
    }

    /// The organisation's quota in bytes, if any.
    pub fn org_quota_bytes(&self) -> Option<u64> {
        (self.org_quota_mib > 0).then(|| Self::bytes(self.org_quota_mib))
    }
}

/// Where attachment contents are kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FilesBackend {
    /// Files under `<data_dir>/files`: one node.
    #[default]
    Local,
    /// An S3-compatible bucket: what several nodes share.
    S3,
}

/// Network settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The URL users reach Kontor at (scheme, host, port), e.g.
    /// `https://chat.example.com`. WebSocket handshakes must come from this
    /// origin. When unset, the request's own `Host` is the allowed origin.
    pub public_url: Option<String>,
    /// Seconds to wait for in-flight requests at shutdown.
    pub shutdown_grace_seconds: u64,
    /// Reverse proxies (CIDR, e.g. `127.0.0.1/32`) whose `X-Forwarded-For`
    /// names the client; from anyone else the header is ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Connections open at once, in all (WebSockets included); beyond it a
    /// new connection is closed at once. Keep it below the process's
    /// open-file limit.
    pub max_connections: usize,
    /// Connections open at once from one client address (trusted proxies
    /// are exempt). An office behind one NAT address needs a few per person.
    pub max_connections_per_address: usize,
    /// Seconds a connection may take to send a request's head.
    pub header_timeout_seconds: u64,
    /// Seconds a request body may pause before the request is ended (408).
    pub body_timeout_seconds: u64,
    /// WebSockets one person may have open at once (devices and tabs).
    pub max_sockets_per_user: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            shutdown_grace_seconds: 10,
            trusted_proxies: Vec::new(),
            max_connections: 16_384,
            max_connections_per_address: 4_096,
            header_timeout_seconds: 10,
            body_timeout_seconds: 30,
            max_sockets_per_user: 32,
        }
    }
}

/// The database. Empty `url`: SQLite at `<data_dir>/kontor.db`, one node.
/// `postgres://user:password@host/db`: PostgreSQL, shared by every node.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// The PostgreSQL connection URL (TLS with `?sslmode=require`).
    pub url: String,
}

impl DatabaseConfig {
    /// Whether a PostgreSQL URL is configured.
    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres://") || self.url.starts_with("postgresql://")
    }
}

/// The URL with any password replaced, for logs and Debug output.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:<redacted>{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redact_url(&self.url))
            .finish()
    }
}

/// How nodes tell each other about commits and typing. Empty `nats_url`:
/// one node, nothing to tell. Needs PostgreSQL.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// The NATS server, e.g. `nats://127.0.0.1:4222` (credentials in the
    /// URL as `nats://user:password@host:port`).
    pub nats_url: String,
    /// Subject prefix, so several installations can share one NATS.
    pub nats_subject_prefix: String,
}

impl std::fmt::Debug for EventsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventsConfig")
            .field("nats_url", &redact_url(&self.nats_url))
            .field("nats_subject_prefix", &self.nats_subject_prefix)
            .finish()
    }
}

impl EventsConfig {
    /// The subject prefix, `kontor` unless configured.
    pub fn prefix(&self) -> &str {
        if self.nats_subject_prefix.is_empty() {
            "kontor"
        } else {
            &self.nats_subject_prefix
        }
    }
}

/// Where data lives.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Directory for the database and the local files.
    pub data_dir: PathBuf,
    /// Minutes between housekeeping runs: the file sweep and event log
    /// pruning (0: never).
    pub housekeeping_minutes: u64,
    /// Days events are kept for clients to resume from (0: forever). A
    /// client away for longer reloads its state instead.
    pub event_retention_days: u64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            data_dir: PathBuf::from("./kontor-data"),
            housekeeping_minutes: 60,
            event_retention_days: 30,
        }
    }
}

/// Logging.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: String,
    /// A tracing filter, e.g. `info` or `kontor_server=debug,info`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: "text".into(),
            level: "info".into(),
        }
    }
}

/// A configuration problem, with the offending source named.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file or an override is not valid.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

const ENV_PREFIX: &str = "KONTOR_";

impl Config {
    /// Load from an optional file plus the given environment variables.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Invalid(format!("{}: {e}", path.display())))?
            }
            None => toml::Table::new(),
        };
        for (key, value) in env {
            let Some(rest) = key.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let Some((section, field)) = rest.split_once("__") else {
                continue;
            };
            let (section, field) = (section.to_lowercase(), field.to_lowercase());
            let parsed = format!("v = {value}")
                .parse::<toml::Table>()
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or(toml::Value::String(value));
            let entry = table
                .entry(section.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(t) => {
                    t.insert(field, parsed);
                }
                _ => return Err(ConfigError::Invalid(format!("{section} is not a section"))),
            }
        }
        Config::deserialize(toml::Value::Table(table))
            .map_err(|e| ConfigError::Invalid(e.to_string()))
    }

    /// The SQLite database file.
    pub fn database_path(&self) -> PathBuf {
        self.storage.data_dir.join("kontor.db")
    }

    /// Where attachment contents live: `<data_dir>/files`.
    pub fn files_path(&self) -> PathBuf {
        self.storage.data_dir.join("files")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_file_and_defaults_fill_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("k.toml");
        std::fs::write(&file, "[server]\nlisten = \"127.0.0.1:9000\"\n").expect("write");
        let env = vec![
            ("KONTOR_STORAGE__DATA_DIR".to_owned(), "/tmp/x".to_owned()),
            (
                "KONTOR_SERVER__SHUTDOWN_GRACE_SECONDS".to_owned(),
                "3".to_owned(),
            ),
            ("PATH".to_owned(), "/bin".to_owned()),
        ];
        let c = Config::load(Some(&file), env).expect("config");
        assert_eq!(c.server.listen.port(), 9000);
        assert_eq!(c.server.shutdown_grace_seconds, 3);
        assert_eq!(c.storage.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(c.log.level, "info");
    }

    #[test]
    fn no_file_can_choose_test_password_hashes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("k.toml");
        std::fs::write(&file, "test_only_password_cost = \"TestsOnly\"\n").expect("write");
        let refused = Config::load(Some(&file), Vec::new());
        assert!(
            matches!(refused, Err(ConfigError::Invalid(_))),
            "{refused:?}"
        );
        let c = Config::load(None, Vec::new()).expect("config");
        assert_eq!(
            c.test_only_password_cost,
            crate::auth::PasswordCost::Standard
        );
    }

    #[test]
    fn s3_comes_from_the_environment_and_its_secret_is_never_printed() {
        let env = [
            ("KONTOR_FILES__BACKEND", "s3"),
            ("KONTOR_S3__BUCKET", "kontor-dateien"),
            ("KONTOR_S3__SECRET_ACCESS_KEY", "geheim-hunter2"),
            ("KONTOR_METRICS__TOKEN", "scrape-hunter3"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let c = Config::load(None, env).expect("config");
        assert_eq!(c.files.backend, FilesBackend::S3);
        assert_eq!(c.s3.bucket, "kontor-dateien");
        assert_eq!(c.s3.region, "us-east-1");
        assert_eq!(c.s3.secret_access_key, "geheim-hunter2");
        assert_eq!(c.metrics.token, "scrape-hunter3");
        let printed = format!("{c:?}");
        assert!(
            !printed.contains("hunter2") && !printed.contains("hunter3"),
            "{printed}"
        );
    }

    #[test]
    fn database_passwords_are_never_printed() {
        assert_eq!(
            redact_url("postgres://kontor:s3cret@db:5432/kontor"),
            "postgres://kontor:<redacted>@db:5432/kontor"
        );
        assert_eq!(redact_url("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
        let c = DatabaseConfig {
            url: "postgres://kontor:s3cret@db/kontor".into(),
        };
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(c.is_postgres());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let env = vec![("KONTOR_SERVER__LISTN".to_owned(), "x".to_owned())];
        assert!(Config::load(None, env).is_err());
    }
}
