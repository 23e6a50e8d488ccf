//! The test harness: a `TestApp` runs the real router on a random loopback port over a fresh database
//! (a temp SQLite file, or a new database in a throwaway PostgreSQL cluster). Every behaviour test is
//! written once and run on both backends through the `both!` macro.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use cairn::http::server::ServerConfig;
use cairn::http::{self, HttpConfig};
use cairn::lms::{Lms, LmsConfig};
use cairn::lrs::{Lrs, LrsConfig};
use cairn::store::Store;
use cairn::xapi::Version;
use reqwest::{Method, RequestBuilder};
use serde_json::Value;

pub const KEY: &str = "test-key";
pub const SECRET: &str = "test-secret";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    /// The API origin (`/xapi`, `/api`), as `http://127.0.0.1:PORT`; its public name is `cairn.test`.
    pub base: String,
    /// The content origin (launch pages, package files); its public name is `content.cairn.test`.
    pub content_base: String,
    pub client: reqwest::Client,
    /// The xAPI core (with the learning-management side's hooks plugged in).
    pub lrs: Lrs,
    /// The learning-management side over it.
    pub lms: Lms,
    pub database_url: String,
    /// xAPI version sent by `req` (tests may switch it).
    pub version: &'static str,
    _dir: Option<tempfile::TempDir>,
    _content: tempfile::TempDir,
}

/// Runs a test body on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = $crate::support::TestApp::spawn($crate::support::Backend::Sqlite).await {
                    super::$name(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::support::TestApp::spawn($crate::support::Backend::Postgres).await {
                    super::$name(app).await;
                }
            }
        }
    };
}

/// Like `both!`, with the LRS configured by the function `$configure(&mut LrsConfig)`, for tests of limits.
#[macro_export]
macro_rules! both_configured {
    ($name:ident, $configure:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let b = $crate::support::Backend::Sqlite;
                if let Some(app) = $crate::support::TestApp::spawn_configured(b, super::$configure).await {
                    super::$name(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let b = $crate::support::Backend::Postgres;
                if let Some(app) = $crate::support::TestApp::spawn_configured(b, super::$configure).await {
                    super::$name(app).await;
                }
            }
        }
    };
}

