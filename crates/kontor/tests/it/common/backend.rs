//! Which blob store a test runs against: the local directory, or an
//! S3-compatible server on loopback (started by `.ci/run`; its address and
//! keys come from `KONTOR_TEST_S3_*`). Each S3 test gets its own key
//! prefix, so tests share the bucket without seeing each other's files.

use std::sync::Arc;

use futures_util::StreamExt;
use kontor_server::config::{Config, FilesBackend, S3Settings};
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;

/// The blob store under test.
#[derive(Clone, Debug)]
pub enum Backend {
    /// `<data_dir>/files`.
    Local,
    /// A prefix in the test bucket.
    S3(S3Settings),
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

impl Backend {
    /// The loopback test bucket with the right keys and a fresh prefix.
    pub fn s3() -> Backend {
        Backend::S3(S3Settings {
            endpoint: env_or("KONTOR_TEST_S3_ENDPOINT", "http://127.0.0.1:8014"),
            region: "us-east-1".into(),
            bucket: env_or("KONTOR_TEST_S3_BUCKET", "kontor-test"),
            prefix: format!("t{}/", super::txn()),
            access_key_id: env_or("KONTOR_TEST_S3_ACCESS_KEY", "kontor-test"),
            secret_access_key: env_or("KONTOR_TEST_S3_SECRET_KEY", "kontor-test-secret"),
            allow_http: true,
        })
    }

    /// Point `config` at this backend.
    pub fn configure(&self, config: &mut Config) {
        match self {
            Backend::Local => config.files.backend = FilesBackend::Local,
            Backend::S3(s3) => {
                config.files.backend = FilesBackend::S3;
                config.s3 = s3.clone();
            }
        }
    }

    /// The names of every stored object, read past Kontor's own blob code
    /// (the directory itself, or a raw bucket listing), so a file stored
    /// under a name Kontor would not make still shows up.
    pub async fn stored_names(&self, data_dir: &std::path::Path) -> Vec<String> {
        let mut out = Vec::new();
        match self {
            Backend::Local => {
                let root = data_dir.join("files");
                for dir in std::fs::read_dir(&root).expect("files dir").flatten() {
                    if dir.file_name() == "staging" {
                        continue;
                    }
                    for f in std::fs::read_dir(dir.path()).expect("shard").flatten() {
                        out.push(f.file_name().to_string_lossy().into_owned());
                    }
                }
            }
            Backend::S3(s3) => {
                let store: Arc<dyn ObjectStore> = Arc::new(
                    AmazonS3Builder::new()
                        .with_endpoint(&s3.endpoint)
                        .with_region(&s3.region)
                        .with_bucket_name(&s3.bucket)
                        .with_access_key_id(&s3.access_key_id)
                        .with_secret_access_key(&s3.secret_access_key)
                        .with_allow_http(true)
                        .build()
                        .expect("test bucket client"),
                );
                let prefix = ObjectPath::from(s3.prefix.trim_end_matches('/'));
                let mut list = store.list(Some(&prefix));
                while let Some(meta) = list.next().await {
                    let meta = meta.expect("bucket listing");
                    if let Some(name) = meta.location.filename() {
                        out.push(name.to_owned());
                    }
                }
            }
        }
        out.sort();
        out
    }
}

/// Declares each named `async fn(Backend)` test twice: `local::name` runs
/// in every `cargo test`, `s3::name` needs the loopback S3 server.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod local {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::common::Backend::Local).await
                }
            )*
        }
        mod s3 {
            $(
                #[tokio::test]
                #[ignore = "needs an S3-compatible server (KONTOR_TEST_S3_ENDPOINT)"]
                async fn $name() {
                    super::$name($crate::common::Backend::s3()).await
                }
            )*
        }
    };
}
