//! The subcommands. `serve` migrates, bootstraps a first credential on an empty store, and runs the
//! HTTP server until Ctrl-C/SIGTERM.

use anyhow::Context;

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::config::{
    Cli, Command, CoursesCommand, CredentialsCommand, LearnersCommand, PersonsCommand, ServeArgs, StoreCommand,
    UsersCommand,
};
use crate::http::{self, HttpConfig};
use crate::lms::{courses, Lms, LmsConfig};
use crate::lrs::{Lrs, LrsConfig};
use crate::store::{Store, StoreError};

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    // `bench` talks to a server over HTTP; it must not open (or create) the database itself.
    let settings = cli.store_settings();
    if let Command::Bench(cmd) = cli.command {
        return crate::bench::main(cmd, &cli.database, cli.content_dir, settings).await;
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CAIRN_LOG").unwrap_or_else(|_| "cairn=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let store = Store::open(&cli.database, settings)
        .await
        .map_err(|e| match e {
            // Its message quotes the URL whole, password included; the context below names it redacted.
            StoreError::BadUrl(_) => anyhow::anyhow!("unsupported database URL: use sqlite://FILE or postgres://…"),
            e => e.into(),
        })
        .with_context(|| format!("opening database {}", crate::config::redact_url(&cli.database)))?;
    store.migrate().await.context("running migrations")?;
    let content_dir = cli.content_dir.clone().unwrap_or_else(|| default_content_dir(&cli.database));
    match cli.command {
        Command::Migrate => {
            println!("migrations applied to {} database", store.backend_name());
            Ok(())
        }
        Command::Serve(args) => serve(store, args, content_dir).await,
        Command::Store(cmd) => store_cmd(&store, cmd).await,
        Command::Credentials(cmd) => credentials(lms_for(store, "127.0.0.1:8080", 100, content_dir), cmd).await,
        Command::Users(cmd) => users(lms_for(store, "127.0.0.1:8080", 100, content_dir), cmd).await,
        Command::Persons(cmd) => persons(lms_for(store, "127.0.0.1:8080", 100, content_dir), cmd).await,
        Command::Learners(cmd) => learners(lms_for(store, "127.0.0.1:8080", 100, content_dir), cmd).await,
        Command::Import { package, course_id, json } => {
            import(lms_for(store, "127.0.0.1:8080", 100, content_dir), package, course_id, json).await
        }
        Command::Courses(cmd) => courses_cmd(lms_for(store, "127.0.0.1:8080", 100, content_dir), cmd).await,
        Command::Results(cmd) => results_cmd(lms_for(store, "127.0.0.1:8080", 100, content_dir), cmd).await,
        Command::Assign { course, learner, due, due_in_days, grace_days, recurrence_months } => {
            let lms = lms_for(store, "127.0.0.1:8080", 100, content_dir);
            let req = crate::lms::assignments::AssignRequest {
                course,
                learner: Some(learner_arg(&learner)?),
                group: None,
                due,
                due_in_days,
                grace_days,
                recurrence_months,
            };
            for a in lms.assign(req, crate::xapi::Version::V2_0_0).await? {
                println!("assignment {}  registration {}", a.id, a.registration);
            }
            Ok(())
        }
        Command::Waive { assignment, reason } => {
            let lms = lms_for(store, "127.0.0.1:8080", 100, content_dir);
            let a = lms.waive(&assignment, reason.as_deref()).await?;
            println!("waived {}", a.id);
            Ok(())
        }
        Command::Sessions(cmd) => sessions_cmd(lms_for(store, "127.0.0.1:8080", 100, content_dir), cmd).await,
        Command::Launch { course, module, learner, registration, mode, json } => {
            let learner = if learner.trim_start().starts_with('{') {
                serde_json::from_str(&learner).context("--learner is not valid JSON")?
            } else {
                serde_json::Value::String(learner)
            };
            let req = crate::lms::launch::LaunchRequest {
                course,
                module,
                learner,
                registration,
                mode,
                version: None,
                return_url: None,
            };
            let view = lms_for(store, "127.0.0.1:8080", 100, content_dir).create_launch(req).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&view)?);
            } else {
                println!("{}", view.url);
            }
            Ok(())
        }
        Command::Bench(_) => Ok(()), // handled above, before the database is opened
    }
}

