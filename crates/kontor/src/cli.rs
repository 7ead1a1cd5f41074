//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Kontor: self-hosted, GDPR-by-design workplace messenger.
#[derive(Parser)]
#[command(name = "kontor", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where the server's configuration comes from.
#[derive(Args, Clone)]
pub struct ConfigArgs {
    /// TOML configuration file; `KONTOR_<SECTION>__<KEY>` variables override it.
    #[arg(long, short, env = "KONTOR_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory (overrides the configuration).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the server.
    Serve {
        #[command(flatten)]
        config: ConfigArgs,
        /// Listen address (overrides the configuration), e.g. 127.0.0.1:0.
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Run the server with a populated demo company (idempotent).
    Demo {
        #[command(flatten)]
        config: ConfigArgs,
        /// Listen address (overrides the configuration).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Seed the demo data and exit instead of serving.
        #[arg(long)]
        seed_only: bool,
    },
    /// Administration, working offline against the data directory.
    Admin {
        #[command(flatten)]
        config: ConfigArgs,
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Log in to a server and remember the session.
    Login {
        /// Server URL, e.g. http://127.0.0.1:8080.
        #[arg(long, env = "KONTOR_URL", default_value = "http://127.0.0.1:8080")]
        server: String,
        /// Username or email.
        #[arg(long, short)]
        user: String,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
        /// Name of this device in the session list.
        #[arg(long, default_value = "kontor CLI")]
        device: String,
        #[command(flatten)]
        session: SessionArgs,
    },
    /// End the remembered session.
    Logout {
        #[command(flatten)]
        session: SessionArgs,
    },
    /// List my conversations with unread counts.
    Conversations {
        #[command(flatten)]
        session: SessionArgs,
    },
    /// Send a message.
    Send {
        /// Conversation id.
        conversation: i64,
        /// Message text; `@username` mentions are resolved.
        text: String,
        /// Reply in this message's thread.
        #[arg(long)]
        thread: Option<i64>,
        #[command(flatten)]
        session: SessionArgs,
    },
    /// Show recent messages of a conversation and follow it live.
    Tail {
        /// Conversation id.
        conversation: i64,
        /// How many earlier messages to show first.
        #[arg(long, default_value_t = 20)]
        history: u32,
        #[command(flatten)]
        session: SessionArgs,
    },
}

/// Where the CLI keeps its session.
#[derive(Args, Clone)]
pub struct SessionArgs {
    /// Session file (default: $XDG_CONFIG_HOME/kontor/session.json or ~/.config/kontor/session.json).
    #[arg(long, env = "KONTOR_SESSION_FILE")]
    pub session_file: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create an organisation.
    CreateOrg {
        /// Its name.
        name: String,
    },
    /// Create a user; the password is read from standard input or prompted.
    CreateUser {
        /// Organisation name (default: the only organisation).
        #[arg(long)]
        org: Option<String>,
        /// Username (a-z, 0-9, '.', '_', '-').
        #[arg(long)]
        username: String,
        /// Company email.
        #[arg(long)]
        email: Option<String>,
        /// Display name.
        #[arg(long)]
        display_name: String,
        /// Make the user an organisation administrator.
        #[arg(long)]
        admin: bool,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password; all of the user's sessions end.
    ResetPassword {
        /// Username or email.
        user: String,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Rebuild the full-text search index from the stored messages, with a
    /// progress bar. Safe while a server runs: it indexes in batches, and
    /// the server indexes its own new messages meanwhile.
    Reindex,
    /// Copy this installation (SQLite and local files) into PostgreSQL and
    /// the configured file store, verify row counts and checksums, and
    /// rebuild the search index there. Stop the server first. The target
    /// must be empty unless --force is given.
    Migrate {
        /// The data directory of the SQLite installation.
        #[arg(long)]
        from: std::path::PathBuf,
        /// The PostgreSQL URL to copy into, e.g. postgres://kontor@db/kontor.
        #[arg(long)]
        to: String,
        /// Empty a target that already holds data, then copy.
        #[arg(long)]
        force: bool,
    },
    /// List users.
    ListUsers {
        /// Organisation name (default: all).
        #[arg(long)]
        org: Option<String>,
    },
}

/// Run the chosen command.
pub async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { config, listen } => crate::run::serve(config, listen).await,
        Command::Demo {
            config,
            listen,
            seed_only,
        } => crate::run::demo(config, listen, seed_only).await,
        Command::Admin { config, command } => crate::admin::run(config, command).await,
        Command::Login {
            server,
            user,
            password_stdin,
            device,
            session,
        } => crate::client::login(&server, &user, password_stdin, &device, &session).await,
        Command::Logout { session } => crate::client::logout(&session).await,
        Command::Conversations { session } => crate::client::conversations(&session).await,
        Command::Send {
            conversation,
            text,
            thread,
            session,
        } => crate::client::send(conversation, &text, thread, &session).await,
        Command::Tail {
            conversation,
            history,
            session,
        } => crate::client::tail(conversation, history, &session).await,
    }
}

/// Read a password: one line from stdin, or a hidden prompt.
pub fn read_password(from_stdin: bool, prompt: &str) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    } else {
        Ok(rpassword::prompt_password(prompt)?)
    }
}
