//! Interoperability with stock xAPI clients: the real `cairn serve` on a fresh SQLite file (and on a
//! fresh PostgreSQL database) is driven by TinCanJS and xAPI.js under Node and by the PyPI `tincan`
//! package under Python. The scripts in `tests/clients/` store, batch, fetch, void, query and page
//! statements and round-trip State, Activity Profile and Agent Profile documents; any mismatch makes
//! them exit non-zero with a message, which fails the test.
//!
//! The clients come from the package registries: `npm ci --prefix tests/clients` and a virtualenv in
//! `tests/clients/.venv` with `tests/clients/requirements.txt` (scripts/test.sh does both). Without them
//! each test prints a loud SKIPPED line, and fails instead when `CAIRN_REQUIRE_CLIENTS=1` (as in CI).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

// The API tests' harness, for its throwaway PostgreSQL cluster (`postgres_url`).
#[allow(dead_code)]
#[path = "api/support.rs"]
mod support;

const KEY: &str = "interop-key";
const SECRET: &str = "interop-secret-0123456789";
const LISTENING: &str = "Cairn xAPI LRS listening on ";
/// Guards against a wedged server or client hanging the suite; not a performance bound.
const HANG_GUARD: Duration = Duration::from_secs(180);

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("clients")
}

/// True (after a loud SKIPPED line) when `why` says a client cannot run here; a panic instead with
/// `CAIRN_REQUIRE_CLIENTS=1`.
fn unavailable(client: &str, why: Option<String>) -> bool {
    let Some(why) = why else { return false };
    if std::env::var("CAIRN_REQUIRE_CLIENTS").as_deref() == Ok("1") {
        panic!("client {client} is required (CAIRN_REQUIRE_CLIENTS=1) but cannot run: {why}");
    }
    // Straight to the process's stderr, past the test harness's output capture, so it shows.
    let _ = writeln!(std::io::stderr(), "!!! SKIPPED client interop test {client}: {why}");
    true
}