/// `cairn-content` beside the SQLite file; in the current folder for PostgreSQL.
fn default_content_dir(database: &str) -> PathBuf {
    let file = database.strip_prefix("sqlite://").or_else(|| database.strip_prefix("sqlite:"));
    match file.map(|f| f.split('?').next().unwrap_or(f)).map(std::path::Path::new).and_then(|p| p.parent()) {
        Some(parent) if !parent.as_os_str().is_empty() => parent.join("cairn-content"),
        _ => PathBuf::from("cairn-content"),
    }
}

async fn import(lms: Lms, package: PathBuf, course_id: Option<String>, json: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(lms.content_dir()).with_context(|| format!("creating {}", lms.content_dir().display()))?;
    // A progress bar on stderr, only when a person is watching.
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} extracting {pos}/{len} files {bytes_per_sec} {wide_bar}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let bar2 = bar.clone();
    let progress = Box::new(move |p: crate::package::Progress| {
        if let Some(b) = &bar2 {
            b.set_length(p.files_total as u64);
            b.set_position(p.files_done as u64);
        }
    });
    let result = lms.import_package(&package, course_id, progress).await;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let view = result.with_context(|| format!("importing {}", package.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&view)?);
    } else {
        print!("{}", courses::render_tree(&view));
    }
    Ok(())
}

async fn courses_cmd(lms: Lms, cmd: CoursesCommand) -> anyhow::Result<()> {
    match cmd {
        CoursesCommand::List { json } => {
            let list = lms.courses().await?;
            if json {
                let items: Vec<_> = list.iter().map(courses::summary_json).collect();
                println!("{}", serde_json::to_string_pretty(&items)?);
            } else {
                println!("{:<50} {:<8} {:<24} TITLE", "ID", "VERSION", "FORMAT");
                for c in list {
                    println!("{:<50} {:<8} {:<24} {}", c.id, c.version, c.format, c.title);
                }
            }
        }
        CoursesCommand::Show { id, version, json } => {
            let c = lms.course(&id, version).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&c)?);
            } else {
                print!("{}", courses::render_tree(&c));
            }
        }
    }
    Ok(())
}

fn lms_for(store: Store, listen: &str, page_limit: usize, content_dir: PathBuf) -> Lms {
    let content_listen = std::env::var("CAIRN_CONTENT_LISTEN").ok();
    let (public_url, content_url) =
        crate::config::public_urls(listen, &crate::config::content_listen(listen, content_listen.as_deref()));
    let core = Lrs::new(
        store,
        LrsConfig {
            public_url,
            page_limit,
            json_limits: Default::default(),
            page_bytes: crate::lrs::DEFAULT_PAGE_BYTES,
            profile_create_needs_precondition: false,
            statements_in_flight_bytes: crate::lrs::intake::BUDGET_BYTES,
        },
    );
    Lms::new(core, lms_config(content_url, content_dir))
}

/// The learning-management side's settings.
fn lms_config(content_url: String, content_dir: PathBuf) -> LmsConfig {
    // CAIRN_LEARNER_LINK_TTL (`15m`, `1h`): read here, so `serve` and `cairn learners link` agree.
    let learner_link_ttl = std::env::var("CAIRN_LEARNER_LINK_TTL")
        .ok()
        .and_then(|v| humantime::parse_duration(v.trim()).ok())
        .filter(|d| !d.is_zero())
        .unwrap_or(crate::lms::LEARNER_LINK_TTL);
    LmsConfig { content_url, content_dir, package_limits: Default::default(), maintain_results: true, learner_link_ttl }
}

