//! The accept loop and connection handling, used by `cairn serve` and by the tests alike, instead of
//! `axum::serve`, which has no knob for the attacks below (issue 11, finding 5: ~1,100 connections
//! that never finished their headers left a server under the usual 1,024 open-file limit unable to
//! accept anyone).
//!
//! - A connection whose request head has started must complete it within `header_timeout`; one that
//!   waits for its next request longer than `idle_timeout` is closed; one whose answer the client
//!   stops reading for `idle_timeout` is closed too. Time spent in a handler is never counted.
//! - A request body that stalls for `body_timeout` (a body shorter than its `Content-Length`) is
//!   answered 408 with our JSON body and the connection closed.
//! - At most `max_connections` are open. Beyond that the longest-waiting connection that is not
//!   serving a request is closed to make room; when every one is busy, the newcomer gets a quick
//!   503 with `Retry-After` (from a small overflow pool; past that it is closed at once). The accept
//!   loop survives every accept error (EMFILE included) by pausing briefly.
//! - Handlers see `ConnectInfo<SocketAddr>` (per-address rate limits).
//! - Shutdown stops accepting, lets requests in flight finish, and gives up after `shutdown_timeout`.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http_body_util::BodyExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};
use tower::ServiceExt;

use super::error::ApiError;

/// Connection handling limits (see the module documentation).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 768,
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

/// Open files kept for everything but client connections (database, package files, logs).
const RESERVED_FDS: u64 = 256;
/// Connections beyond the cap that may be waiting for room or being told 503 at once.
const OVERFLOW: usize = 64;
/// How long a connection beyond the cap waits for an evicted one to hand over its slot.
const OVERFLOW_WAIT: Duration = Duration::from_millis(500);

