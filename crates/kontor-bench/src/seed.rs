//! Prepare a data directory for a run: an organisation, N people with open
//! sessions, and the conversations of the scenario. Written straight through
//! the server's storage (the same code paths, the same rules), because
//! hashing thousands of passwords and logging thousands of people in over
//! HTTP would take minutes and measure nothing of interest.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use futures_util::future::try_join_all;
use kontor_core::ids::UserId;
use kontor_core::model::{ConversationKind, OrgRole, Timestamp};
use kontor_server::Server;
use kontor_server::config::Config;
use kontor_storage::{NewConversation, NewSession, NewUser, Storage};
use serde::{Deserialize, Serialize};

/// Shape of the conversations to create.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// Pairs of people, one direct conversation each.
    Dm,
    /// Groups of `group_size` people.
    Groups,
    /// One channel with everyone.
    Channel,
    /// No conversations: connections only.
    Idle,
    /// Pairs, groups of `group_size` and one channel with everyone.
    Mixed,
}

/// One seeded conversation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SeededConversation {
    /// Its id.
    pub id: i64,
    /// What it is, for the mixed scenario's traffic split.
    pub kind: String,
    /// Indices into [`Fixture::people`].
    pub members: Vec<usize>,
}

/// One seeded person.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Person {
    /// User id.
    pub id: i64,
    /// A session token.
    pub token: String,
}

/// Everything a run needs to know about the seeded data.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Fixture {
    /// People with sessions.
    pub people: Vec<Person>,
    /// Conversations and their members.
    pub conversations: Vec<SeededConversation>,
}

/// Writes in flight while seeding; the storage writer commits them in
/// batches.
const SEED_CONCURRENCY: usize = 256;

/// Seed `data_dir` (which must be new), or the empty PostgreSQL database
/// at `database_url`, and return the fixture.
pub async fn seed(
    data_dir: &Path,
    database_url: Option<&str>,
    people: usize,
    layout: Layout,
    group_size: usize,
) -> anyhow::Result<Fixture> {
    if data_dir.join("kontor.db").exists() {
        bail!(
            "{} already holds a database; the bench seeds a fresh one",
            data_dir.display()
        );
    }
    let mut config = Config::default();
    config.storage.data_dir = data_dir.to_owned();
    if let Some(url) = database_url {
        config.database.url = url.to_owned();
    }
    let server = Server::open(config)
        .await
        .context("open the data directory")?;
    let store = server.state().store.clone();
    if !store.list_orgs().await?.is_empty() {
        bail!("the database already holds an organisation; the bench seeds an empty one");
    }
    let now = Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
    );
    let org = store.create_org("Lasttest GmbH".into(), now).await?;
    // One hash for everyone: nobody logs in with a password during a run.
    let hash = kontor_server::auth::hash_password(
        "bench-password-unused",
        kontor_server::auth::PasswordCost::Standard,
    )
    .map_err(|e| anyhow::anyhow!("{}", e.parts().2))?;

    let mut out = Vec::with_capacity(people);
    for chunk in (0..people).collect::<Vec<_>>().chunks(SEED_CONCURRENCY) {
        let made = try_join_all(chunk.iter().map(|&i| {
            let store = store.clone();
            let hash = hash.clone();
            async move {
                let user = store
                    .create_user(
                        NewUser {
                            org_id: org.id,
                            username: format!("last{i}"),
                            email: None,
                            display_name: format!("Last {i}"),
                            org_role: OrgRole::Member,
                            password_hash: hash,
                        },
                        now,
                    )
                    .await?;
                let (token, token_hash) = kontor_server::auth::new_token();
                store
                    .create_session(
                        NewSession {
                            user_id: user.id,
                            token_hash,
                            device_name: "bench".into(),
                        },
                        now,
                    )
                    .await?;
                anyhow::Ok((user, token))
            }
        }))
        .await?;
        out.extend(made);
    }
    let actors: Vec<_> = out.iter().map(|(u, _)| u.actor()).collect();
    let mut conversations = Vec::new();
    let want_pairs = matches!(layout, Layout::Dm | Layout::Mixed);
    let want_groups = matches!(layout, Layout::Groups | Layout::Mixed);
    let want_channel = matches!(layout, Layout::Channel | Layout::Mixed);
    if want_pairs {
        let pairs: Vec<(usize, usize)> = (0..people / 2).map(|p| (2 * p, 2 * p + 1)).collect();
        conversations.extend(
            create_all(
                &store,
                now,
                &actors,
                pairs
                    .iter()
                    .map(|&(a, b)| (ConversationKind::Direct, vec![a, b]))
                    .collect(),
            )
            .await?,
        );
    }
    if want_groups {
        let size = group_size.clamp(2, kontor_core::limits::MAX_GROUP_MEMBERS);
        let groups: Vec<Vec<usize>> = (0..people)
            .collect::<Vec<_>>()
            .chunks(size)
            .filter(|g| g.len() >= 2)
            .map(<[usize]>::to_vec)
            .collect();
        conversations.extend(
            create_all(
                &store,
                now,
                &actors,
                groups
                    .into_iter()
                    .map(|g| (ConversationKind::Group, g))
                    .collect(),
            )
            .await?,
        );
    }
    if want_channel && people > 0 {
        let owner = actors[0];
        let (channel, _) = store
            .create_conversation(
                owner,
                NewConversation {
                    kind: ConversationKind::Channel,
                    name: Some("Alle".into()),
                    topic: String::new(),
                    is_public: true,
                    announcement: false,
                    member_ids: Vec::new(),
                },
                now,
            )
            .await?;
        for chunk in out[1..].chunks(kontor_core::limits::MAX_MEMBERS_PER_REQUEST) {
            store
                .add_members(
                    owner,
                    channel.id,
                    chunk.iter().map(|(u, _)| u.id).collect(),
                    now,
                )
                .await?;
        }
        conversations.push(SeededConversation {
            id: channel.id.0,
            kind: "channel".into(),
            members: (0..people).collect(),
        });
    }
    drop(store);
    server.close().await;
    Ok(Fixture {
        people: out
            .into_iter()
            .map(|(u, token)| Person { id: u.id.0, token })
            .collect(),
        conversations,
    })
}

async fn create_all(
    store: &Arc<dyn Storage>,
    now: Timestamp,
    actors: &[kontor_core::model::Actor],
    specs: Vec<(ConversationKind, Vec<usize>)>,
) -> anyhow::Result<Vec<SeededConversation>> {
    let mut out = Vec::with_capacity(specs.len());
    for chunk in specs.chunks(SEED_CONCURRENCY) {
        let made = try_join_all(chunk.iter().map(|(kind, members)| {
            let store = store.clone();
            let owner = actors[members[0]];
            let others: Vec<UserId> = members[1..].iter().map(|&i| actors[i].user_id).collect();
            let kind = *kind;
            let name = (kind != ConversationKind::Direct).then(|| format!("Gruppe {}", members[0]));
            let members = members.clone();
            async move {
                let (c, _) = store
                    .create_conversation(
                        owner,
                        NewConversation {
                            kind,
                            name,
                            topic: String::new(),
                            is_public: false,
                            announcement: false,
                            member_ids: others,
                        },
                        now,
                    )
                    .await?;
                anyhow::Ok(SeededConversation {
                    id: c.id.0,
                    kind: kind.as_str().to_owned(),
                    members,
                })
            }
        }))
        .await?;
        out.extend(made);
    }
    Ok(out)
}