impl TestApp {
    /// None when the backend is unavailable (PostgreSQL without binaries or URL); that is printed loudly,
    /// and is a failure when `CAIRN_REQUIRE_POSTGRES=1` (as in CI).
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_configured(backend, |_| {}).await
    }

    /// `spawn` with the LRS settings changed by `configure` first.
    pub async fn spawn_configured(backend: Backend, configure: fn(&mut LrsConfig)) -> Option<TestApp> {
        let (url, dir) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                (format!("sqlite://{}", dir.path().join("cairn.db").display()), Some(dir))
            }
            Backend::Postgres => (postgres_url()?, None),
        };
        Some(Self::spawn_on(&url, dir, configure).await)
    }

    /// A second app (another "node") on the same database and the same content folder (nodes share
    /// it, as a network mount in production).
    pub async fn another_node(&self) -> TestApp {
        let content = Some(self.lms.settings.content_dir.clone());
        Self::spawn_with(&self.database_url, None, |_| {}, ServerConfig::default(), content).await
    }

    /// The same database served with other connection limits (short timeouts, a small cap).
    pub async fn with_server(&self, server: ServerConfig) -> TestApp {
        Self::spawn_with(&self.database_url, None, |_| {}, server, None).await
    }

    /// Another node on the same database and content, signing in through an OpenID provider.
    pub async fn with_sso(&self, sso: cairn::sso::SsoConfig) -> TestApp {
        let content = Some(self.lms.settings.content_dir.clone());
        Self::spawn_full(&self.database_url, None, |_| {}, ServerConfig::default(), content, Some(sso)).await
    }

    /// An app on an existing database (a private cluster's, say).
    pub async fn on_database(url: &str) -> TestApp {
        Self::spawn_on(url, None, |_| {}).await
    }

    async fn spawn_on(url: &str, dir: Option<tempfile::TempDir>, configure: fn(&mut LrsConfig)) -> TestApp {
        Self::spawn_with(url, dir, configure, ServerConfig::default(), None).await
    }

    async fn spawn_with(
        url: &str,
        dir: Option<tempfile::TempDir>,
        configure: fn(&mut LrsConfig),
        server: ServerConfig,
        shared_content: Option<PathBuf>,
    ) -> TestApp {
        Self::spawn_full(url, dir, configure, server, shared_content, None).await
    }

    async fn spawn_full(
        url: &str,
        dir: Option<tempfile::TempDir>,
        configure: fn(&mut LrsConfig),
        server: ServerConfig,
        shared_content: Option<PathBuf>,
        sso: Option<cairn::sso::SsoConfig>,
    ) -> TestApp {
        let store = Store::connect(url).await.expect("connect");
        store.migrate().await.expect("migrate");
        let content = tempfile::tempdir().expect("content dir");
        let content_dir = shared_content.unwrap_or_else(|| content.path().to_path_buf());
        let mut config = LrsConfig {
            public_url: "http://cairn.test".into(),
            page_limit: 100,
            json_limits: Default::default(),
            page_bytes: cairn::lrs::DEFAULT_PAGE_BYTES,
            profile_create_needs_precondition: false,
            statements_in_flight_bytes: cairn::lrs::intake::BUDGET_BYTES,
        };
        configure(&mut config);
        let lms = Lms::new(
            Lrs::new(store, config),
            LmsConfig {
                content_url: "http://content.cairn.test".into(),
                content_dir,
                package_limits: Default::default(),
                maintain_results: true,
                learner_link_ttl: cairn::lms::LEARNER_LINK_TTL,
            },
        );
        let lrs = lms.core().clone();
        if lrs.store.credential(KEY).await.expect("credential lookup").is_none() {
            lrs.create_credential("tester", vec!["all".into(), "admin".into()], Some(KEY.into()), Some(SECRET.into()))
                .await
                .expect("credential");
        }
        let sso = sso.map(|c| cairn::sso::Sso::new(c, &lrs.config.public_url, lrs.store.clone()).expect("sso config"));
        let cfg = HttpConfig { max_body_bytes: 1024 * 1024, default_version: Version::V2_0_0, sso };
        let base = Self::listen(http::router(&lms, &cfg), server.clone()).await;
        let content_base = Self::listen(http::content::router(&lms, &cfg), server).await;
        TestApp {
            base,
            content_base,
            client: reqwest::Client::new(),
            lrs,
            lms,
            database_url: url.to_string(),
            version: "1.0.3",
            _dir: dir,
            _content: content,
        }
    }

    /// Serves a router on a random loopback port with the real connection handling, as `cairn serve`
    /// runs it; answers its base URL.
    async fn listen(app: axum::Router, server: ServerConfig) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(http::server::serve(listener, app, server, std::future::pending()));
        format!("http://{addr}")
    }

    /// A URL Cairn answered (public names `cairn.test` and `content.cairn.test`) made reachable here.
    pub fn local(&self, url: &str) -> String {
        url.replace("http://content.cairn.test", &self.content_base).replace("http://cairn.test", &self.base)
    }

    /// A request with the test credential and version header.
    pub fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{}", self.base, path))
            .basic_auth(KEY, Some(SECRET))
            .header("X-Experience-API-Version", self.version)
    }

    /// POSTs statements and returns the status and JSON body.
    pub async fn post_statements(&self, body: &Value) -> (u16, Value) {
        let r = self.req(Method::POST, "/xapi/statements").json(body).send().await.expect("send");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// GETs a path and returns the status and JSON body.
    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let r = self.req(Method::GET, path).send().await.expect("send");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// The course summary kept in the store equals the one folded from every results row (both at
    /// the time of asking), after whatever `what` did.
    pub async fn assert_summary_kept(&self, course: &str, what: &str) {
        let now = cairn::now_us();
        let kept = self.lms.course_summary(course, now).await.expect("summary");
        assert_eq!(kept, self.lms.course_summary_by_rows(course, now).await.expect("summary by rows"), "{what}");
    }

    /// Number of statements in the store (voided included).
    pub async fn statement_count(&self) -> i64 {
        self.lrs.store.max_seq().await.expect("max seq")
    }
}

/// The URL of a fresh PostgreSQL database, for tests that need one outside a `TestApp` (the crash
/// test runs the real binary on it). None when PostgreSQL is unavailable, which is printed loudly,
/// and a panic when `CAIRN_REQUIRE_POSTGRES=1` (as in CI), so a skip can never pass unnoticed there.
pub fn postgres_url() -> Option<String> {
    let url = postgres_database();
    if url.is_none() {
        if std::env::var("CAIRN_REQUIRE_POSTGRES").as_deref() == Ok("1") {
            panic!("PostgreSQL is required (CAIRN_REQUIRE_POSTGRES=1) but no server could be started");
        }
        eprintln!("!!! SKIPPED PostgreSQL test: no PostgreSQL binaries and no CAIRN_TEST_DATABASE_URL");
    }
    url
}

/// A fresh database in the shared throwaway cluster (or under `CAIRN_TEST_DATABASE_URL`).
fn postgres_database() -> Option<String> {
    static ADMIN: OnceLock<Option<String>> = OnceLock::new();
    let admin = ADMIN.get_or_init(|| std::env::var("CAIRN_TEST_DATABASE_URL").ok().or_else(start_cluster)).clone()?;
    let name = format!("cairn_test_{}", uuid::Uuid::new_v4().simple());
    let (base, _) = admin.rsplit_once('/')?;
    let status =
        Command::new(psql_path()?).arg(&admin).arg("-qc").arg(format!("CREATE DATABASE {name}")).status().ok()?;
    status.success().then(|| format!("{base}/{name}"))
}