async fn serve(store: Store, args: ServeArgs, content_dir: PathBuf) -> anyhow::Result<()> {
    std::fs::create_dir_all(&content_dir).with_context(|| format!("creating {}", content_dir.display()))?;
    crate::lms::courses::remove_stale_imports(&content_dir, crate::lms::courses::STALE_IMPORT_AGE);
    // Bound first, so that the default public addresses name the ports actually bound (port 0 = any).
    let content_listen = crate::config::content_listen(&args.listen, args.content_listen.as_deref());
    let listener =
        tokio::net::TcpListener::bind(&args.listen).await.with_context(|| format!("listening on {}", args.listen))?;
    let content_listener = tokio::net::TcpListener::bind(&content_listen)
        .await
        .with_context(|| format!("listening on {content_listen} for the content origin (--content-listen)"))?;
    let (addr, content_addr) = (listener.local_addr()?, content_listener.local_addr()?);
    let (public_url, content_url) = crate::config::public_urls(&addr.to_string(), &content_addr.to_string());
    let core = Lrs::new(
        store,
        LrsConfig {
            public_url,
            page_limit: args.page_limit,
            json_limits: args.json_limits(),
            page_bytes: args.page_bytes,
            profile_create_needs_precondition: args.profile_create_needs_precondition,
            statements_in_flight_bytes: args.statements_in_flight_bytes,
        },
    );
    let lms = Lms::new(core, lms_config(content_url, content_dir));
    let expired = lms.remove_expired_player_sessions().await?;
    if expired > 0 {
        tracing::info!(expired, "removed expired course player sessions");
    }
    if lms.credential_count().await? == 0 {
        let created = lms
            .create_credential(
                "bootstrap",
                vec!["all".into(), "admin".into()],
                args.bootstrap_key.clone(),
                args.bootstrap_secret.clone(),
            )
            .await;
        match created {
            Ok(c) => {
                println!("Created the first credential (shown once; HTTP Basic):");
                println!("  key:    {}", c.key);
                if args.bootstrap_secret.is_some() {
                    println!("  secret: (from CAIRN_BOOTSTRAP_SECRET)");
                } else {
                    println!("  secret: {}", c.secret);
                }
                println!("  (sign in to the console with this key and secret to add its users)");
            }
            // Nodes started together on an empty shared database all see no credential; with a
            // bootstrap key from the environment, the first insert wins and the others must still
            // start rather than fail on the duplicate key.
            Err(e) => match &args.bootstrap_key {
                Some(key) if lms.credential_exists(key).await? => {
                    tracing::info!(%key, "bootstrap credential already created by another node");
                }
                _ => return Err(e.into()),
            },
        }
    }
    let default_version = crate::xapi::Version::parse(&args.default_xapi_version)
        .with_context(|| format!("unsupported --default-xapi-version {:?}", args.default_xapi_version))?;
    let sso = match args.sso() {
        Some(c) => Some(crate::sso::Sso::new(c, &lms.config.public_url, lms.store.clone())?),
        None => None,
    };
    let cfg = HttpConfig { max_body_bytes: args.max_body_bytes, default_version, sso: sso.clone() };
    let app = http::router(&lms, &cfg);
    let content = http::content::router(&lms, &cfg);
    println!("Cairn xAPI LRS listening on http://{addr}/xapi/");
    println!("Content origin (launch pages and package files) on http://{content_addr}/");
    println!("Console (sign in with a console user or an admin credential) at http://{addr}/console");
    if let Some(sso) = &sso {
        println!(
            "Single sign-on through {}: register the redirect URIs {} and {}",
            sso.config().issuer,
            sso.redirect_uri(crate::sso::Purpose::Console),
            sso.redirect_uri(crate::sso::Purpose::Learn)
        );
    }
    tracing::info!(%addr, %content_addr, "listening");
    // The two origins share the process's open files: each gets half of the connection cap.
    let server = http::server::ServerConfig {
        header_timeout: args.header_timeout,
        body_timeout: args.body_timeout,
        idle_timeout: args.idle_timeout,
        max_connections: (args.max_connections / 2).max(1),
        shutdown_timeout: args.shutdown_timeout,
    };
    // One shutdown signal ends both listeners.
    let (stop, _) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let api = http::server::serve(listener, app, server.clone(), stopped(stop.subscribe()));
    let files = http::server::serve(content_listener, content, server, stopped(stop.subscribe()));
    let signal = async {
        shutdown_signal().await;
        let _ = stop.send(true);
    };
    let (a, c, ()) = tokio::join!(api, files, signal);
    a?;
    c?;
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

async fn users(lms: Lms, cmd: UsersCommand) -> anyhow::Result<()> {
    use crate::console::{Console, ConsoleConfig, NewUser, Role};
    let console = Console::new(lms, ConsoleConfig::default());
    // The audit log names who did it: the operator at the server's terminal.
    const BY: &str = "cli";
    match cmd {
        UsersCommand::Add { email, name, role, password_stdin, sso_only } => {
            let role = Role::parse(&role)
                .ok_or_else(|| anyhow::anyhow!("unknown role {role:?}: admin, instructor or analyst"))?;
            let password = if sso_only {
                None
            } else if password_stdin || !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                Some(line.trim_end_matches(['\r', '\n']).to_string())
            } else {
                Some(rpassword::prompt_password(format!("Password for {email}: "))?)
            };
            let u = console.add_user(BY, NewUser { email, name, role, password }).await?;
            println!("added {} ({}), id {}", u.email, u.role, u.id);
        }
        UsersCommand::List => {
            println!("{:<36} {:<32} {:<24} {:<10} STATUS", "ID", "EMAIL", "NAME", "ROLE");
            for u in console.users().await? {
                let status = if u.disabled_us.is_some() { "disabled" } else { "active" };
                println!("{:<36} {:<32} {:<24} {:<10} {status}", u.id, u.email, u.name, u.role);
            }
        }
        UsersCommand::Disable { email } => {
            let email = email.trim().to_lowercase();
            let Some(u) = console.users().await?.into_iter().find(|u| u.email == email) else {
                anyhow::bail!("no console user with email {email}");
            };
            console.disable_user(BY, &u.id).await?;
            println!("disabled {email}; their console sessions have ended");
        }
    }
    Ok(())
}

