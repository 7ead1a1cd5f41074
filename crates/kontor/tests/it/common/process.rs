//! The `kontor` binary as a child process, for tests that need a real
//! process: crash safety, the admin commands, the demo and the CLI client.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub fn kontor() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kontor"));
    cmd.env_remove("KONTOR_CONFIG")
        .env_remove("KONTOR_URL")
        .env_remove("KONTOR_SESSION_FILE")
        .env_remove("KONTOR_DATABASE__URL")
        .env_remove("KONTOR_EVENTS__NATS_URL")
        .env("KONTOR_LOG", "warn");
    cmd
}

/// The binary, pointed at the test database of `data_dir` when the run
/// is on PostgreSQL (see `database`).
pub fn kontor_for(data_dir: &Path) -> Command {
    let mut cmd = kontor();
    if let Some(url) = super::database::database_url_for(data_dir) {
        cmd.env("KONTOR_DATABASE__URL", url);
    }
    cmd
}

/// Run `kontor args…` to completion, feeding `stdin`. An argument after
/// `--data-dir` picks the test database too.
pub fn run(args: &[&str], stdin: &str) -> Output {
    let data_dir = args
        .iter()
        .position(|a| *a == "--data-dir")
        .and_then(|i| args.get(i + 1));
    let mut cmd = match data_dir {
        Some(dir) => kontor_for(Path::new(dir)),
        None => kontor(),
    };
    let mut child = cmd
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kontor");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).expect("write stdin");
    }
    child.wait_with_output().expect("kontor runs")
}

/// Run and insist on success, returning stdout.
pub fn run_ok(args: &[&str], stdin: &str) -> String {
    let out = run(args, stdin);
    assert!(
        out.status.success(),
        "kontor {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A server process; killed when dropped.
pub struct ServerProcess {
    pub child: Child,
    pub url: String,
    /// Everything printed before the listening line.
    pub banner: String,
}

impl ServerProcess {
    /// Start `kontor <subcommand> --data-dir dir --listen 127.0.0.1:0` and
    /// wait for its "listening" line.
    pub fn start(subcommand: &str, dir: &Path) -> ServerProcess {
        ServerProcess::start_command(kontor_for(dir), subcommand, dir)
    }

    /// [`ServerProcess::start`] with a prepared command (extra settings in
    /// its environment).
    pub fn start_command(mut cmd: Command, subcommand: &str, dir: &Path) -> ServerProcess {
        let mut child = cmd
            .arg(subcommand)
            .arg("--data-dir")
            .arg(dir)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn kontor");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut banner = String::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        let url = loop {
            assert!(Instant::now() < deadline, "server did not start");
            let line = lines
                .next()
                .expect("server exited before listening")
                .expect("read stdout");
            if let Some(url) = line.strip_prefix("kontor listening on ") {
                break url.trim().to_owned();
            }
            banner.push_str(&line);
            banner.push('\n');
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        ServerProcess { child, url, banner }
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill9(mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reaped");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `kontor admin create-org` then `create-user` for each name, all with
/// `password`, offline against `data_dir`.
pub fn seed_org(data_dir: &Path, org: &str, usernames: &[&str], password: &str) {
    let data = data_dir.to_str().expect("utf-8 path");
    run_ok(&["admin", "--data-dir", data, "create-org", org], "");
    for name in usernames {
        run_ok(
            &[
                "admin",
                "--data-dir",
                data,
                "create-user",
                "--username",
                name,
                "--display-name",
                name,
                "--password-stdin",
            ],
            &format!("{password}\n"),
        );
    }
}
