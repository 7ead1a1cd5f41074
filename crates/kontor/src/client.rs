//! Client commands: `login`, `logout`, `conversations`, `send`, `tail`.
//! They use `kontor-client`, like any other application would.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, bail};
use kontor_client::kontor_wire::requests::{HistoryParams, SendMessage, UserListQuery};
use kontor_client::kontor_wire::{Message, WireEvent};
use kontor_client::{Client, ClientError};
use serde::{Deserialize, Serialize};

use crate::cli::{SessionArgs, read_password};

#[derive(Serialize, Deserialize)]
struct SavedSession {
    server: String,
    token: String,
    username: String,
}

fn session_path(args: &SessionArgs) -> anyhow::Result<PathBuf> {
    if let Some(p) = &args.session_file {
        return Ok(p.clone());
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .context("cannot find a config directory: set HOME or pass --session-file")?;
    Ok(base.join("kontor").join("session.json"))
}

fn save(args: &SessionArgs, s: &SavedSession) -> anyhow::Result<PathBuf> {
    let path = session_path(args)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let json = serde_json::to_vec_pretty(s)?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    std::io::Write::write_all(&mut f, &json)?;
    Ok(path)
}

fn load(args: &SessionArgs) -> anyhow::Result<(Client, SavedSession)> {
    let path = session_path(args)?;
    let bytes = std::fs::read(&path)
        .with_context(|| format!("not logged in (no {}): run `kontor login`", path.display()))?;
    let s: SavedSession =
        serde_json::from_slice(&bytes).context("the session file is damaged; log in again")?;
    let client = Client::new(&s.server)?.with_token(s.token.clone());
    Ok((client, s))
}

/// `kontor login`.
pub async fn login(
    server: &str,
    user: &str,
    password_stdin: bool,
    device: &str,
    args: &SessionArgs,
) -> anyhow::Result<()> {
    let password = read_password(password_stdin, "Password: ")?;
    let mut client = Client::new(server)?;
    let resp = client.login(user, &password, Some(device)).await?;
    let path = save(
        args,
        &SavedSession {
            server: server.to_owned(),
            token: resp.token,
            username: resp.user.user.username.clone(),
        },
    )?;
    println!(
        "logged in as {} ({}); session saved in {}",
        resp.user.user.display_name,
        resp.user.user.username,
        path.display()
    );
    Ok(())
}

/// `kontor logout`.
pub async fn logout(args: &SessionArgs) -> anyhow::Result<()> {
    let (mut client, _) = load(args)?;
    match client.logout().await {
        Ok(()) | Err(ClientError::Api { status: 401, .. }) => {}
        Err(e) => return Err(e.into()),
    }
    std::fs::remove_file(session_path(args)?)?;
    println!("logged out");
    Ok(())
}

struct Names {
    client: Client,
    cache: HashMap<i64, String>,
}

impl Names {
    async fn name(&mut self, id: i64) -> String {
        if let Some(n) = self.cache.get(&id) {
            return n.clone();
        }
        let n = match self.client.user(id).await {
            Ok(u) => u.display_name,
            Err(_) => format!("user {id}"),
        };
        self.cache.insert(id, n.clone());
        n
    }
}

/// `kontor conversations`.
pub async fn conversations(args: &SessionArgs) -> anyhow::Result<()> {
    let (client, _) = load(args)?;
    let list = client.conversations().await?;
    let mut names = Names {
        client: client.clone(),
        cache: HashMap::new(),
    };
    println!(
        "{:>6}  {:<8} {:<32} {:>6}  last message",
        "id", "kind", "name", "unread"
    );
    for c in list {
        let title = match (&c.conversation.name, c.peer_id) {
            (Some(n), _) => n.clone(),
            (None, Some(peer)) => names.name(peer).await,
            (None, None) => "(direct)".into(),
        };
        let preview = c
            .last_message
            .as_ref()
            .map(|m| m.text.clone().unwrap_or_else(|| "(deleted)".into()))
            .unwrap_or_default();
        let preview: String = preview
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(50)
            .collect();
        println!(
            "{:>6}  {:<8} {:<32} {:>6}  {preview}",
            c.conversation.id,
            c.conversation.kind,
            title.chars().take(32).collect::<String>(),
            c.unread_count
        );
    }
    Ok(())
}

fn txn_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("cli-{}-{nanos}", std::process::id())
}