/// A person given by id, or by one of its agents (`mailto:…` or Agent JSON).
async fn person_arg(lms: &Lms, s: &str) -> anyhow::Result<String> {
    if s.starts_with("mailto:") || s.trim_start().starts_with('{') {
        let key = lms.person_identifier("agent", &learner_arg(s)?)?;
        let p = lms.person_of_key(&key).await?.ok_or_else(|| anyhow::anyhow!("no person has the identifier {s}"))?;
        return Ok(p.id);
    }
    Ok(lms.person_row(s).await?.id)
}

async fn persons(lms: Lms, cmd: PersonsCommand) -> anyhow::Result<()> {
    let print = |v: serde_json::Value| println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    match cmd {
        PersonsCommand::List { search } => {
            println!("{:<32} {:<24} IDENTIFIERS", "ID", "NAME");
            for p in lms.search_persons(&search, 500).await? {
                let ids: Vec<String> = p.identifiers.iter().map(|k| crate::xapi::agent::label(k)).collect();
                println!("{:<32} {:<24} {}", p.id, p.name.unwrap_or_default(), ids.join(", "));
            }
        }
        PersonsCommand::Show { person } => {
            let p = lms.person_row(&person_arg(&lms, &person).await?).await?;
            print(lms.person_json(&p).await?);
        }
        PersonsCommand::Create { name, agents } => {
            let identifiers = agents.iter().map(|a| learner_arg(a)).collect::<anyhow::Result<Vec<_>>>()?;
            let p = lms.create_person(crate::lms::persons::NewPerson { name, identifiers }).await?;
            print(lms.person_json(&p).await?);
        }
        PersonsCommand::Add { person, agent } => {
            let p = lms.add_identifier(&person_arg(&lms, &person).await?, &learner_arg(&agent)?).await?;
            print(lms.person_json(&p).await?);
        }
        PersonsCommand::Split { person, agent } => {
            let p = lms.split_identifier(&person_arg(&lms, &person).await?, &learner_arg(&agent)?).await?;
            print(lms.person_json(&p).await?);
        }
        PersonsCommand::Merge { into, from } => {
            let (into, from) = (person_arg(&lms, &into).await?, person_arg(&lms, &from).await?);
            let p = lms.merge_persons(&into, &from).await?;
            print(lms.person_json(&p).await?);
        }
        PersonsCommand::Export { person } => print(lms.export_person(&person_arg(&lms, &person).await?).await?),
        PersonsCommand::Erase { person, yes } => {
            let id = person_arg(&lms, &person).await?;
            if !yes {
                eprintln!("This removes every statement by person {id}, their documents, results, assignments,");
                eprintln!("bookings and launches, and anonymises statements that mention them. It cannot be undone.");
                eprint!("Type the person's id to confirm: ");
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                if line.trim() != id {
                    anyhow::bail!("not confirmed: nothing was erased");
                }
            }
            print(lms.erase_person(&id, "cli").await?);
        }
    }
    Ok(())
}

