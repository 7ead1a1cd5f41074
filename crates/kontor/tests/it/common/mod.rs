//! Test harness: a real Kontor server on an ephemeral loopback port with a
//! fresh data directory, plus helpers to create people and logged-in
//! clients. Each test file includes this module.

#![allow(dead_code)]

mod backend;
pub mod cluster;
pub mod database;
pub mod matrix;
pub use backend::Backend;

use std::sync::Arc;
use std::time::Duration;

use kontor_client::kontor_wire::requests::CreateConversation;
use kontor_client::kontor_wire::{Conversation, EventFrame, WireEvent};
use kontor_client::{Client, EventStream};
use kontor_core::model::{OrgRole, User};
use kontor_server::Server;
use kontor_server::config::Config;
use kontor_server::service::accounts::{self, UserSpec};
use kontor_server::state::{AppState, Clock, SystemClock};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const PASSWORD: &str = "correct horse battery";

/// How long a test waits for an event that should arrive.
pub const EVENT_WAIT: Duration = Duration::from_secs(10);

/// A running test server.
pub struct TestServer {
    pub url: String,
    pub state: AppState,
    pub org_id: kontor_core::ids::OrgId,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    pub dir: tempfile::TempDir,
}

impl TestServer {
    /// Start a server with one organisation.
    pub async fn start() -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        TestServer::start_in(dir).await
    }

    /// Start a server whose files live in `backend`.
    pub async fn start_on(backend: &Backend) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        TestServer::start_configured(dir, |c| backend.configure(c)).await
    }

    /// Start a server on an existing data directory.
    pub async fn start_in(dir: tempfile::TempDir) -> TestServer {
        TestServer::start_configured(dir, |_| {}).await
    }

    /// Start a server with settings changed by `configure`.
    pub async fn start_configured(
        dir: tempfile::TempDir,
        configure: impl FnOnce(&mut Config),
    ) -> TestServer {
        TestServer::start_with_clock(dir, Arc::new(SystemClock), configure).await
    }

    /// [`TestServer::start_configured`] with a chosen clock.
    pub async fn start_with_clock(
        dir: tempfile::TempDir,
        clock: Arc<dyn Clock>,
        configure: impl FnOnce(&mut Config),
    ) -> TestServer {
        let mut config = Config::default();
        config.storage.data_dir = dir.path().to_owned();
        config.server.shutdown_grace_seconds = 2;
        config.test_only_password_cost = kontor_server::auth::PasswordCost::TestsOnly;
        if let Some(url) = database::database_url_for(dir.path()) {
            config.database.url = url;
        }
        configure(&mut config);
        let server = Server::open_with_clock(config, clock)
            .await
            .expect("server opens");
        let state = server.state().clone();
        let org_id = match accounts::org_by_name(&state, "Testfirma GmbH")
            .await
            .expect("org lookup")
        {
            Some(o) => o.id,
            None => {
                accounts::create_org(&state, "Testfirma GmbH")
                    .await
                    .expect("org")
                    .id
            }
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server
                .serve(listener, async move {
                    let _ = stopped.await;
                })
                .await
                .expect("serve");
        });
        TestServer {
            url,
            state,
            org_id,
            stop: Some(stop),
            task: Some(task),
            dir,
        }
    }

    /// Create a user with the test password.
    pub async fn user(&self, username: &str) -> User {
        let display = format!("{username} Testperson");
        accounts::create_user(
            &self.state,
            UserSpec {
                org_id: self.org_id,
                username,
                email: Some(&format!("{username}@testfirma.example")),
                display_name: &display,
                password: PASSWORD,
                org_role: OrgRole::Member,
            },
        )
        .await
        .expect("user created")
    }

    /// A client logged in as `username` (creating the user first).
    pub async fn client(&self, username: &str) -> (Client, User) {
        let user = self.user(username).await;
        let client = self.login(username).await;
        (client, user)
    }

    /// A client logged in as an existing user.
    pub async fn login(&self, username: &str) -> Client {
        let mut client = Client::new(&self.url).expect("client");
        client
            .login(username, PASSWORD, Some("test"))
            .await
            .expect("login");
        client
    }

    /// Stop the server and return its data directory.
    pub async fn stop(self) -> tempfile::TempDir {
        let TestServer {
            state,
            stop,
            task,
            dir,
            ..
        } = self;
        // The storage writer finishes once every handle is gone, ours too.
        drop(state);
        if let Some(s) = stop {
            let _ = s.send(());
        }
        if let Some(t) = task {
            let _ = t.await;
        }
        dir
    }
}