/// `kontor send`. Retries transport failures with the same transaction id,
/// so a retried send never posts twice.
pub async fn send(
    conversation: i64,
    text: &str,
    thread: Option<i64>,
    args: &SessionArgs,
) -> anyhow::Result<()> {
    let (client, _) = load(args)?;
    let tokens = kontor_core::mention::parse(text);
    let mut mentions = Vec::new();
    for username in &tokens.usernames {
        let query = UserListQuery {
            search: Some(username.clone()),
            ..Default::default()
        };
        if let Some(u) = client
            .users(&query)
            .await?
            .into_iter()
            .find(|u| &u.username == username)
        {
            mentions.push(u.id);
        }
    }
    let req = SendMessage {
        txn_id: txn_id(),
        text: text.to_owned(),
        thread_root_id: thread,
        mentions,
        mentions_channel: tokens.channel,
        attachment_ids: Vec::new(),
    };
    let mut attempt = 0;
    let (message, _) = loop {
        attempt += 1;
        match client.send(conversation, &req).await {
            Err(ClientError::Transport(e)) if attempt < 3 => {
                eprintln!("send failed ({e}); retrying");
                tokio::time::sleep(std::time::Duration::from_millis(500 * attempt)).await;
            }
            other => break other?,
        }
    };
    println!("sent message {}", message.id);
    Ok(())
}

async fn print_message(names: &mut Names, m: &Message, prefix: &str) {
    let who = names.name(m.sender_id).await;
    let time = m.created_at.get(11..16).unwrap_or("");
    let thread = if m.thread_root_id.is_some() {
        "  ↳ "
    } else {
        ""
    };
    let text = m.text.as_deref().unwrap_or("(deleted)");
    let edited = if m.edited { " (edited)" } else { "" };
    println!("{prefix}{thread}[{time}] {who}: {text}{edited}  #{}", m.id);
}

/// `kontor tail`: recent history, then live events until interrupted.
/// Reconnects by itself and resumes from the last position it saw.
pub async fn tail(conversation: i64, history: u32, args: &SessionArgs) -> anyhow::Result<()> {
    let (client, _) = load(args)?;
    let detail = client.conversation(conversation).await?;
    let mut names = Names {
        client: client.clone(),
        cache: HashMap::new(),
    };
    println!(
        "── {} ──",
        detail
            .conversation
            .name
            .as_deref()
            .unwrap_or("direct conversation")
    );
    let mut position = None;
    let mut stream = client.events(None).await?;
    // The stream opens before history is read so nothing falls between the
    // two; messages already printed from history are skipped when they
    // arrive live.
    let mut shown_up_to = 0;
    let mut deleted = std::collections::HashSet::new();
    if history > 0 {
        let page = client
            .history(
                conversation,
                &HistoryParams {
                    limit: Some(history.min(200)),
                    ..Default::default()
                },
            )
            .await?;
        for m in &page.messages {
            print_message(&mut names, m, "").await;
            shown_up_to = shown_up_to.max(m.id);
        }
    }
    loop {
        let frame = match stream.next().await {
            Ok(f) => f,
            Err(closed) => {
                if closed.reason == "session_revoked" {
                    bail!("the session was revoked; log in again");
                }
                eprintln!("(disconnected: {}; reconnecting)", closed.reason);
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                match client.events(position).await {
                    Ok(s) => stream = s,
                    Err(e) => eprintln!("(reconnect failed: {e})"),
                }
                continue;
            }
        };
        if let Some(seq) = frame.seq {
            position = Some(seq);
        }
        match frame.event {
            WireEvent::Hello { position: p, .. } if position.is_none() => position = Some(p),
            WireEvent::ResyncRequired { position: p } => {
                // Too far behind to replay: catch up from history instead.
                position = Some(p);
                eprintln!("(missed too much while disconnected; catching up from history)");
                let page = client
                    .history(
                        conversation,
                        &HistoryParams {
                            after: Some(shown_up_to),
                            limit: Some(200),
                            ..Default::default()
                        },
                    )
                    .await?;
                for m in &page.messages {
                    print_message(&mut names, m, "").await;
                    shown_up_to = shown_up_to.max(m.id);
                }
            }
            WireEvent::MessageCreated { message }
                if message.conversation_id == conversation && message.id > shown_up_to =>
            {
                print_message(&mut names, &message, "").await;
                shown_up_to = message.id;
            }
            WireEvent::MessageEdited { message } if message.conversation_id == conversation => {
                print_message(&mut names, &message, "✎ ").await;
            }
            WireEvent::MessageDeleted {
                conversation_id,
                message_id,
                ..
            } if conversation_id == conversation && deleted.insert(message_id) => {
                println!("✗ message #{message_id} was deleted");
            }
            WireEvent::MemberRemoved {
                conversation_id,
                user_id,
                ..
            } if conversation_id == conversation => {
                println!("– {} left", names.name(user_id).await);
            }
            WireEvent::MemberAdded {
                conversation_id,
                user_id,
                ..
            } if conversation_id == conversation => {
                println!("+ {} joined", names.name(user_id).await);
            }
            _ => {}
        }
    }
}
