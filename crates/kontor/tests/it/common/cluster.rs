//! Several nodes in one test: a private NATS server, one fresh PostgreSQL
//! database shared by the nodes' data directories, and `kontor serve`
//! processes wired to both.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kontor_client::kontor_wire::{EventFrame, WireEvent};
use kontor_client::{Client, EventStream};

use super::process::{ServerProcess, kontor_for};
use super::{Backend, EVENT_WAIT, database};

/// A private NATS server on a free loopback port, so one test can stop it.
pub struct Nats {
    child: Option<Child>,
    port: u16,
}

impl Nats {
    pub fn start() -> Nats {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut nats = Nats { child: None, port };
        nats.resume();
        nats
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// (Re)start the server on its port and wait until it accepts.
    pub fn resume(&mut self) {
        let bin = std::env::var("KONTOR_TEST_NATS_SERVER").unwrap_or_else(|_| "nats-server".into());
        let child = Command::new(&bin)
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One fresh database shared by the data directories of all nodes.
pub fn shared_database(dirs: &[&Path]) -> String {
    let admin = std::env::var("KONTOR_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("kontor_{}", super::txn().replace('-', "_"));
    let url = database::fresh_database(&admin, &name);
    for dir in dirs {
        std::fs::write(dir.join("test-database-url"), &url).expect("marker");
    }
    url
}

/// `kontor serve` on `dir` as a node of the cluster.
pub fn node(dir: &Path, nats: &Nats, files: &Backend) -> ServerProcess {
    node_with(dir, nats, files, &[])
}

/// [`node`] with more settings, as `KONTOR_*` variables.
pub fn node_with(
    dir: &Path,
    nats: &Nats,
    files: &Backend,
    settings: &[(&str, &str)],
) -> ServerProcess {
    let mut cmd = kontor_for(dir);
    cmd.env("KONTOR_EVENTS__NATS_URL", nats.url());
    cmd.envs(settings.iter().copied());
    if let Backend::S3(s3) = files {
        cmd.env("KONTOR_FILES__BACKEND", "s3")
            .env("KONTOR_S3__ENDPOINT", &s3.endpoint)
            .env("KONTOR_S3__REGION", &s3.region)
            .env("KONTOR_S3__BUCKET", &s3.bucket)
            .env("KONTOR_S3__PREFIX", &s3.prefix)
            .env("KONTOR_S3__ACCESS_KEY_ID", &s3.access_key_id)
            .env("KONTOR_S3__SECRET_ACCESS_KEY", &s3.secret_access_key)
            .env("KONTOR_S3__ALLOW_HTTP", "true");
    }
    ServerProcess::start_command(cmd, "serve", dir)
}

/// A client of the node at `url`, logged in as `user` with `password`.
pub async fn login(url: &str, user: &str, password: &str) -> Client {
    let mut c = Client::new(url).expect("client");
    c.login(user, password, Some("cluster-test"))
        .await
        .expect("login");
    c
}

/// The next frame, within [`EVENT_WAIT`].
pub async fn next(s: &mut EventStream) -> EventFrame {
    tokio::time::timeout(EVENT_WAIT, s.next())
        .await
        .expect("an event in time")
        .expect("stream open")
}

/// Skip frames until one matches `pred`.
pub async fn wait_for(s: &mut EventStream, mut pred: impl FnMut(&WireEvent) -> bool) -> EventFrame {
    loop {
        let f = next(s).await;
        if pred(&f.event) {
            return f;
        }
    }
}
