//! The `cairn` command line, driven as a user would: migrate, manage credentials, and the bootstrap
//! credential `serve` creates on an empty store. Each test uses its own SQLite file.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

// The API tests' harness, for its throwaway PostgreSQL cluster (`postgres_url`).
#[allow(dead_code)]
#[path = "api/support.rs"]
mod support;

/// Guards against a wedged server hanging the suite; not a performance bound.
const HANG_GUARD: Duration = Duration::from_secs(120);
const LISTENING: &str = "Cairn xAPI LRS listening on ";

/// `cairn` with the environment cleared of settings that would change what the tests see.
fn cairn(db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cairn"));
    c.arg("--database").arg(db).env("CAIRN_LOG", "warn");
    for var in [
        "CAIRN_DATABASE_URL",
        "CAIRN_LISTEN",
        "CAIRN_BOOTSTRAP_KEY",
        "CAIRN_BOOTSTRAP_SECRET",
        "CAIRN_PUBLIC_URL",
        "CAIRN_MAX_BODY_BYTES",
        "CAIRN_PAGE_LIMIT",
        "CAIRN_DEFAULT_XAPI_VERSION",
    ] {
        c.env_remove(var);
    }
    c
}

fn db_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("cairn.db").display())
}

fn run(db: &str, args: &[&str]) -> Output {
    cairn(db).args(args).stdin(Stdio::null()).output().expect("run cairn")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs a command that must succeed and returns its stdout.
fn ok(db: &str, args: &[&str]) -> String {
    let o = run(db, args);
    assert!(o.status.success(), "cairn {args:?} failed: {}{}", stdout(&o), stderr(&o));
    stdout(&o)
}

/// The value after `label:` on a line of `credentials add` or bootstrap output.
fn field(out: &str, label: &str) -> Option<String> {
    out.lines().find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_string()))
}

/// A running `cairn serve`, SIGKILLed when dropped.
struct Server {
    child: Child,
    lines: Receiver<String>,
    base: String,
    /// Everything printed before the listening line.
    banner: Vec<String>,
}

impl Server {
    fn start(db: &str, env: &[(&str, &str)]) -> Server {
        let mut cmd = cairn(db);
        cmd.args(["serve", "--listen", "127.0.0.1:0"]).envs(env.iter().copied());
        let mut child =
            cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("start serve");
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut banner = Vec::new();
        loop {
            match lines.recv_timeout(HANG_GUARD) {
                Ok(line) => match line.strip_prefix(LISTENING) {
                    Some(url) => {
                        let base = url.trim().trim_end_matches('/').trim_end_matches("/xapi").to_string();
                        return Server { child, lines, base, banner };
                    }
                    None => banner.push(line),
                },
                Err(e) => {
                    let _ = child.kill();
                    panic!("serve never said it was listening ({e}); printed: {banner:?}; exit {:?}", child.wait());
                }
            }
        }
    }

    /// Stops the server and returns what it printed after the listening line.
    fn stop(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.lines.try_iter().collect()
    }

    async fn post_statement(&self, key: &str, secret: &str) -> reqwest::StatusCode {
        let statement = serde_json::json!({
            "actor": {"mbox": "mailto:cli@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": "http://example.com/cli"}
        });
        reqwest::Client::new()
            .post(format!("{}/xapi/statements", self.base))
            .basic_auth(key, Some(secret))
            .header("X-Experience-API-Version", "2.0.0")
            .json(&statement)
            .send()
            .await
            .expect("POST statement")
            .status()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn migrate_creates_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_url(dir.path());
    let out = ok(&db, &["migrate"]);
    assert!(out.contains("migrations applied"), "{out}");
    assert!(dir.path().join("cairn.db").exists());
    // Running it again is harmless.
    ok(&db, &["migrate"]);
}

/// The SQLite writer's page cache is a global option: a size in range opens the store, and one out of
/// range is refused before anything is opened.
#[test]
fn sqlite_writer_cache_option_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_url(dir.path());
    let out = ok(&db, &["--sqlite-writer-cache-mib", "16", "migrate"]);
    assert!(out.contains("migrations applied"), "{out}");
    let refused = run(&db, &["--sqlite-writer-cache-mib", "0", "migrate"]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("sqlite-writer-cache-mib"), "{}", stderr(&refused));
}