async fn store_cmd(store: &Store, cmd: StoreCommand) -> anyhow::Result<()> {
    let date = |us: Option<i64>| match us {
        Some(us) => crate::xapi::timestamp::format_timestamp(
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1_000)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
        )[..10]
            .to_string(),
        None => "…".to_string(),
    };
    let table = |months: &[crate::store::StoredMonth]| {
        println!("{:<28} {:>10} {:>10} {:>12} {:>10}", "table", "from", "until", "statements", "MiB");
        for m in months {
            let (from, until) =
                if m.archived { ("archived".to_string(), String::new()) } else { (date(m.from_us), date(m.until_us)) };
            println!(
                "{:<28} {:>10} {:>10} {:>12} {:>10.1}",
                m.table,
                from,
                until,
                m.statements,
                m.bytes as f64 / 1_048_576.0
            );
        }
    };
    match cmd {
        StoreCommand::Months { json } => {
            let months = store.stored_months().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&months)?);
            } else {
                table(&months);
            }
        }
        StoreCommand::Archive { before, yes } => {
            let before_us = month_arg(&before)?;
            // Listed (every month counted) only to be confirmed; `archive_months` counts what it archives.
            let months: Vec<_> = if yes {
                Vec::new()
            } else {
                store
                    .stored_months()
                    .await?
                    .into_iter()
                    .filter(|m| !m.archived && m.until_us.is_some_and(|u| u <= before_us))
                    .collect()
            };
            if !yes {
                if months.is_empty() {
                    println!("no month ends on or before {before}: nothing to archive");
                    return Ok(());
                }
                table(&months);
                eprint!("Archive these months? Their statements leave the LRS (results stay). Type yes: ");
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                if line.trim() != "yes" {
                    anyhow::bail!("not confirmed: nothing was archived");
                }
            }
            let archived = store.archive_months(before_us).await?;
            if archived.is_empty() {
                println!("no month ends on or before {before}: nothing to archive");
                return Ok(());
            }
            let detail = serde_json::json!({"before": before, "tables": archived.iter().map(|m| &m.table).collect::<Vec<_>>(),
                "statements": archived.iter().map(|m| m.statements).sum::<i64>()});
            store.insert_audit("cli", "store.archive", &before, &detail.to_string(), crate::now_us()).await?;
            table(&archived);
            println!(
                "\nArchived into schema {schema}. Keep a copy with `pg_dump --schema={schema} … > archive.sql`, then free \
                 the space with `DROP SCHEMA {schema} CASCADE`.",
                schema = crate::store::ARCHIVE_SCHEMA
            );
        }
    }
    Ok(())
}

/// A month given as YYYY-MM, as the microsecond its first day begins (UTC).
fn month_arg(text: &str) -> anyhow::Result<i64> {
    let bad = || anyhow::anyhow!("--before {text:?}: give a month as YYYY-MM, e.g. 2026-06");
    let (y, m) = text.trim().split_once('-').ok_or_else(bad)?;
    let (year, month): (i32, u8) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    let month = time::Month::try_from(month).map_err(|_| bad())?;
    let day = time::Date::from_calendar_date(year, month, 1).map_err(|_| bad())?;
    Ok((day.midnight().assume_utc().unix_timestamp_nanos() / 1_000) as i64)
}

async fn learners(lms: Lms, cmd: LearnersCommand) -> anyhow::Result<()> {
    match cmd {
        LearnersCommand::Link { person, json } => {
            let id = person_arg(&lms, &person).await?;
            let learn = crate::learn::Learn::new(lms, Default::default());
            let link = learn.issue_sign_in_link(&id, "cli").await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&link)?);
            } else {
                println!("{}", link.url);
                eprintln!("works once, until {}", link.expires_at);
            }
        }
    }
    Ok(())
}

async fn credentials(lms: Lms, cmd: CredentialsCommand) -> anyhow::Result<()> {
    match cmd {
        CredentialsCommand::Add { name, scopes } => {
            let c = lms.create_credential(&name, scopes, None, None).await?;
            println!("key:    {}", c.key);
            println!("secret: {}", c.secret);
            println!("scopes: {}", c.row.scopes.join(" "));
        }
        CredentialsCommand::List => {
            println!("{:<22} {:<24} {:<40} STATUS", "KEY", "NAME", "SCOPES");
            for c in lms.credentials().await? {
                let status = if c.revoked_us.is_some() { "revoked" } else { "active" };
                println!("{:<22} {:<24} {:<40} {status}", c.key, c.name, c.scopes.join(" "));
            }
        }
        CredentialsCommand::Revoke { key } => {
            if lms.revoke_credential(&key).await? {
                println!("revoked {key}");
            } else {
                anyhow::bail!("no active credential with key {key}");
            }
        }
    }
    Ok(())
}

