//! The server under test: a `kontor serve` child process on a loopback
//! port, so its CPU and memory can be read from `/proc` apart from the load
//! generator's.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A running server.
pub struct ServerUnderTest {
    child: Child,
    /// Base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    /// Time from spawning the process to the first successful `/readyz`.
    pub startup: Duration,
}

/// The `kontor` binary next to this one (both live in `target/<profile>`).
pub fn default_binary() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("kontor")))
        .unwrap_or_else(|| PathBuf::from("kontor"))
}

impl ServerUnderTest {
    /// Start `binary serve` on `data_dir` (and the PostgreSQL database at
    /// `database_url`, if given) and wait until it is ready.
    pub async fn start(
        binary: &Path,
        data_dir: &Path,
        database_url: Option<&str>,
    ) -> anyhow::Result<ServerUnderTest> {
        let started = Instant::now();
        let mut command = Command::new(binary);
        if let Some(url) = database_url {
            command.env("KONTOR_DATABASE__URL", url);
        }
        // Every simulated client connects from 127.0.0.1: lift the caps
        // meant for real addresses (the process's file limit still binds).
        for (key, value) in [
            ("KONTOR_SERVER__MAX_CONNECTIONS", "1000000"),
            ("KONTOR_SERVER__MAX_CONNECTIONS_PER_ADDRESS", "1000000"),
            ("KONTOR_SERVER__MAX_SOCKETS_PER_USER", "1000000"),
        ] {
            command.env(key, value);
        }
        let mut child = command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env(
                "KONTOR_LOG",
                std::env::var("KONTOR_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("start {}", binary.display()))?;
        let stdout = child.stdout.take().context("server stdout")?;
        let url = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stdout).lines();
            let url = loop {
                match lines.next() {
                    Some(Ok(line)) => {
                        if let Some(u) = line.strip_prefix("kontor listening on ") {
                            break Some(u.trim().to_owned());
                        }
                    }
                    _ => break None,
                }
            };
            std::thread::spawn(move || for _ in lines {});
            url
        })
        .await?
        .context("the server exited before listening")?;
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = http.get(format!("{url}/readyz")).send().await
                && r.status().is_success()
            {
                break;
            }
            if Instant::now() > deadline {
                bail!("the server did not become ready");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok(ServerUnderTest {
            startup: started.elapsed(),
            child,
            url,
        })
    }

    /// Process id, for `/proc`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stop the server (SIGKILL: its shutdown is not what is measured).
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerUnderTest {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