fn pg_bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir("/usr/lib/postgresql").ok()?.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).collect();
    dirs.sort();
    dirs.pop().filter(|d| d.join("initdb").exists())
}

fn psql_path() -> Option<PathBuf> {
    pg_bin_dir().map(|d| d.join("psql")).filter(|p| p.exists()).or_else(|| Some(PathBuf::from("psql")))
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

/// The shared throwaway cluster's admin URL (see [`Cluster::start`]).
fn start_cluster() -> Option<String> {
    let cluster = Cluster::start()?;
    let url = cluster.admin_url.clone();
    std::mem::forget(cluster); // lives as long as the process; the watchdog ends it
    Some(url)
}

/// A throwaway PostgreSQL cluster in a temp dir on a free port. The tests' shared one lives as long
/// as the test process; a fault test starts a private one to stop and restart it (`pg_ctl`).
pub struct Cluster {
    /// `postgres://postgres@127.0.0.1:PORT/postgres`
    pub admin_url: String,
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

impl Cluster {
    /// initdb and start, stopped and deleted by a watchdog when this test process exits. initdb
    /// refuses to run as root, so as root it runs as `postgres`. None without PostgreSQL binaries.
    pub fn start() -> Option<Cluster> {
        let bin = pg_bin_dir()?;
        let dir =
            std::env::temp_dir().join(format!("cairn-pg-{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).ok()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let cluster = Cluster { admin_url: format!("postgres://postgres@127.0.0.1:{port}/postgres"), bin, dir, port };
        let init = format!(
            "{}/initdb -D {} -U postgres --auth=trust -E UTF8 >{}/initdb.log 2>&1",
            cluster.bin.display(),
            cluster.data().display(),
            cluster.dir.display()
        );
        if !cluster.as_pg(&init) {
            eprintln!("!!! initdb failed; see {}/initdb.log", cluster.dir.display());
            return None;
        }
        if !cluster.resume() {
            eprintln!("!!! pg_ctl start failed; see {}/pg.log", cluster.dir.display());
            return None;
        }
        // Watchdog: stop and remove the cluster once this test process is gone.
        let stop = format!("{}/pg_ctl -D {} -m immediate stop", cluster.bin.display(), cluster.data().display());
        let stop = if is_root() { format!("runuser -u postgres -- {stop}") } else { stop };
        let watchdog = format!(
            "while kill -0 {} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {}",
            std::process::id(),
            cluster.dir.display()
        );
        let _ = Command::new("setsid")
            .args(["sh", "-c", &watchdog])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        Some(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn as_pg(&self, args: &str) -> bool {
        let cmd = if is_root() {
            let _ = Command::new("chown").args(["-R", "postgres:postgres", &self.dir.display().to_string()]).status();
            Command::new("runuser").args(["-u", "postgres", "--", "sh", "-c", args]).status()
        } else {
            Command::new("sh").args(["-c", args]).status()
        };
        cmd.map(|s| s.success()).unwrap_or(false)
    }

    /// `pg_ctl start`, waiting until it accepts connections.
    pub fn resume(&self) -> bool {
        let start = format!(
            "{}/pg_ctl -D {} -l {}/pg.log -w -o \"-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400\" start >/dev/null",
            self.bin.display(),
            self.data().display(),
            self.dir.display(),
            self.port,
            self.dir.display()
        );
        self.as_pg(&start)
    }

    /// `pg_ctl stop -m fast`: the server disconnects every client and shuts down cleanly.
    pub fn stop(&self) -> bool {
        self.as_pg(&format!("{}/pg_ctl -D {} -m fast -w stop >/dev/null", self.bin.display(), self.data().display()))
    }

    /// A new database in this cluster.
    pub fn database(&self) -> Option<String> {
        let name = format!("cairn_test_{}", uuid::Uuid::new_v4().simple());
        let status = Command::new(psql_path()?)
            .arg(&self.admin_url)
            .arg("-qc")
            .arg(format!("CREATE DATABASE {name}"))
            .status()
            .ok()?;
        status.success().then(|| format!("postgres://postgres@127.0.0.1:{}/{name}", self.port))
    }
}

impl Drop for Cluster {
    /// A private cluster goes with its test (the shared one is never dropped: the watchdog ends it).
    fn drop(&mut self) {
        let _ = self.as_pg(&format!(
            "{}/pg_ctl -D {} -m immediate stop >/dev/null 2>&1",
            self.bin.display(),
            self.data().display()
        ));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs the real `cairn` binary on `database` with `args`, asserts success, and returns its stdout.
pub fn cli(database: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("--database")
        .arg(database)
        .args(args)
        .output()
        .expect("run cairn");
    assert!(out.status.success(), "cairn {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}
