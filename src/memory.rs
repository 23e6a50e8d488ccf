//! The process's memory: one allocator for Rust and SQLite, and pages handed back promptly.
//!
//! The binary's allocator is mimalloc (main.rs, Cargo.toml). Three settings keep the resident size
//! near what is in use (BENCHMARKS.md, "Memory, third pass"):
//!
//! - **SQLite allocates from mimalloc too** ([`sqlite_uses_mimalloc`]). Otherwise it uses the C
//!   library's `malloc`, and sqlx runs each SQLite connection on a thread of its own: nine threads
//!   (eight readers, one writer), each with a glibc arena that keeps its high-water mark resident.
//!   SQLite takes an allocator only before it initialises (`sqlite3_config(SQLITE_CONFIG_MALLOC)`),
//!   so this runs once, before the process's first SQLite connection: every way this crate opens a
//!   SQLite database calls it first.
//! - **No transparent huge pages** ([`tune_process`]). mimalloc asks for them on its arenas, and
//!   with the kernel's `madvise` mode a touched byte then makes 2 MiB resident.
//! - **Freed pages go back after 10 ms** instead of mimalloc 3's default 1 s (`purge_delay`), so a
//!   burst's memory does not outlive it.
//!
//! No crate offers these hooks (sqlx leaves `sqlite3_config` to the caller, the mimalloc crate has
//! no option setters), so this is the crate's one `unsafe` module, kept to C calls and the shims
//! SQLite calls.

use std::ffi::{c_int, c_void};
use std::sync::OnceLock;

use libmimalloc_sys as mi;
use libsqlite3_sys as ffi;

// SAFETY (all shims): SQLite passes back only pointers it got from these functions, and sizes it
// computed; mimalloc's functions accept any such pointer (and null for free and realloc). Sizes
// are never negative in SQLite's calls; a negative one is refused (null), as SQLite expects of a
// failed allocation.

unsafe extern "C" fn x_malloc(n: c_int) -> *mut c_void {
    match usize::try_from(n) {
        Ok(n) => unsafe { mi::mi_malloc(n) },
        Err(_) => std::ptr::null_mut(),
    }
}

unsafe extern "C" fn x_free(p: *mut c_void) {
    unsafe { mi::mi_free(p) }
}

unsafe extern "C" fn x_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    match usize::try_from(n) {
        Ok(n) => unsafe { mi::mi_realloc(p, n) },
        Err(_) => std::ptr::null_mut(),
    }
}

/// The usable size of an allocation: SQLite uses the slack (its page cache and string builders).
unsafe extern "C" fn x_size(p: *mut c_void) -> c_int {
    c_int::try_from(unsafe { mi::mi_usable_size(p) }).unwrap_or(c_int::MAX)
}

/// What an allocation of `n` bytes really gets, so SQLite can ask for exactly that.
unsafe extern "C" fn x_roundup(n: c_int) -> c_int {
    match usize::try_from(n) {
        Ok(u) => c_int::try_from(unsafe { mi::mi_good_size(u) }).unwrap_or(n),
        Err(_) => n,
    }
}

unsafe extern "C" fn x_init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_shutdown(_: *mut c_void) {}

static INSTALLED: OnceLock<bool> = OnceLock::new();

/// Hands SQLite mimalloc's functions, once per process; true if SQLite took them. It does not when
/// something opened a SQLite database before (SQLite is then initialised and keeps `malloc`):
/// that costs memory, not correctness, so it is logged and not an error.
pub fn sqlite_uses_mimalloc() -> bool {
    *INSTALLED.get_or_init(|| {
        let methods = ffi::sqlite3_mem_methods {
            xMalloc: Some(x_malloc),
            xFree: Some(x_free),
            xRealloc: Some(x_realloc),
            xSize: Some(x_size),
            xRoundup: Some(x_roundup),
            xInit: Some(x_init),
            xShutdown: Some(x_shutdown),
            pAppData: std::ptr::null_mut(),
        };
        // SAFETY: SQLite copies the structure before returning, and refuses (SQLITE_MISUSE) when it
        // is already initialised, changing nothing; the OnceLock keeps two threads from racing it.
        let rc = unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MALLOC, &methods as *const ffi::sqlite3_mem_methods) };
        if rc != ffi::SQLITE_OK {
            tracing::warn!(code = rc, "SQLite was already initialised: it keeps the C library's allocator");
        }
        rc == ffi::SQLITE_OK
    })
}

/// mimalloc's `mi_option_purge_delay` (mimalloc.h; the -sys crate names only older options). The
/// test below checks the index still means it.
const MI_OPTION_PURGE_DELAY: mi::mi_option_t = 15;
const PURGE_DELAY_MS: std::ffi::c_long = 10;

/// The process-wide settings: no transparent huge pages, freed pages purged after 10 ms. Call it
/// first in `main`, before other threads start (mimalloc's option setter is not thread-safe).
pub fn tune_process() {
    // SAFETY: prctl with integer arguments only; it sets a flag of this process. Its result is
    // ignored: it fails (EINVAL) only on kernels without the flag, where nothing is lost but memory,
    // and this runs before logging is set up, so there is no one to tell.
    let _ = unsafe {
        libc::prctl(
            libc::PR_SET_THP_DISABLE,
            1 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    // SAFETY: an option store; the caller runs this before any other thread exists.
    unsafe { mi::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option index is mimalloc's purge delay: its default (1 s in mimalloc 3, 10 ms in 2)
    /// until set, and what was set after. An index that moved in an upgrade reads otherwise. (Other
    /// tests' threads are running here, unlike in `main`; they only read the option.)
    #[test]
    fn purge_delay_index_is_mimallocs() {
        // SAFETY: option reads and a store; the test process does not depend on the value.
        let before = unsafe { mi::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert!([1000, PURGE_DELAY_MS].contains(&before), "option 15 reads {before}");
        tune_process();
        assert_eq!(unsafe { mi::mi_option_get(MI_OPTION_PURGE_DELAY) }, PURGE_DELAY_MS);
    }

    /// After a store opened, SQLite's own allocations come from mimalloc's heap. The unit tests open
    /// SQLite only through the store, so this fails if any path of the store opened a database
    /// before installing.
    #[tokio::test]
    async fn sqlite_allocates_from_mimalloc() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("a.db").display());
        let _store = crate::store::Store::connect(&url).await.expect("store");
        assert!(sqlite_uses_mimalloc(), "SQLite was initialised before the allocator was installed");
        // SAFETY: a plain allocation and its release through SQLite's own API.
        unsafe {
            let p = ffi::sqlite3_malloc(1000);
            assert!(!p.is_null());
            assert!(mi::mi_is_in_heap_region(p), "SQLite's allocation is not mimalloc's");
            assert!(mi::mi_usable_size(p) >= 1000);
            ffi::sqlite3_free(p);
        }
    }
}