/// A learner on the command line: `mailto:…` or Agent JSON.
fn learner_arg(s: &str) -> anyhow::Result<serde_json::Value> {
    if s.trim_start().starts_with('{') {
        return serde_json::from_str(s).context("learner is not valid JSON");
    }
    if s.starts_with("mailto:") {
        return Ok(serde_json::json!({"objectType": "Agent", "mbox": s}));
    }
    anyhow::bail!("learner must be mailto:… or Agent JSON, got {s:?}")
}

async fn results_cmd(lms: Lms, cmd: crate::config::ResultsCommand) -> anyhow::Result<()> {
    use crate::config::ResultsCommand;
    use crate::lms::reports::ResultsFilter;
    match cmd {
        ResultsCommand::List { course, learner, status, compliance, csv, json, out } => {
            let learner_key = match learner {
                Some(l) => Some(crate::xapi::agent::key(&learner_arg(&l)?).context("learner needs an identifier")?),
                None => None,
            };
            let f = ResultsFilter { course, learner_key, status, compliance, ..Default::default() };
            let (rows, _) = lms.results(&f, crate::now_us()).await?;
            let text = if csv {
                crate::lms::reports::to_csv(&rows)
            } else if json {
                serde_json::to_string_pretty(&rows)? + "\n"
            } else {
                let mut t = format!(
                    "{:<32} {:<40} {:<12} {:>6} {:<24} {:<24} {}\n",
                    "LEARNER", "COURSE", "STATUS", "SCORE", "COMPLETED", "DUE", "COMPLIANCE"
                );
                for r in &rows {
                    t.push_str(&format!(
                        "{:<32} {:<40} {:<12} {:>6} {:<24} {:<24} {}\n",
                        r.learner_label,
                        r.course,
                        r.status,
                        r.score.map(|s| format!("{s:.2}")).unwrap_or_else(|| "-".into()),
                        r.completed_at.clone().unwrap_or_else(|| "-".into()),
                        r.due.clone().unwrap_or_else(|| "-".into()),
                        r.compliance.unwrap_or("-")
                    ));
                }
                t
            };
            match out {
                Some(p) => std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?,
                None => print!("{text}"),
            }
        }
        ResultsCommand::Summary { course } => {
            println!("{}", serde_json::to_string_pretty(&lms.course_summary(&course, crate::now_us()).await?)?);
        }
        ResultsCommand::Rebuild => {
            let n = lms.rebuild_results().await?;
            println!("rebuilt results from {n} statements");
        }
    }
    Ok(())
}

async fn sessions_cmd(lms: Lms, cmd: crate::config::SessionsCommand) -> anyhow::Result<()> {
    use crate::config::SessionsCommand;
    let v = crate::xapi::Version::V2_0_0;
    match cmd {
        SessionsCommand::Create { course, title, start, end, timezone, capacity, location, join_url, optional } => {
            let req = crate::lms::sessions::SessionRequest {
                course,
                title,
                start,
                end,
                timezone,
                capacity,
                location,
                join_url,
                required: !optional,
            };
            let s = lms.create_session(req).await?;
            println!("session {} ({})", s.id, s.activity_id);
        }
        SessionsCommand::List { course } => {
            for s in lms.sessions(course.as_deref()).await? {
                let state = if s.cancelled_us.is_some() { "cancelled" } else { "scheduled" };
                println!("{}  {}  {}  {}", s.id, s.course_id, s.title, state);
            }
        }
        SessionsCommand::Book { session, learner, waitlist } => {
            match lms.book_session(&session, &learner_arg(&learner)?, v, waitlist).await? {
                crate::store::BookOutcome::Waitlisted(n) => println!("session full: on the waitlist, position {n}"),
                _ => println!("booked"),
            }
        }
        SessionsCommand::Attend { session, learner } => {
            let id = lms.mark_attendance(&session, &learner_arg(&learner)?, v).await?;
            println!("attendance recorded (statement {id})");
        }
        SessionsCommand::Cancel { session } => {
            lms.cancel_session(&session).await?;
            println!("cancelled {session}");
        }
    }
    Ok(())
}