fn runs(program: &Path, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .current_dir(clients_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// `node`, when it runs and `npm ci --prefix tests/clients` has installed `package`.
fn node(package: &str) -> Result<PathBuf, String> {
    let node = PathBuf::from("node");
    if !runs(&node, &["--version"]) {
        return Err("`node` not found".into());
    }
    if !clients_dir().join("node_modules").join(package).join("package.json").exists() {
        return Err(format!("tests/clients/node_modules/{package} missing (run `npm ci --prefix tests/clients`)"));
    }
    Ok(node)
}

/// The Python that has the `tincan` package: tests/clients/.venv's, else `python3`.
fn python() -> Result<PathBuf, String> {
    let venv = clients_dir().join(".venv").join("bin").join("python");
    for python in [venv, PathBuf::from("python3")] {
        if runs(&python, &["-c", "import tincan"]) {
            return Ok(python);
        }
    }
    Err("no Python with the `tincan` package (tests/clients/.venv or python3; tests/clients/requirements.txt)".into())
}

/// A running `cairn serve` with a known credential, SIGKILLed when dropped.
struct Server {
    child: Child,
    endpoint: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    /// `db`: a database URL, or None for a fresh SQLite file in the server's temp dir.
    fn start(db: Option<String>) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = db.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("cairn.db").display()));
        let log = dir.path().join("serve.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["--database", &db, "serve", "--listen", "127.0.0.1:0"])
            .env("CAIRN_BOOTSTRAP_KEY", KEY)
            .env("CAIRN_BOOTSTRAP_SECRET", SECRET)
            .env("CAIRN_CONTENT_DIR", dir.path().join("content"))
            .env("CAIRN_LOG", "warn")
            .env_remove("CAIRN_DATABASE_URL")
            .env_remove("CAIRN_LISTEN")
            .env_remove("CAIRN_PUBLIC_URL")
            .env_remove("CAIRN_PAGE_LIMIT")
            .env_remove("CAIRN_MAX_BODY_BYTES")
            .env_remove("CAIRN_DEFAULT_XAPI_VERSION")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("serve log"))
            .spawn()
            .expect("start cairn serve");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Keeps reading to the end so the server never blocks on a full pipe.
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut banner = Vec::new();
        loop {
            match rx.recv_timeout(HANG_GUARD) {
                Ok(line) => match line.strip_prefix(LISTENING) {
                    Some(url) => {
                        let endpoint = url.trim().to_string();
                        return Server { child, endpoint, log, _dir: dir };
                    }
                    None => banner.push(line),
                },
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = std::fs::read_to_string(&log).unwrap_or_default();
                    panic!("cairn serve never said it was listening ({e}); stdout: {banner:?}; stderr: {log}");
                }
            }
        }
    }

    /// Runs a client script against this server; panics with everything it printed unless it exits 0.
    fn run(&self, label: &str, program: &Path, script: &str) {
        let mut child = Command::new(program)
            .arg(script)
            .current_dir(clients_dir())
            .env("CAIRN_URL", &self.endpoint)
            .env("CAIRN_KEY", KEY)
            .env("CAIRN_SECRET", SECRET)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {} {script}: {e}", program.display()));
        let mut stdout = child.stdout.take().expect("stdout");
        let mut stderr = child.stderr.take().expect("stderr");
        let out = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stdout.read_to_string(&mut s);
            s
        });
        let err = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for client") {
                break Some(status);
            }
            if started.elapsed() > HANG_GUARD {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let (out, err) = (out.join().unwrap_or_default(), err.join().unwrap_or_default());
        print!("{out}");
        eprint!("{err}");
        match status {
            Some(s) if s.success() => {}
            _ => {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                panic!(
                    "{label} against Cairn ({}) failed ({}):\n--- stdout\n{out}\n--- stderr\n{err}\n--- cairn serve log\n{log}",
                    self.endpoint,
                    status.map_or("killed after the hang guard".to_string(), |s| s.to_string()),
                );
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

fn database(backend: Backend) -> Option<Option<String>> {
    match backend {
        Backend::Sqlite => Some(None),
        // None (printed loudly) when PostgreSQL is unavailable; a panic with CAIRN_REQUIRE_POSTGRES=1.
        Backend::Postgres => support::postgres_url().map(Some),
    }
}

fn tincanjs(backend: Backend) {
    let node = node("tincanjs");
    if unavailable("tincanjs", node.as_ref().err().cloned()) {
        return;
    }
    let Some(db) = database(backend) else { return };
    Server::start(db).run("TinCanJS", &node.unwrap(), "tincanjs.js");
}

fn xapijs(backend: Backend) {
    let node = node("@xapi/xapi");
    if unavailable("xapijs", node.as_ref().err().cloned()) {
        return;
    }
    let Some(db) = database(backend) else { return };
    Server::start(db).run("xAPI.js", &node.unwrap(), "xapijs.js");
}

fn tincan_python(backend: Backend) {
    let python = python();
    if unavailable("tincan-python", python.as_ref().err().cloned()) {
        return;
    }
    let Some(db) = database(backend) else { return };
    Server::start(db).run("tincan (Python)", &python.unwrap(), "tincan_py.py");
}

#[test]
fn tincanjs_sqlite() {
    tincanjs(Backend::Sqlite);
}

#[test]
fn tincanjs_postgres() {
    tincanjs(Backend::Postgres);
}

#[test]
fn xapijs_sqlite() {
    xapijs(Backend::Sqlite);
}

#[test]
fn xapijs_postgres() {
    xapijs(Backend::Postgres);
}

#[test]
fn tincan_python_sqlite() {
    tincan_python(Backend::Sqlite);
}

#[test]
fn tincan_python_postgres() {
    tincan_python(Backend::Postgres);
}

/// All three clients against one server and store, one after the other: their runs must not disturb
/// each other (each counts only its own statements and documents).
#[test]
fn all_clients_share_one_sqlite_store() {
    let (node_a, node_b, py) = (node("tincanjs"), node("@xapi/xapi"), python());
    let why = [&node_a, &node_b].iter().find_map(|r| r.as_ref().err().cloned()).or(py.as_ref().err().cloned());
    if unavailable("all clients on one store", why) {
        return;
    }
    let server = Server::start(None);
    server.run("TinCanJS", &node_a.unwrap(), "tincanjs.js");
    server.run("xAPI.js", &node_b.unwrap(), "xapijs.js");
    server.run("tincan (Python)", &py.unwrap(), "tincan_py.py");
}