#[test]
fn credentials_add_list_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_url(dir.path());
    let out = ok(&db, &["credentials", "add", "--name", "Content player", "--scope", "statements/write"]);
    let key = field(&out, "key:").expect("key printed");
    let secret = field(&out, "secret:").expect("secret printed");
    assert!(key.len() >= 16 && secret.len() >= 32, "{out}");
    assert_eq!(field(&out, "scopes:").as_deref(), Some("statements/write"));

    let list = ok(&db, &["credentials", "list"]);
    let row = list.lines().find(|l| l.starts_with(&key)).unwrap_or_else(|| panic!("{key} not listed: {list}"));
    assert!(row.contains("Content player") && row.contains("statements/write") && row.contains("active"), "{row}");
    assert!(!list.contains(&secret), "list shows the secret");
    assert!(!list.contains("$argon2"), "list shows the secret's hash");

    let out = ok(&db, &["credentials", "revoke", &key]);
    assert!(out.contains(&key), "{out}");
    let row = ok(&db, &["credentials", "list"]).lines().find(|l| l.starts_with(&key)).map(str::to_string);
    assert!(row.is_some_and(|r| r.contains("revoked")));

    let again = run(&db, &["credentials", "revoke", &key]);
    assert!(!again.status.success(), "second revoke succeeded: {}", stdout(&again));
    assert!(stderr(&again).contains(&key), "{}", stderr(&again));
    let unknown = run(&db, &["credentials", "revoke", "no-such-key"]);
    assert!(!unknown.status.success());
}

#[test]
fn credentials_add_defaults_to_all_and_takes_several_scopes() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_url(dir.path());
    let out = ok(&db, &["credentials", "add", "--name", "Everything"]);
    assert_eq!(field(&out, "scopes:").as_deref(), Some("all"));
    let out = ok(&db, &["credentials", "add", "--name", "Player", "--scope", "statements/write", "--scope", "state"]);
    assert_eq!(field(&out, "scopes:").as_deref(), Some("statements/write state"));
}

#[test]
fn unknown_scope_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_url(dir.path());
    let o = run(&db, &["credentials", "add", "--name", "X", "--scope", "statements/write", "--scope", "everything"]);
    assert!(!o.status.success(), "unknown scope accepted: {}", stdout(&o));
    assert!(stderr(&o).contains("everything"), "{}", stderr(&o));
    assert!(field(&stdout(&o), "secret:").is_none());
    let list = ok(&db, &["credentials", "list"]);
    assert_eq!(list.lines().count(), 1, "only the header: {list}");
}

/// A database that cannot be opened fails with the cause named (not after a pool timeout that
/// hides it) and without the password, whether it is in the user part or a query parameter.
#[test]
fn unopenable_database_names_the_cause_not_the_password() {
    for url in [
        "postgres://cairn:hunter2@127.0.0.1:1/cairn",
        "postgres://cairn@127.0.0.1:1/cairn?password=hunter2&sslmode=disable",
        "mysql://cairn:hunter2@localhost/cairn",
    ] {
        let o = run(url, &["migrate"]);
        assert!(!o.status.success(), "{url}");
        let err = stderr(&o);
        assert!(!err.contains("hunter2"), "leaks the password: {err}");
        if url.starts_with("postgres") {
            assert!(err.contains("127.0.0.1:1"), "names the database: {err}");
            assert!(err.to_lowercase().contains("refused"), "names the cause: {err}");
        } else {
            assert!(err.contains("unsupported database URL"), "{err}");
        }
    }
}

/// `--help` lists the environment's values, except the database URL's, which may hold a password.
#[test]
fn help_does_not_print_the_database_password() {
    for args in [&["--help"][..], &["serve", "--help"]] {
        let o = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(args)
            .env("CAIRN_DATABASE_URL", "postgres://cairn:hunter2@db.example/cairn")
            .output()
            .expect("run cairn --help");
        assert!(o.status.success());
        assert!(!stdout(&o).contains("hunter2"), "{args:?} prints the password: {}", stdout(&o));
    }
}

#[tokio::test]
async fn serve_bootstraps_one_credential_on_an_empty_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_url(dir.path());
    let server = Server::start(&db, &[]);
    let printed = server.banner.join("\n");
    let key = field(&printed, "key:").unwrap_or_else(|| panic!("no bootstrap key printed: {printed}"));
    let secret = field(&printed, "secret:").unwrap_or_else(|| panic!("no bootstrap secret printed: {printed}"));
    assert_eq!(server.post_statement(&key, &secret).await, 200, "the printed credential works");
    assert_eq!(server.post_statement(&key, "wrong").await, 401);
    server.stop();

    // A second start on the same store creates and prints nothing new.
    let server = Server::start(&db, &[]);
    assert!(server.banner.iter().all(|l| !l.contains("key:") && !l.contains("secret:")), "{:?}", server.banner);
    assert_eq!(server.post_statement(&key, &secret).await, 200, "the first credential still works");
    let after = server.stop();
    assert!(after.iter().all(|l| !l.contains("secret:")), "{after:?}");
    let list = ok(&db, &["credentials", "list"]);
    assert_eq!(list.lines().count(), 2, "header and one credential: {list}");
    let row = list.lines().nth(1).unwrap_or_default();
    assert!(row.starts_with(&key) && row.contains("all admin"), "{row}");
}

