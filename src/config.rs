//! Settings from the command line and the environment. Every option has a `CAIRN_*` variable so a
//! container or a service file can configure Cairn without flags.

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cairn", version, about = "Cairn: an xAPI learning record store")]
pub struct Cli {
    /// Database URL: `sqlite://FILE` (created when missing) or `postgres://…`.
    // The URL may hold a password, which `--help` would otherwise print from the environment.
    #[arg(
        long,
        global = true,
        env = "CAIRN_DATABASE_URL",
        default_value = "sqlite://cairn.db",
        hide_env_values = true
    )]
    pub database: String,
    /// Folder for imported packages' files (one subfolder per course version). Default: a
    /// `cairn-content` folder beside the SQLite file, or in the current folder for PostgreSQL.
    /// Nodes sharing a PostgreSQL database must share this folder too.
    #[arg(long, global = true, env = "CAIRN_CONTENT_DIR")]
    pub content_dir: Option<std::path::PathBuf>,
    /// SQLite: the write connection's page cache, in MiB. It keeps the index pages a group commit
    /// changes between commits: smaller saves memory and costs batch ingest (16: ~40 MiB less
    /// resident after a long load, batch ingest ~3-4 % slower; BENCHMARKS.md, "Memory, third pass").
    #[arg(long, global = true, env = "CAIRN_SQLITE_WRITER_CACHE_MIB",
          default_value_t = crate::store::Settings::default().sqlite_writer_cache_mib,
          value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub sqlite_writer_cache_mib: u32,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The store's tuning from the global options.
    pub fn store_settings(&self) -> crate::store::Settings {
        crate::store::Settings { sqlite_writer_cache_mib: self.sqlite_writer_cache_mib }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the LRS (runs migrations first).
    Serve(ServeArgs),
    /// Run the database migrations and exit.
    Migrate,
    /// Manage the HTTP Basic credentials clients use.
    #[command(subcommand)]
    Credentials(CredentialsCommand),
    /// Manage console users (the people who sign in to `/console`).
    #[command(subcommand)]
    Users(UsersCommand),
    /// Persons: one learner behind several agent identifiers; merge, split, export, erase.
    #[command(subcommand)]
    Persons(PersonsCommand),
    /// Learners' way in to `/learn` (their training page).
    #[command(subcommand)]
    Learners(LearnersCommand),
    /// Import a package zip (SCORM 1.2/2004, cmi5, TinCan, AICC) as a new course version.
    Import {
        /// The package file.
        package: std::path::PathBuf,
        /// Course IRI to import under (default: the package's own id, or one derived from it).
        #[arg(long)]
        course_id: Option<String>,
        /// Print the course as JSON instead of a tree.
        #[arg(long)]
        json: bool,
    },
    /// List and show imported courses.
    #[command(subcommand)]
    Courses(CoursesCommand),
    /// Derived results: list (table, CSV or JSON), course summary, rebuild from the statements.
    #[command(subcommand)]
    Results(ResultsCommand),
    /// Assign a course to a learner with a due date.
    Assign {
        course: String,
        /// The learner: `mailto:…`, or Agent JSON.
        #[arg(long)]
        learner: String,
        /// Due date (RFC 3339).
        #[arg(long, conflicts_with = "due_in_days")]
        due: Option<String>,
        /// Due this many days after today.
        #[arg(long)]
        due_in_days: Option<i64>,
        #[arg(long)]
        grace_days: Option<i64>,
        /// Re-certify every N months.
        #[arg(long)]
        recurrence_months: Option<i64>,
    },
    /// Waive an assignment (the learner is exempt).
    Waive {
        assignment: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Live sessions: create, list, book, mark attendance, cancel.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Launch a course module for a learner and print the URL to open in their browser (the URL carries
    /// a short-lived credential limited to that learner; set CAIRN_PUBLIC_URL to the server's address).
    Launch {
        /// Course IRI.
        course: String,
        /// Module (SCO item, AU or activity) id.
        module: String,
        /// The learner: a `mailto:` IRI or an xAPI agent as JSON.
        #[arg(long)]
        learner: String,
        /// Registration (UUID) to use instead of Cairn's choice.
        #[arg(long)]
        registration: Option<String>,
        /// Normal, Browse or Review.
        #[arg(long)]
        mode: Option<String>,
        /// Print the whole launch as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The statement store's months (PostgreSQL): list them, archive old ones.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Benchmarks: generate a deterministic data set, or drive load against an LRS (see BENCHMARKS.md).
    #[command(subcommand)]
    Bench(crate::bench::BenchCommand),
}

#[derive(Debug, Subcommand)]
pub enum CoursesCommand {
    /// The latest version of every course.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One course (latest version unless --version is given).
    Show {
        id: String,
        #[arg(long)]
        version: Option<i64>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (the API origin: `/xapi`, `/api`).
    #[arg(long, env = "CAIRN_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Address of the content origin's listener (launch pages, the SCORM run-time, package files).
    /// Default: the next port of `--listen`.
    #[arg(long, env = "CAIRN_CONTENT_LISTEN")]
    pub content_listen: Option<String>,
    /// Largest accepted request body, in bytes (larger requests get 413).
    #[arg(long, env = "CAIRN_MAX_BODY_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Most statements returned by one query page (a client's `limit` is capped to it).
    #[arg(long, env = "CAIRN_PAGE_LIMIT", default_value_t = 500)]
    pub page_limit: usize,
    /// Most bytes of statements in one query page (at least one statement is always returned; the
    /// `more` link carries the rest).
    #[arg(long, env = "CAIRN_PAGE_BYTES", default_value_t = crate::lrs::DEFAULT_PAGE_BYTES)]
    pub page_bytes: usize,
    /// Bytes of statements JSON all statements requests together may have between parsing and
    /// commit; more waits (a larger request runs alone). Bounds memory under large batches.
    #[arg(long, env = "CAIRN_STATEMENTS_IN_FLIGHT_BYTES", default_value_t = crate::lrs::intake::BUDGET_BYTES)]
    pub statements_in_flight_bytes: usize,
    /// Largest statement, in bytes of JSON (attachments not counted), and largest JSON document
    /// that a POST merges (larger ones get 413).
    #[arg(long, env = "CAIRN_MAX_STATEMENT_BYTES", default_value_t = 1 << 20)]
    pub max_statement_bytes: usize,
    /// Most JSON values (scalars, arrays, objects) in one statement or merged document.
    #[arg(long, env = "CAIRN_MAX_JSON_ELEMENTS", default_value_t = 100_000)]
    pub max_json_elements: usize,
    /// Deepest nesting of arrays and objects in client JSON.
    #[arg(long, env = "CAIRN_MAX_JSON_DEPTH", default_value_t = 64)]
    pub max_json_depth: usize,
    /// Most JSON values in one statements request (over every statement of a batch).
    #[arg(long, env = "CAIRN_MAX_REQUEST_ELEMENTS", default_value_t = 2_000_000)]
    pub max_request_elements: usize,
    /// xAPI version named in responses to requests that name none (or an unsupported one).
    #[arg(long, env = "CAIRN_DEFAULT_XAPI_VERSION", default_value = "2.0.0")]
    pub default_xapi_version: String,
    /// Under xAPI 1.0.x, refuse (400) a PUT creating an Activity or Agent Profile without If-Match or
    /// If-None-Match, as the ADL 1.0.3 conformance suite expects; by default such a first write is
    /// accepted (the spec asks a precondition only over an existing document).
    #[arg(long, env = "CAIRN_PROFILE_CREATE_NEEDS_PRECONDITION")]
    pub profile_create_needs_precondition: bool,
    /// A request head must arrive in full within this time once it has started (slow-loris).
    #[arg(long, env = "CAIRN_HEADER_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub header_timeout: std::time::Duration,
    /// A request body that sends nothing for this long is answered 408 and its connection closed.
    #[arg(long, env = "CAIRN_BODY_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub body_timeout: std::time::Duration,
    /// A keep-alive connection waiting this long for its next request is closed, and so is one whose
    /// client stops reading the answer for this long.
    #[arg(long, env = "CAIRN_IDLE_TIMEOUT", default_value = "60s", value_parser = humantime::parse_duration)]
    pub idle_timeout: std::time::Duration,
    /// Most open client connections; beyond it idle ones make room, else newcomers get 503. The default
    /// fits the common 1,024 open-file limit (which `serve` raises to the hard limit when it can).
    #[arg(long, env = "CAIRN_MAX_CONNECTIONS", default_value_t = 768)]
    pub max_connections: usize,
    /// On Ctrl-C/SIGTERM, stop accepting and give requests in flight this long to finish.
    #[arg(long, env = "CAIRN_SHUTDOWN_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub shutdown_timeout: std::time::Duration,
    /// Key of the credential created on first start of an empty store (random when unset).
    #[arg(long, env = "CAIRN_BOOTSTRAP_KEY")]
    pub bootstrap_key: Option<String>,
    /// Secret of that credential (random when unset). Never logged.
    #[arg(long, env = "CAIRN_BOOTSTRAP_SECRET", hide_env_values = true)]
    pub bootstrap_secret: Option<String>,
    /// Single sign-on: the OpenID Connect issuer URL (discovery at `/.well-known/openid-configuration`).
    /// Register `PUBLIC_URL/console/sso/callback` and `PUBLIC_URL/learn/sso/callback` as redirect URIs.
    #[arg(long, env = "CAIRN_OIDC_ISSUER", requires = "oidc_client_id")]
    pub oidc_issuer: Option<String>,
    /// Single sign-on: this server's client id at the provider.
    #[arg(long, env = "CAIRN_OIDC_CLIENT_ID", requires = "oidc_issuer")]
    pub oidc_client_id: Option<String>,
    /// Single sign-on: the client secret (none: a public client, PKCE only). Never logged.
    #[arg(long, env = "CAIRN_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<String>,
    /// Single sign-on: scopes asked for besides `openid`, space-separated.
    #[arg(long, env = "CAIRN_OIDC_SCOPES", default_value = "email profile")]
    pub oidc_scopes: String,
    /// Single sign-on: a claim naming the console role (admin, instructor or analyst; a dotted path
    /// such as `realm_access.roles` reaches into objects). When the provider gives a role, it wins over
    /// the role set in Cairn, and a console user is created at the first sign-in. Unset: an admin adds
    /// users (`cairn users add --sso-only`) and sets their roles.
    #[arg(long, env = "CAIRN_OIDC_ROLE_CLAIM")]
    pub oidc_role_claim: Option<String>,
    /// Single sign-on: the provider's name on the sign-in pages ("Sign in with …").
    #[arg(long, env = "CAIRN_OIDC_LABEL", default_value = "single sign-on")]
    pub oidc_label: String,
}

impl ServeArgs {
    /// The single sign-on settings, when an issuer is configured.
    pub fn sso(&self) -> Option<crate::sso::SsoConfig> {
        let issuer = self.oidc_issuer.clone()?;
        Some(crate::sso::SsoConfig {
            issuer,
            client_id: self.oidc_client_id.clone().unwrap_or_default(),
            client_secret: self.oidc_client_secret.clone().filter(|s| !s.is_empty()),
            scopes: self.oidc_scopes.split_whitespace().filter(|s| *s != "openid").map(str::to_string).collect(),
            role_claim: self.oidc_role_claim.clone().filter(|s| !s.is_empty()),
            label: self.oidc_label.clone(),
        })
    }

    /// The JSON bounds these options set.
    pub fn json_limits(&self) -> crate::xapi::json::JsonLimits {
        crate::xapi::json::JsonLimits {
            max_value_bytes: self.max_statement_bytes,
            max_elements: self.max_json_elements,
            max_depth: self.max_json_depth,
            max_request_elements: self.max_request_elements,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a console user with a password (asked for on the terminal unless `--password-stdin`).
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin (everything), instructor (live sessions, attendance, their courses' results) or analyst
        /// (read-only).
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input (for scripts).
        #[arg(long, conflicts_with = "sso_only")]
        password_stdin: bool,
        /// No password: the user signs in only through single sign-on (`serve --oidc-issuer …`),
        /// matched by the provider's verified email at the first sign-in.
        #[arg(long)]
        sso_only: bool,
    },
    /// List console users.
    List,
    /// Disable a user by email; their sessions end at once.
    Disable { email: String },
}

/// Agents are given as `mailto:…` or Agent JSON.
#[derive(Debug, Subcommand)]
pub enum LearnersCommand {
    /// Print a single-use sign-in link to `/learn` for a person (its id, or one of its agents:
    /// `mailto:…` or Agent JSON). It works once, within CAIRN_LEARNER_LINK_TTL (default 15m); set
    /// CAIRN_PUBLIC_URL to the address browsers reach the server by.
    Link {
        person: String,
        /// Print `{person, url, expires_at}` as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// List the months of statements (PostgreSQL keeps each stored month in a table of its own):
    /// range, statements, bytes on disk; archived months last.
    Months {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Move the months before a given month out of the store, into the `cairn_archive` schema
    /// (PostgreSQL), without stopping the LRS. The LRS no longer returns their statements; results
    /// already derived from them stay. Dump the schema with `pg_dump --schema=cairn_archive`, then
    /// drop it to free the space. Asks for confirmation unless `--yes`.
    Archive {
        /// The first month to keep, as YYYY-MM (UTC): every month before it is archived.
        #[arg(long)]
        before: String,
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PersonsCommand {
    /// List persons whose name or identifiers contain a term (all when none is given).
    List {
        #[arg(long, default_value = "")]
        search: String,
    },
    /// Show a person: its id, name and identifiers (JSON). Give the person's id or one of its agents.
    Show { person: String },
    /// Create a person from identifiers, which move here from the persons they belonged to.
    Create {
        #[arg(long)]
        name: Option<String>,
        /// An identifier (repeatable).
        #[arg(long = "agent", required = true)]
        agents: Vec<String>,
    },
    /// Add an identifier to a person (moving it from its previous person).
    Add {
        person: String,
        #[arg(long)]
        agent: String,
    },
    /// Split an identifier off a person into a new person of its own.
    Split {
        person: String,
        #[arg(long)]
        agent: String,
    },
    /// Merge person `from` into person `into` (every identifier of `from` moves).
    Merge { into: String, from: String },
    /// Print everything stored about a person as one JSON document (GDPR article 20).
    Export { person: String },
    /// Erase a person and everything stored about them (GDPR article 17). Asks for the person's id
    /// to be typed again unless `--yes`.
    Erase {
        person: String,
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CredentialsCommand {
    /// Create a credential and print its key and secret (the secret is shown only once).
    Add {
        /// A name for the credential's owner; it appears in the `authority` of statements it stores.
        #[arg(long)]
        name: String,
        /// xAPI scopes (repeatable): statements/write, statements/read, statements/read/mine,
        /// all/read, all, state, define, profile; plus Cairn's `admin`. Default: all.
        #[arg(long = "scope")]
        scopes: Vec<String>,
    },
    /// List credentials (never their secrets).
    List,
    /// Revoke a credential by key.
    Revoke { key: String },
}

#[derive(Debug, Subcommand)]
pub enum ResultsCommand {
    /// Results per learner and course.
    List {
        #[arg(long)]
        course: Option<String>,
        /// `mailto:…` or Agent JSON.
        #[arg(long)]
        learner: Option<String>,
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        compliance: Option<String>,
        /// Write CSV (to stdout, or --out).
        #[arg(long)]
        csv: bool,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Counts per status and compliance, completion rate, mean and median score.
    Summary { course: String },
    /// Recompute every result from the raw statements.
    Rebuild,
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// Announce a live session of a course.
    Create {
        course: String,
        #[arg(long)]
        title: String,
        /// Start (RFC 3339).
        #[arg(long)]
        start: String,
        /// End (RFC 3339).
        #[arg(long)]
        end: String,
        /// IANA time zone the session is announced in.
        #[arg(long, default_value = "UTC")]
        timezone: String,
        /// Most seats; unlimited when absent.
        #[arg(long)]
        capacity: Option<i64>,
        /// Where it takes place.
        #[arg(long)]
        location: Option<String>,
        /// Address of an online session.
        #[arg(long)]
        join_url: Option<String>,
        /// The session is optional for completing the course.
        #[arg(long)]
        optional: bool,
    },
    /// List live sessions (id, course, title, scheduled or cancelled).
    List {
        /// Only the sessions of this course IRI.
        #[arg(long)]
        course: Option<String>,
    },
    /// Book a learner's seat (capacity enforced); records an xAPI `registered` statement.
    Book {
        /// Session id (from `sessions list`).
        session: String,
        /// The learner: `mailto:` address or Agent JSON.
        #[arg(long)]
        learner: String,
        /// When the session is full, join its waitlist (a freed seat goes to the longest waiting).
        #[arg(long)]
        waitlist: bool,
    },
    /// Record that a learner attended; writes an xAPI `attended` statement, which satisfies the session.
    Attend {
        /// Session id (from `sessions list`).
        session: String,
        /// The learner: `mailto:` address or Agent JSON.
        #[arg(long)]
        learner: String,
    },
    /// Cancel a session: it stops being a requirement of its course.
    Cancel {
        /// Session id (from `sessions list`).
        session: String,
    },
}

/// The content origin's listen address: the next port of the API's (any free port when the API's is
/// port 0), unless given.
pub fn content_listen(listen: &str, given: Option<&str>) -> String {
    if let Some(g) = given {
        return g.to_string();
    }
    match listen.rsplit_once(':').and_then(|(host, port)| Some((host, port.parse::<u16>().ok()?))) {
        Some((host, 0)) => format!("{host}:0"),
        Some((host, port)) => format!("{host}:{}", port.wrapping_add(1)),
        None => "127.0.0.1:8081".to_string(),
    }
}

/// The public addresses of the two origins: `CAIRN_PUBLIC_URL` (API) and `CAIRN_CONTENT_URL`
/// (content), each defaulting to its listen address.
pub fn public_urls(listen: &str, content_listen: &str) -> (String, String) {
    let public = std::env::var("CAIRN_PUBLIC_URL").unwrap_or_else(|_| format!("http://{listen}"));
    let content = std::env::var("CAIRN_CONTENT_URL").unwrap_or_else(|_| format!("http://{content_listen}"));
    (public.trim_end_matches('/').to_string(), content.trim_end_matches('/').to_string())
}

/// Hides the password of a database URL so that it can appear in messages: the one in the user
/// part, and a `password=` query parameter (which sqlx accepts as well).
pub fn redact_url(url: &str) -> String {
    let mut out = match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}://{user}:***{}", &url[..s], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    };
    if let Some((base, query)) = out.split_once('?') {
        let query: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => pair.to_string(),
            })
            .collect();
        out = format!("{base}?{}", query.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn content_listens_on_the_next_port_by_default() {
        assert_eq!(super::content_listen("127.0.0.1:8080", None), "127.0.0.1:8081");
        assert_eq!(super::content_listen("[::1]:9000", None), "[::1]:9001");
        assert_eq!(super::content_listen("127.0.0.1:0", None), "127.0.0.1:0");
        assert_eq!(super::content_listen("0.0.0.0:80", Some("0.0.0.0:8443")), "0.0.0.0:8443");
    }

    /// `cairn … --help` describes every subcommand (issue 16 found `sessions list|book|attend|cancel`
    /// without a line of help).
    #[test]
    fn every_subcommand_has_help_text() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for sub in cmd.get_subcommands() {
                let here = format!("{path} {}", sub.get_name());
                if sub.get_about().is_none() && sub.get_name() != "help" {
                    missing.push(here.clone());
                }
                walk(sub, &here, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&<super::Cli as clap::CommandFactory>::command(), "cairn", &mut missing);
        assert!(missing.is_empty(), "subcommands without help: {missing:?}");
    }
}