/// Raises the soft open-file limit to the hard one and returns the limit in force (None where
/// unknown). Hard limits are commonly far above the 1,024 soft default.
pub fn raise_open_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => Some(n),
        Err(e) => {
            tracing::warn!(error = %e, "could not raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE).ok().map(|(soft, _)| soft)
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then drains (see the module documentation).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    cfg: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut max = cfg.max_connections.max(1);
    if let Some(limit) = raise_open_file_limit() {
        let room = limit.saturating_sub(RESERVED_FDS + OVERFLOW as u64).max(16) as usize;
        if room < max {
            tracing::warn!(
                max_connections = max,
                open_file_limit = limit,
                "lowering max connections to fit the open-file limit"
            );
            max = room;
        }
    }
    let app = app.layer(middleware::from_fn_with_state(cfg.body_timeout, body_timeout));
    let shared = Arc::new(Shared {
        cfg: cfg.clone(),
        app,
        slots: Arc::new(Semaphore::new(max)),
        overflow: Arc::new(Semaphore::new(OVERFLOW)),
        conns: Mutex::default(),
        next_id: AtomicU64::new(0),
    });
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE/ENFILE/ENOBUFS and aborted handshakes: keep the loop alive, and pause on
                    // resource exhaustion so as not to spin while connections close.
                    tracing::warn!(error = %e, "accept failed");
                    let pause = if e.raw_os_error().is_some_and(|c| c == 24 || c == 23 || c == 105) { 100 } else { 5 };
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let watcher = graceful.watcher();
        match shared.slots.clone().try_acquire_owned() {
            Ok(slot) => {
                let s = shared.clone();
                tokio::spawn(async move { s.connection(stream, addr, slot, watcher).await });
            }
            Err(_) => {
                let Ok(waiting) = shared.overflow.clone().try_acquire_owned() else {
                    drop(stream); // far beyond the cap: close at once rather than hold a descriptor
                    continue;
                };
                // The longest-waiting idle connection hands its slot straight to the newcomer (a
                // plain wait on the semaphore would let other waiters take it).
                let handoff = shared.evict_one();
                let s = shared.clone();
                tokio::spawn(async move {
                    let slot = match handoff {
                        Some(rx) => tokio::time::timeout(OVERFLOW_WAIT, rx).await.ok().and_then(Result::ok),
                        None => None,
                    };
                    drop(waiting);
                    match slot {
                        Some(slot) => s.connection(stream, addr, slot, watcher).await,
                        None => refuse_busy(stream).await,
                    }
                });
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(cfg.shutdown_timeout, graceful.shutdown()).await.is_err() {
        tracing::warn!("shutdown deadline passed with requests still in flight");
    }
    Ok(())
}

type Slot = tokio::sync::oneshot::Receiver<tokio::sync::OwnedSemaphorePermit>;

struct Shared {
    cfg: ServerConfig,
    app: Router,
    slots: Arc<Semaphore>,
    overflow: Arc<Semaphore>,
    conns: Mutex<HashMap<u64, Arc<ConnState>>>,
    next_id: AtomicU64,
}

impl Shared {
    /// Serves one connection while it holds a slot.
    async fn connection(
        self: Arc<Self>,
        stream: TcpStream,
        addr: SocketAddr,
        slot: tokio::sync::OwnedSemaphorePermit,
        watcher: hyper_util::server::graceful::Watcher,
    ) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let state = Arc::new(ConnState::new());
        if let Ok(mut conns) = self.conns.lock() {
            conns.insert(id, state.clone());
        }
        let app = self.app.clone();
        let svc_state = state.clone();
        let svc = tower::service_fn(move |mut req: Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(addr));
            let guard = BusyGuard::new(svc_state.clone());
            let app = app.clone();
            async move {
                let resp = app.oneshot(req.map(Body::new)).await?;
                // The request counts as in flight until its answer is written (the body is dropped).
                Ok::<_, std::convert::Infallible>(resp.map(|inner| Body::new(Guarded { inner, _guard: guard })))
            }
        });
        let io = TokioIo::new(WatchedIo { inner: stream, state: state.clone() });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            // hyper times the wait for a request head from when it starts waiting (idle included);
            // our watchdog below is finer, so this is only a backstop.
            .header_read_timeout(self.cfg.header_timeout + self.cfg.idle_timeout)
            .max_headers(super::guard::HYPER_MAX_HEADERS)
            .serve_connection(io, hyper_util::service::TowerToHyperService::new(svc));
        let conn = watcher.watch(conn);
        tokio::select! {
            _ = conn => {}
            _ = watchdog(&state, &self.cfg) => {}
        }
        if let Ok(mut conns) = self.conns.lock() {
            conns.remove(&id);
        }
        let handoff = state.handoff.lock().ok().and_then(|mut h| h.take());
        if let Some(tx) = handoff {
            let _ = tx.send(slot); // if the newcomer gave up, the slot returns to the pool
        }
    }

    /// Closes the connection that has waited longest without serving a request, to make room; its slot
    /// arrives on the returned channel. None when every connection is serving a request.
    fn evict_one(&self) -> Option<Slot> {
        let conns = self.conns.lock().ok()?;
        let victim = conns
            .values()
            .filter(|c| c.busy.load(Ordering::Acquire) == 0 && !c.evicted.load(Ordering::Acquire))
            .min_by_key(|c| c.waiting_since());
        let c = victim?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        *c.handoff.lock().ok()? = Some(tx);
        c.evicted.store(true, Ordering::Release);
        c.evict.notify_one();
        Some(rx)
    }
}

/// What the watchdog knows of a connection. Times are milliseconds since `start`.
struct ConnState {
    start: Instant,
    /// Requests being served (head read, answer not yet written).
    busy: AtomicUsize,
    last_activity: AtomicU64,
    /// When the first byte of the current request head arrived (0: none yet).
    head_started: AtomicU64,
    /// When a write to the client started blocking (0: not blocked).
    write_blocked: AtomicU64,
    evicted: AtomicBool,
    evict: Notify,
    /// Where an evicted connection sends its slot.
    handoff: Mutex<Option<tokio::sync::oneshot::Sender<tokio::sync::OwnedSemaphorePermit>>>,
}

impl ConnState {
    fn new() -> ConnState {
        ConnState {
            start: Instant::now(),
            busy: AtomicUsize::new(0),
            last_activity: AtomicU64::new(1),
            head_started: AtomicU64::new(0),
            write_blocked: AtomicU64::new(0),
            evicted: AtomicBool::new(false),
            evict: Notify::new(),
            handoff: Mutex::new(None),
        }
    }

