//! `kontor admin migrate --from <dir> --to postgres://…`: move a one-node
//! SQLite installation up to PostgreSQL (and its files to the configured
//! file store), for running several nodes.
//!
//! Steps: bring the source schema up to date, prepare the target (its
//! migrations; refuse data already there unless `--force`), copy and
//! verify every table (`kontor_storage::migrate`), copy the files, rebuild
//! the search index on the target. Nothing here deletes from the source.

use std::path::Path;

use anyhow::{Context, bail};
use kontor_server::Server;
use kontor_server::config::{Config, FilesBackend};
use kontor_storage::blobs::{BlobStore, LocalBlobs};
use kontor_storage::migrate::{self, Progress};
use kontor_storage::postgres;

fn bar(len: u64, template: &str) -> anyhow::Result<indicatif::ProgressBar> {
    Ok(indicatif::ProgressBar::new(len)
        .with_style(indicatif::ProgressStyle::with_template(template)?.progress_chars("=> ")))
}

/// Run the migration; `config` supplies the target's file store.
pub async fn run(mut config: Config, from: &Path, to: &str, force: bool) -> anyhow::Result<()> {
    let source_db = from.join("kontor.db");
    if !source_db.is_file() {
        bail!("no Kontor database at {}", source_db.display());
    }
    if !to.starts_with("postgres://") && !to.starts_with("postgresql://") {
        bail!("--to must be a postgres:// URL");
    }
    // Opening the source applies any migration it lacks, so both sides
    // have the current tables.
    let mut source_config = Config::default();
    source_config.storage.data_dir = from.to_owned();
    Server::open(source_config)
        .await
        .context("cannot open the source installation")?
        .close()
        .await;

    let target = postgres::connect_migrated(to).await?;
    if !postgres::is_empty(&target).await? {
        if !force {
            bail!(
                "the target database already holds Kontor data; \
                 pass --force to empty it and copy again"
            );
        }
        migrate::clear_target(&target).await?;
        eprintln!("target emptied (--force)");
    }

    let progress = bar(0, "{msg:>14} {bar:40} {pos}/{len} rows")?;
    let reports = migrate::copy(&source_db, &target, &mut |p| match p {
        Progress::Table { name, rows } => {
            progress.set_message(name.to_owned());
            progress.set_length(rows);
            progress.set_position(0);
        }
        Progress::Copied { rows } => progress.inc(rows),
    })
    .await?;
    progress.finish_and_clear();
    target.close().await;
    for r in &reports {
        println!(
            "{:<14} {:>9} rows  sha256 {}  verified",
            r.table, r.rows, r.checksum
        );
    }

    config.database.url = to.to_owned();
    config.events.nats_url.clear();
    let server = Server::open(config.clone())
        .await
        .context("cannot open the target")?;
    let copied = copy_files(from, &config, server.state().blobs.as_ref()).await;
    let indexed = crate::admin::reindex(&server).await;
    server.close().await;
    copied?;
    indexed?;
    println!("migration complete: point every node at database.url = {to:?}");
    Ok(())
}

/// Copy the source's files into the target's file store, unless both are
/// the same directory. Returns how many were copied.
async fn copy_files(from: &Path, target: &Config, blobs: &dyn BlobStore) -> anyhow::Result<()> {
    let source_files = from.join("files");
    if !source_files.is_dir() {
        println!("files: none in the source");
        return Ok(());
    }
    if target.files.backend == FilesBackend::Local
        && std::fs::canonicalize(&source_files).ok()
            == std::fs::canonicalize(target.files_path()).ok()
    {
        println!("files: already in place ({})", source_files.display());
        return Ok(());
    }
    let source = LocalBlobs::open(&source_files)?;
    let listed = source.list().await?;
    let progress = bar(listed.len() as u64, "{msg:>14} {bar:40} {pos}/{len} files")?;
    progress.set_message("files");
    let mut copied = 0u64;
    for blob in &listed {
        if !blobs.exists(&blob.key).await? {
            let mut reader = source.open(&blob.key).await?.reader;
            let (staged, mut file) = blobs.stage().await?;
            let written = async {
                tokio::io::copy(&mut reader, &mut file).await?;
                tokio::io::AsyncWriteExt::flush(&mut file).await?;
                drop(file);
                blobs.commit(&staged, &blob.key).await
            }
            .await;
            if written.is_err() {
                let _ = tokio::fs::remove_file(&staged).await;
            }
            written.with_context(|| format!("cannot copy file {}", blob.key))?;
            copied += 1;
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    println!(
        "files: {copied} copied, {} already there",
        listed.len() as u64 - copied
    );
    Ok(())
}