#[tokio::test]
async fn serve_honours_bootstrap_key_and_secret_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_url(dir.path());
    let env = [("CAIRN_BOOTSTRAP_KEY", "ops-key"), ("CAIRN_BOOTSTRAP_SECRET", "ops-secret-that-is-long")];
    let server = Server::start(&db, &env);
    let printed = server.banner.join("\n");
    assert_eq!(field(&printed, "key:").as_deref(), Some("ops-key"), "{printed}");
    assert!(!printed.contains("ops-secret-that-is-long"), "the chosen secret is echoed: {printed}");
    assert_eq!(server.post_statement("ops-key", "ops-secret-that-is-long").await, 200);
    assert_eq!(server.post_statement("ops-key", "wrong").await, 401);
    server.stop();
    // On a store that already has credentials the variables create nothing.
    let server =
        Server::start(&db, &[("CAIRN_BOOTSTRAP_KEY", "other-key"), ("CAIRN_BOOTSTRAP_SECRET", "other-secret")]);
    assert!(server.banner.iter().all(|l| !l.contains("key:")), "{:?}", server.banner);
    assert_eq!(server.post_statement("other-key", "other-secret").await, 401);
    server.stop();
}

/// Nodes started together on one empty PostgreSQL database with the same bootstrap key all come
/// up: each sees no credential, one insert wins, and the others must not die on the duplicate key.
#[tokio::test]
async fn nodes_started_together_share_one_bootstrap_credential() {
    const FLEET: [(&str, &str); 2] = [("CAIRN_BOOTSTRAP_KEY", "fleet-key"), ("CAIRN_BOOTSTRAP_SECRET", "fleet-secret")];
    let Some(db) = support::postgres_url() else { return };
    let starting: Vec<_> = (0..4)
        .map(|_| {
            let db = db.clone();
            std::thread::spawn(move || Server::start(&db, &FLEET))
        })
        .collect();
    let nodes: Vec<Server> = starting.into_iter().map(|t| t.join().expect("every node starts")).collect();
    let creators = nodes.iter().filter(|n| n.banner.iter().any(|l| l.contains("key:"))).count();
    assert_eq!(creators, 1, "exactly one node reports creating the credential");
    for n in &nodes {
        assert_eq!(n.post_statement("fleet-key", "fleet-secret").await, 200);
    }
    let list = ok(&db, &["credentials", "list"]);
    assert_eq!(list.lines().count(), 2, "header and one credential: {list}");
}

#[test]
fn serve_refuses_a_bad_default_version_and_a_busy_port() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_url(dir.path());
    let o = run(&db, &["serve", "--listen", "127.0.0.1:0", "--default-xapi-version", "0.9"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("0.9"), "{}", stderr(&o));
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let o = run(&db, &["serve", "--listen", &addr]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains(&addr), "{}", stderr(&o));
}

/// `cairn store months` and `cairn store archive`: PostgreSQL lists its month tables and archives
/// none that the current month needs; SQLite and a malformed month are refused, naming why.
#[test]
fn store_months_and_archive() {
    let dir = tempfile::tempdir().unwrap();
    let lite = db_url(dir.path());
    let o = run(&lite, &["store", "months"]);
    assert!(!o.status.success() && stderr(&o).contains("needs PostgreSQL"), "{}", stderr(&o));
    let Some(db) = support::postgres_url() else { return };
    let months = ok(&db, &["store", "months"]);
    assert!(months.starts_with("table") && months.contains("statements_first"), "{months}");
    let o = run(&db, &["store", "archive", "--before", "June 2026"]);
    assert!(!o.status.success() && stderr(&o).contains("YYYY-MM"), "{}", stderr(&o));
    let none = ok(&db, &["store", "archive", "--before", "2001-01", "--yes"]);
    assert!(none.contains("nothing to archive"), "{none}");
    let json = ok(&db, &["store", "months", "--json"]);
    let listed: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert!(listed.as_array().is_some_and(|m| m.iter().all(|m| m["archived"] == false)), "{json}");
}