    /// Never 0, which means "unset".
    fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64 + 1
    }

    fn waiting_since(&self) -> u64 {
        match self.head_started.load(Ordering::Acquire) {
            0 => self.last_activity.load(Ordering::Acquire),
            h => h,
        }
    }

    /// When the connection must be closed unless something changes, in ms since `start`.
    fn deadline(&self, cfg: &ServerConfig) -> u64 {
        let ms = |d: Duration| d.as_millis() as u64;
        if self.busy.load(Ordering::Acquire) > 0 {
            return match self.write_blocked.load(Ordering::Acquire) {
                0 => u64::MAX,
                w => w + ms(cfg.idle_timeout),
            };
        }
        match self.head_started.load(Ordering::Acquire) {
            0 => self.last_activity.load(Ordering::Acquire) + ms(cfg.idle_timeout),
            h => h + ms(cfg.header_timeout),
        }
    }
}

/// Marks a request in flight from its head to the end of its answer.
struct BusyGuard(Arc<ConnState>);

impl BusyGuard {
    fn new(state: Arc<ConnState>) -> BusyGuard {
        state.busy.fetch_add(1, Ordering::AcqRel);
        state.head_started.store(0, Ordering::Release);
        BusyGuard(state)
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.last_activity.store(self.0.now(), Ordering::Release);
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An answer's body, holding the request's [`BusyGuard`] until hyper has written it (and dropped it).
struct Guarded {
    inner: Body,
    _guard: BusyGuard,
}

impl axum::body::HttpBody for Guarded {
    type Data = axum::body::Bytes;
    type Error = axum::Error;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }
    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }
    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// Resolves when the connection has overstayed (see [`ConnState::deadline`]) or was evicted.
async fn watchdog(state: &ConnState, cfg: &ServerConfig) {
    loop {
        let deadline = state.deadline(cfg);
        let now = state.now();
        if deadline <= now {
            tracing::debug!("closing a connection that overstayed its timeout");
            return;
        }
        // Re-check at least every second: the deadline moves as the connection makes progress.
        let wait = Duration::from_millis((deadline - now).min(1_000));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = state.evict.notified() => return,
        }
    }
}

/// The TCP stream, reporting progress to the connection's [`ConnState`].
struct WatchedIo {
    inner: TcpStream,
    state: Arc<ConnState>,
}

impl AsyncRead for WatchedIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(res, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            let s = &self.state;
            let now = s.now();
            s.last_activity.store(now, Ordering::Release);
            if s.busy.load(Ordering::Acquire) == 0 && s.head_started.load(Ordering::Acquire) == 0 {
                s.head_started.store(now, Ordering::Release);
            }
        }
        res
    }
}

impl AsyncWrite for WatchedIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.note_write(&res);
        res
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.note_write(&res);
        res
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl WatchedIo {
    fn note_write(&self, res: &Poll<std::io::Result<usize>>) {
        let s = &self.state;
        match res {
            Poll::Pending => {
                if s.write_blocked.load(Ordering::Acquire) == 0 {
                    s.write_blocked.store(s.now(), Ordering::Release);
                }
            }
            Poll::Ready(_) => {
                s.write_blocked.store(0, Ordering::Release);
                s.last_activity.store(s.now(), Ordering::Release);
            }
        }
    }
}

/// The answer to a connection beyond the cap: 503 with `Retry-After`, then close. The request is
/// drained briefly first so that closing does not reset the connection before the client reads.
async fn refuse_busy(mut stream: TcpStream) {
    let body = r#"{"error":{"status":503,"message":"the server has too many open connections; retry shortly"}}"#;
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Retry-After: 1\r\nConnection: close\r\n{}\r\n",
        body.len(),
        super::guard::SECURITY_HEADERS.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect::<String>()
    );
    let answer = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, std::io::Error>(())
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), answer).await;
}

/// A request body that stalls for the timeout (fewer bytes than its `Content-Length`) is answered
/// 408 with our JSON body, and the connection closed, whatever the handler made of the failed read.
async fn body_timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    let timed_out = Arc::new(AtomicBool::new(false));
    let flag = timed_out.clone();
    let req = req.map(|b| {
        Body::new(tower_http::timeout::TimeoutBody::new(limit, b).map_err(move |e| {
            flag.store(true, Ordering::Release);
            axum::Error::new(e)
        }))
    });
    let resp = next.run(req).await;
    if !timed_out.load(Ordering::Acquire) {
        return resp;
    }
    let mut resp = ApiError::Timeout(format!("the request body stalled for {} s", limit.as_secs_f64())).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    super::guard::set_security_headers(h);
    resp
}
