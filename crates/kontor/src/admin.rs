//! `kontor admin …`: offline administration against the data directory,
//! through the same services the API uses. Safe to run while a server is
//! running on the same directory (SQLite serialises the writers).

use anyhow::{Context, bail};
use kontor_core::model::{Org, OrgRole};
use kontor_server::Server;
use kontor_server::service::accounts::{self, UserSpec};
use kontor_server::service::search;

use crate::cli::{AdminCommand, ConfigArgs, read_password};
use crate::run::load_config;

fn api_err(e: kontor_server::error::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{}", e.parts().2)
}

async fn find_org(server: &Server, name: Option<&str>) -> anyhow::Result<Org> {
    let state = server.state();
    match name {
        Some(n) => accounts::org_by_name(state, n)
            .await
            .map_err(api_err)?
            .with_context(|| format!("no organisation named {n:?}")),
        None => {
            let mut orgs = accounts::list_orgs(state).await.map_err(api_err)?;
            match orgs.len() {
                0 => bail!("no organisation yet: run `kontor admin create-org <name>` first"),
                1 => Ok(orgs.remove(0)),
                _ => bail!("several organisations exist: pass --org <name>"),
            }
        }
    }
}

/// Rebuild the search index batch by batch, showing progress on stderr
/// (drawn only on a terminal) and the result on stdout.
pub async fn reindex(server: &Server) -> anyhow::Result<()> {
    let state = server.state();
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "indexing {bar:40} {pos}/{len} messages ({per_sec}, {eta} left)",
        )?
        .progress_chars("=> "),
    );
    let mut after = None;
    let mut indexed = 0u64;
    loop {
        let step = search::reindex_step(state, after).await.map_err(api_err)?;
        bar.set_length(step.total.max(indexed + step.indexed));
        indexed += step.indexed;
        bar.set_position(indexed);
        match step.last {
            Some(last) => after = Some(last),
            None => break,
        }
    }
    bar.finish_and_clear();
    println!("search index rebuilt: {indexed} messages indexed");
    Ok(())
}

/// Run an admin command.
pub async fn run(args: ConfigArgs, command: AdminCommand) -> anyhow::Result<()> {
    let config = load_config(&args, None)?;
    if let AdminCommand::Migrate { from, to, force } = command {
        return crate::migrate::run(config, &from, &to, force).await;
    }
    let server = Server::open(config).await?;
    let result = run_on(&server, command).await;
    server.close().await;
    result
}

async fn run_on(server: &Server, command: AdminCommand) -> anyhow::Result<()> {
    let state = server.state();
    match command {
        AdminCommand::CreateOrg { name } => {
            let org = accounts::create_org(state, &name).await.map_err(api_err)?;
            println!("created organisation {} (id {})", org.name, org.id);
        }
        AdminCommand::CreateUser {
            org,
            username,
            email,
            display_name,
            admin,
            password_stdin,
        } => {
            let org = find_org(server, org.as_deref()).await?;
            let password = read_password(password_stdin, "Password: ")?;
            let spec = UserSpec {
                org_id: org.id,
                username: &username,
                email: email.as_deref(),
                display_name: &display_name,
                password: &password,
                org_role: if admin {
                    OrgRole::Admin
                } else {
                    OrgRole::Member
                },
            };
            let user = accounts::create_user(state, spec).await.map_err(api_err)?;
            println!(
                "created user {} (id {}) in {}",
                user.username, user.id, org.name
            );
        }
        AdminCommand::ResetPassword {
            user,
            password_stdin,
        } => {
            let password = read_password(password_stdin, "New password: ")?;
            let user = accounts::reset_password(state, &user, &password)
                .await
                .map_err(api_err)?;
            println!("password of {} changed; all sessions ended", user.username);
        }
        AdminCommand::Reindex => reindex(server).await?,
        AdminCommand::Migrate { .. } => bail!("migrate runs without an open server"),
        AdminCommand::ListUsers { org } => {
            let orgs = match org {
                Some(n) => vec![find_org(server, Some(&n)).await?],
                None => accounts::list_orgs(state).await.map_err(api_err)?,
            };
            for org in orgs {
                println!("{} (id {})", org.name, org.id);
                let mut offset = 0u32;
                loop {
                    let page = accounts::list_users(state, org.id, None, Some(offset), Some(200))
                        .await
                        .map_err(api_err)?;
                    for u in &page {
                        println!(
                            "  {:>5}  {:<24} {:<28} {:<6} {}",
                            u.id,
                            u.username,
                            u.display_name,
                            u.org_role.as_str(),
                            u.email.as_deref().unwrap_or("")
                        );
                    }
                    if page.len() < 200 {
                        break;
                    }
                    offset += 200;
                }
            }
        }
    }
    Ok(())
}
