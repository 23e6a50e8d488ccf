//! Crash safety, on the real binary: several clients POST batches to `cairn serve`, the process is
//! killed with SIGKILL mid-ingest, restarted on the same database, and then every batch whose POST
//! was acknowledged must be fully there, and no batch may be partially stored (a POST is one
//! transaction). Runs on SQLite and PostgreSQL; no timing is asserted.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use uuid::Uuid;

const KEY: &str = "crash-key";
const SECRET: &str = "crash-secret";
const VERSION: &str = "2.0.0";
const CLIENTS: usize = 4;
const BATCH: usize = 50;
/// Acknowledged batches to wait for before the kill (a few seconds of load at most).
const ACKED_BEFORE_KILL: usize = 60;
/// Guards against a wedged server hanging the suite; not a performance bound.
const HANG_GUARD: Duration = Duration::from_secs(120);

/// A `cairn serve` child process, killed (SIGKILL) when dropped so a failing test leaves none behind.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
}

impl Server {
    /// Starts the binary on `database`, listening on a port the OS picks, and waits for the line that
    /// names the bound address.
    pub(crate) fn start(database: &str) -> Server {
        Self::start_with(database, &[])
    }

    /// `start` with more `cairn serve` options.
    pub(crate) fn start_with(database: &str, options: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["serve", "--database", database, "--listen", "127.0.0.1:0"])
            .args(options)
            .env("CAIRN_BOOTSTRAP_KEY", KEY)
            .env("CAIRN_BOOTSTRAP_SECRET", SECRET)
            .env("CAIRN_LOG", "warn")
            .env_remove("CAIRN_DATABASE_URL")
            .env_remove("CAIRN_LISTEN")
            .env_remove("CAIRN_MAX_BODY_BYTES")
            .env_remove("CAIRN_PAGE_LIMIT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start cairn serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        // Keeps draining stdout so the child can never block on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        loop {
            match rx.recv_timeout(HANG_GUARD) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix("Cairn xAPI LRS listening on ") {
                        let base = url.trim().trim_end_matches('/').trim_end_matches("/xapi").to_string();
                        return Server { child, base };
                    }
                }
                Err(e) => {
                    let _ = child.kill();
                    let status = child.wait();
                    panic!("cairn serve did not report listening ({e}); exit: {status:?}");
                }
            }
        }
    }

    /// SIGKILL (what `Child::kill` sends on Unix): no shutdown code runs.
    pub(crate) fn kill(mut self) {
        self.child.kill().expect("SIGKILL cairn");
        let status = self.child.wait().expect("reap cairn");
        assert!(!status.success(), "cairn was killed, not exited: {status:?}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One POSTed batch: its registration (which tags every statement in it) and client-chosen ids.
struct Batch {
    number: usize,
    registration: String,
    ids: BTreeSet<String>,
    acknowledged: bool,
}

struct Shared {
    base: String,
    next_batch: AtomicUsize,
    acknowledged: AtomicUsize,
    killed: AtomicBool,
}

fn statement(id: &str, client: usize, batch: usize, i: usize, registration: &str) -> Value {
    json!({
        "id": id,
        "actor": {"objectType": "Agent", "mbox": format!("mailto:client{client}@example.com")},
        "verb": {"id": "http://example.com/verbs/ingested"},
        "object": {"objectType": "Activity", "id": format!("http://example.com/batches/{batch}/{i}")},
        "context": {"registration": registration, "extensions": {"http://example.com/ext/batch": batch}}
    })
}

/// POSTs batches until the server goes away; returns every batch it attempted and whether the
/// server acknowledged it. Any answer other than 200 is a failure: the load is all valid.
async fn client(n: usize, shared: Arc<Shared>) -> Vec<Batch> {
    let http = reqwest::Client::builder().timeout(HANG_GUARD).build().expect("client");
    let mut batches = Vec::new();
    loop {
        let number = shared.next_batch.fetch_add(1, Ordering::SeqCst);
        let registration = Uuid::new_v4().to_string();
        let ids: Vec<String> = (0..BATCH).map(|_| Uuid::new_v4().to_string()).collect();
        let body: Vec<Value> =
            ids.iter().enumerate().map(|(i, id)| statement(id, n, number, i, &registration)).collect();
        let mut batch = Batch { number, registration, ids: ids.iter().cloned().collect(), acknowledged: false };
        let sent = http
            .post(format!("{}/xapi/statements", shared.base))
            .basic_auth(KEY, Some(SECRET))
            .header("X-Experience-API-Version", VERSION)
            .json(&body)
            .send()
            .await;
        // The answer only counts once its body has arrived whole: that is the acknowledgement.
        let answer = match sent {
            Ok(r) => {
                let status = r.status().as_u16();
                r.json::<Value>().await.map(|v| (status, v))
            }
            Err(e) => Err(e),
        };
        match answer {
            Ok((200, returned)) => {
                let returned: Vec<String> = serde_json::from_value(returned).expect("POST answers an id array");
                assert_eq!(returned, ids, "POST answers the client-chosen ids in order");
                batch.acknowledged = true;
                batches.push(batch);
                shared.acknowledged.fetch_add(1, Ordering::SeqCst);
            }
            Ok((status, body)) => panic!("client {n}: batch {number} got {status}: {body}"),
            Err(e) => {
                assert!(shared.killed.load(Ordering::SeqCst), "client {n}: batch {number} failed before the kill: {e}");
                batches.push(batch);
                return batches;
            }
        }
    }
}

async fn kill_mid_ingest_then_restart(database: &str) {
    let server = Server::start(database);
    let shared = Arc::new(Shared {
        base: server.base.clone(),
        next_batch: AtomicUsize::new(0),
        acknowledged: AtomicUsize::new(0),
        killed: AtomicBool::new(false),
    });
    let tasks: Vec<_> = (0..CLIENTS).map(|n| tokio::spawn(client(n, shared.clone()))).collect();
    while shared.acknowledged.load(Ordering::SeqCst) < ACKED_BEFORE_KILL {
        assert!(!tasks.iter().any(|t| t.is_finished()), "a client stopped before the kill");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // A random few milliseconds more, so the kill lands at a different point of the pipeline each
    // run (parsing, validating, waiting for the write lock, committing, answering).
    tokio::time::sleep(Duration::from_micros((Uuid::new_v4().as_u128() % 20_000) as u64)).await;
    shared.killed.store(true, Ordering::SeqCst);
    server.kill();
    let mut batches = Vec::new();
    for t in tasks {
        batches.extend(t.await.expect("client task"));
    }
    let acknowledged = batches.iter().filter(|b| b.acknowledged).count();
    assert!(acknowledged >= ACKED_BEFORE_KILL);

    // Restart on the same database (migrations and bootstrap must cope with the unclean stop).
    let server = Server::start(database);
    let http = reqwest::Client::new();
    let get = |path: String| {
        http.get(format!("{}{path}", server.base))
            .basic_auth(KEY, Some(SECRET))
            .header("X-Experience-API-Version", VERSION)
            .send()
    };
    let mut present = 0;
    let mut lost_answers = 0;
    let mut stored: HashMap<String, usize> = HashMap::new();
    for b in &batches {
        let r = get(format!("/xapi/statements?registration={}&format=ids&limit={}", b.registration, 2 * BATCH))
            .await
            .expect("query after restart");
        assert_eq!(r.status(), 200);
        let page: Value = r.json().await.expect("statement result");
        assert_eq!(page["more"].as_str().unwrap_or(""), "", "one page holds a batch");
        let ids: BTreeSet<String> = page["statements"]
            .as_array()
            .expect("statements array")
            .iter()
            .map(|s| s["id"].as_str().expect("statement id").to_string())
            .collect();
        if b.acknowledged {
            assert_eq!(ids, b.ids, "acknowledged batch {} is fully stored", b.number);
        } else {
            assert!(ids.is_empty() || ids == b.ids, "batch {} is partially stored: {} of {BATCH}", b.number, ids.len());
            if !ids.is_empty() {
                lost_answers += 1;
            }
        }
        if !ids.is_empty() {
            present += 1;
            for id in ids {
                stored.insert(id, b.number);
            }
        }
    }

    // Nothing else is in the store: page through everything.
    let mut total = 0;
    let mut next = "/xapi/statements?format=ids&limit=500".to_string();
    while !next.is_empty() {
        let page: Value = get(next.clone()).await.expect("page").json().await.expect("page body");
        for s in page["statements"].as_array().expect("statements array") {
            let id = s["id"].as_str().expect("id");
            assert!(stored.contains_key(id), "statement {id} belongs to no attempted batch");
            total += 1;
        }
        next = page["more"].as_str().unwrap_or("").to_string();
    }
    assert_eq!(total, stored.len());
    eprintln!(
        "crash test on {}: {} batches attempted, {acknowledged} acknowledged, {present} stored \
         ({lost_answers} stored whose answer was lost), {} absent",
        database.split(':').next().unwrap_or(""),
        batches.len(),
        batches.len() - present
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("crash.db").display());
    kill_mid_ingest_then_restart(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    if let Some(url) = crate::support::postgres_url() {
        kill_mid_ingest_then_restart(&url).await;
    }
}