/// Show (or hide) the client's presence; returns the settings after it.
pub async fn share_presence(client: &Client, share: bool) -> kontor_client::kontor_wire::Me {
    let me = client
        .update_me(&kontor_client::kontor_wire::requests::UpdateMe {
            share_presence: Some(share),
        })
        .await
        .expect("settings saved");
    assert_eq!(me.share_presence, share);
    me
}

/// Open the event stream and consume the `hello`, returning its position.
pub async fn events(client: &Client) -> (EventStream, i64) {
    let mut s = client.events(None).await.expect("event stream");
    match next(&mut s).await.event {
        WireEvent::Hello { position, .. } => (s, position),
        other => panic!("expected hello, got {other:?}"),
    }
}

/// Reconnect resuming after `after`, with the `hello` consumed: the next
/// frame is the replay (or the order to resync).
pub async fn resume_from(client: &Client, after: i64) -> EventStream {
    let mut s = client.events(Some(after)).await.expect("event stream");
    match next(&mut s).await.event {
        WireEvent::Hello { .. } => s,
        other => panic!("expected hello, got {other:?}"),
    }
}

/// The next frame, failing the test if none arrives in time.
pub async fn next(s: &mut EventStream) -> EventFrame {
    match tokio::time::timeout(EVENT_WAIT, s.next()).await {
        Ok(Ok(f)) => f,
        Ok(Err(closed)) => panic!("stream closed: {closed:?}"),
        Err(_) => panic!("no event within {EVENT_WAIT:?}"),
    }
}

/// Skip frames until one matches, failing if the stream ends first.
pub async fn next_matching(
    s: &mut EventStream,
    mut pred: impl FnMut(&WireEvent) -> bool,
) -> EventFrame {
    loop {
        let f = next(s).await;
        if pred(&f.event) {
            return f;
        }
    }
}

/// Assert that no frame matching `pred` arrives before a marker event.
/// The caller triggers the marker after the action under test: because
/// events are delivered in stream order, the marker's arrival proves that
/// anything that would have been delivered before it has been.
pub async fn assert_none_before_marker(
    s: &mut EventStream,
    mut pred: impl FnMut(&WireEvent) -> bool,
    mut is_marker: impl FnMut(&WireEvent) -> bool,
) {
    loop {
        let f = next(s).await;
        assert!(!pred(&f.event), "unexpected event {:?}", f.event);
        if is_marker(&f.event) {
            return;
        }
    }
}

/// A fresh transaction id.
pub fn txn() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "t-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A send request with a fresh transaction id.
pub fn text(t: &str) -> kontor_client::kontor_wire::requests::SendMessage {
    kontor_client::kontor_wire::requests::SendMessage {
        txn_id: txn(),
        text: t.to_owned(),
        ..Default::default()
    }
}

pub mod process;

/// `client` creates a group with the given other members.
pub async fn group(client: &Client, name: &str, user_ids: &[i64]) -> Conversation {
    create(client, "group", Some(name), user_ids).await
}

/// `client` opens (or finds) the direct conversation with `peer`.
pub async fn direct(client: &Client, peer: i64) -> Conversation {
    create(client, "direct", None, &[peer]).await
}

/// `client` creates a private channel.
pub async fn channel(client: &Client, name: &str) -> Conversation {
    create(client, "channel", Some(name), &[]).await
}

async fn create(client: &Client, kind: &str, name: Option<&str>, user_ids: &[i64]) -> Conversation {
    let req = CreateConversation {
        kind: kind.into(),
        name: name.map(str::to_owned),
        user_ids: user_ids.to_vec(),
        ..Default::default()
    };
    client
        .create_conversation(&req)
        .await
        .expect("conversation created")
        .0
}

/// The value of the first `/metrics` sample line that starts with `series`.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// One series of the server's open `/metrics`, now; `None` while it has
/// no sample yet.
pub async fn metric(srv: &TestServer, series: &str) -> Option<f64> {
    let text = reqwest::get(format!("{}/metrics", srv.url))
        .await
        .expect("scrape")
        .text()
        .await
        .expect("metrics text");
    sample(&text, series)
}

/// The system clock plus an offset a test moves forward, so time-based
/// limits can be crossed without waiting.
#[derive(Default)]
pub struct ManualClock {
    offset_ms: std::sync::atomic::AtomicI64,
}

impl ManualClock {
    /// Move the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).expect("duration in range");
        self.offset_ms
            .fetch_add(ms, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> kontor_core::model::Timestamp {
        let base = SystemClock.now().0;
        kontor_core::model::Timestamp(
            base + self.offset_ms.load(std::sync::atomic::Ordering::Relaxed),
        )
    }
}
