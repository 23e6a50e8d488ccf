//! The subcommands. `serve` migrates, bootstraps a first credential on an empty store, and runs the
//! HTTP server until Ctrl-C/SIGTERM.

use anyhow::Context;

use crate::config::{Cli, Command, CredentialsCommand, ServeArgs};
use crate::http::{self, HttpConfig};
use crate::lrs::{Lrs, LrsConfig};
use crate::store::Store;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CAIRN_LOG").unwrap_or_else(|_| "cairn=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let store =
        Store::connect(&cli.database).await.with_context(|| format!("opening database {}", redact(&cli.database)))?;
    store.migrate().await.context("running migrations")?;
    match cli.command {
        Command::Migrate => {
            println!("migrations applied to {} database", store.backend_name());
            Ok(())
        }
        Command::Serve(args) => serve(store, args).await,
        Command::Credentials(cmd) => credentials(store, cmd).await,
    }
}

/// Hides a password in a database URL for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}://{}:***{}", &url[..s], user, &url[at..])
        }
        _ => url.to_string(),
    }
}

fn lrs_for(store: Store, listen: &str, page_limit: usize) -> Lrs {
    let public_url = std::env::var("CAIRN_PUBLIC_URL").unwrap_or_else(|_| format!("http://{listen}"));
    Lrs::new(store, LrsConfig { public_url, page_limit })
}

async fn serve(store: Store, args: ServeArgs) -> anyhow::Result<()> {
    let lrs = lrs_for(store, &args.listen, args.page_limit);
    if lrs.store.credential_count().await? == 0 {
        let c = lrs
            .create_credential(
                "bootstrap",
                vec!["all".into(), "admin".into()],
                args.bootstrap_key.clone(),
                args.bootstrap_secret.clone(),
            )
            .await?;
        println!("Created the first credential (shown once; HTTP Basic):");
        println!("  key:    {}", c.key);
        if args.bootstrap_secret.is_some() {
            println!("  secret: (from CAIRN_BOOTSTRAP_SECRET)");
        } else {
            println!("  secret: {}", c.secret);
        }
    }
    let default_version = crate::xapi::Version::parse(&args.default_xapi_version)
        .with_context(|| format!("unsupported --default-xapi-version {:?}", args.default_xapi_version))?;
    let app = http::router(lrs, &HttpConfig { max_body_bytes: args.max_body_bytes, default_version });
    let listener =
        tokio::net::TcpListener::bind(&args.listen).await.with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    println!("Cairn xAPI LRS listening on http://{addr}/xapi/");
    tracing::info!(%addr, "listening");
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

async fn credentials(store: Store, cmd: CredentialsCommand) -> anyhow::Result<()> {
    let lrs = lrs_for(store, "127.0.0.1:8080", 100);
    match cmd {
        CredentialsCommand::Add { name, scopes } => {
            let c = lrs.create_credential(&name, scopes, None, None).await?;
            println!("key:    {}", c.key);
            println!("secret: {}", c.secret);
            println!("scopes: {}", c.row.scopes.join(" "));
        }
        CredentialsCommand::List => {
            println!("{:<22} {:<24} {:<40} STATUS", "KEY", "NAME", "SCOPES");
            for c in lrs.store.credentials().await? {
                let status = if c.revoked_us.is_some() { "revoked" } else { "active" };
                println!("{:<22} {:<24} {:<40} {status}", c.key, c.name, c.scopes.join(" "));
            }
        }
        CredentialsCommand::Revoke { key } => {
            if lrs.store.revoke_credential(&key, crate::now_us()).await? {
                println!("revoked {key}");
            } else {
                anyhow::bail!("no active credential with key {key}");
            }
        }
    }
    Ok(())
}
