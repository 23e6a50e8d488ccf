//! Statement bodies on disk: zstd frames (`statements.packed`, migration 0018), with a dictionary
//! trained on the store's own statements once it holds enough of them.
//!
//! A statement is ~1.5 KB of JSON whose names, IRIs and display maps repeat from one statement to
//! the next; alone it compresses to about half, but with a dictionary of what statements share it
//! comes down to a tenth (the bench data set: 1,579 → 750 → 158 bytes). The body was the largest part
//! of the store (`cairn bench size`).
//!
//! A packed value is the zstd frame followed by the dictionary's key (8 bytes, little-endian; 0 for
//! none). Keys are taken from a hash of the dictionary's bytes, so a key means the same dictionary in
//! every database, and dictionaries are cached for the life of the process by key: they are never
//! changed or removed, only added. Rows stored before 0018 keep their text in `statements.body`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, RwLock};

use sha2::{Digest, Sha256};
use zstd::zstd_safe::{self, CCtx, CDict, DCtx, DDict};

/// zstd's default level: most of the gain, a few microseconds for a statement.
const LEVEL: i32 = 3;
/// Statements stored (by this process) before it first looks for a dictionary to train or adopt,
/// and between looks while there is none.
pub(super) const LOOK_EVERY: u64 = 1_000;
/// Statements a dictionary is trained on, the most recent ones, and its size: zstd's guidance is a
/// dictionary of ~100 KB from a few thousand samples of the data it will compress.
pub(super) const TRAIN_ON: i64 = 2_000;
pub(super) const DICTIONARY_BYTES: usize = 64 * 1024;
/// Largest body a frame may claim to hold (the request limits keep statements far below it): a
/// damaged frame cannot make a read allocate without bound.
const MAX_BODY: u64 = 64 * 1024 * 1024;

/// A trained dictionary, prepared for both directions.
pub(in crate::store) struct Dictionary {
    pub key: i64,
    cdict: CDict<'static>,
    ddict: DDict<'static>,
}

impl Dictionary {
    /// Prepares a dictionary's bytes; None when zstd cannot load them.
    pub fn load(bytes: &[u8]) -> Option<Dictionary> {
        Some(Dictionary {
            key: key_of(bytes),
            cdict: CDict::try_create(bytes, LEVEL)?,
            ddict: DDict::try_create(bytes)?,
        })
    }
}

/// A dictionary's key: the first 8 bytes of its SHA-256, never 0 (which means "no dictionary").
pub(in crate::store) fn key_of(bytes: &[u8]) -> i64 {
    let digest = Sha256::digest(bytes);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    match i64::from_le_bytes(first) {
        0 => 1,
        k => k,
    }
}

/// Dictionaries seen by this process, by key (see the module doc for why a global cache is sound).
static KNOWN: LazyLock<RwLock<HashMap<i64, Arc<Dictionary>>>> = LazyLock::new(Default::default);

pub(in crate::store) fn known(key: i64) -> Option<Arc<Dictionary>> {
    KNOWN.read().ok()?.get(&key).cloned()
}

pub(in crate::store) fn remember(d: Dictionary) -> Arc<Dictionary> {
    let d = Arc::new(d);
    if let Ok(mut map) = KNOWN.write() {
        return map.entry(d.key).or_insert(d).clone();
    }
    d
}

thread_local! {
    static CCTX: RefCell<Option<CCtx<'static>>> = const { RefCell::new(None) };
    static DCTX: RefCell<Option<DCtx<'static>>> = const { RefCell::new(None) };
}

/// A body packed with `dictionary` (or none); None if zstd fails, and the body is then stored as text.
pub(in crate::store) fn pack(body: &str, dictionary: Option<&Dictionary>) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(zstd_safe::compress_bound(body.len()) + 8);
    CCTX.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            *cell = CCtx::try_create();
        }
        let cctx = cell.as_mut()?;
        let done = match dictionary {
            Some(d) => cctx.compress_using_cdict(&mut out, body.as_bytes(), &d.cdict),
            None => cctx.compress(&mut out, body.as_bytes(), LEVEL),
        };
        done.ok()
    })?;
    out.extend_from_slice(&dictionary.map_or(0, |d| d.key).to_le_bytes());
    Some(out)
}

/// Why a packed body could not be read.
#[derive(Debug)]
pub(in crate::store) enum Unpack {
    /// Packed with a dictionary this process has not loaded yet.
    Missing(i64),
    Damaged(String),
}

impl std::fmt::Display for Unpack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unpack::Missing(key) => write!(f, "dictionary {key} not loaded"),
            Unpack::Damaged(why) => write!(f, "damaged: {why}"),
        }
    }
}

/// The length of a packed body once unpacked, from its frame header (no dictionary needed).
pub(in crate::store) fn unpacked_len(packed: &[u8]) -> usize {
    let frame = &packed[..packed.len().saturating_sub(8)];
    match zstd_safe::get_frame_content_size(frame) {
        Ok(Some(n)) => usize::try_from(n.min(MAX_BODY)).unwrap_or(usize::MAX),
        _ => packed.len(),
    }
}

/// The dictionary key of a packed body.
fn split(packed: &[u8]) -> Result<(&[u8], i64), Unpack> {
    let Some(at) = packed.len().checked_sub(8) else {
        return Err(Unpack::Damaged(format!("packed body of {} bytes", packed.len())));
    };
    let mut key = [0u8; 8];
    key.copy_from_slice(&packed[at..]);
    Ok((&packed[..at], i64::from_le_bytes(key)))
}

pub(in crate::store) fn unpack(packed: &[u8]) -> Result<String, Unpack> {
    let (frame, key) = split(packed)?;
    let dictionary = match key {
        0 => None,
        k => Some(known(k).ok_or(Unpack::Missing(k))?),
    };
    let size = match zstd_safe::get_frame_content_size(frame) {
        Ok(Some(n)) if n <= MAX_BODY => n as usize,
        other => return Err(Unpack::Damaged(format!("frame content size {other:?}"))),
    };
    let mut out: Vec<u8> = Vec::with_capacity(size);
    DCTX.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            *cell = DCtx::try_create();
        }
        let dctx = cell.as_mut().ok_or_else(|| Unpack::Damaged("no zstd context".into()))?;
        let done = match &dictionary {
            Some(d) => dctx.decompress_using_ddict(&mut out, frame, &d.ddict),
            None => dctx.decompress(&mut out, frame),
        };
        done.map_err(|code| Unpack::Damaged(zstd_safe::get_error_name(code).to_string()))
    })?;
    String::from_utf8(out).map_err(|e| Unpack::Damaged(e.to_string()))
}

/// A store's dictionary state: the one its writers pack with, and when to look for one next.
#[derive(Default)]
pub(in crate::store) struct Bodies {
    current: RwLock<Option<Arc<Dictionary>>>,
    /// Statements this process has stored, and the count at which to look next.
    stored: AtomicU64,
    look_at: AtomicU64,
    looking: AtomicBool,
}

impl Bodies {
    pub fn current(&self) -> Option<Arc<Dictionary>> {
        self.current.read().ok()?.clone()
    }

    pub fn adopt(&self, d: Arc<Dictionary>) {
        if let Ok(mut c) = self.current.write() {
            *c = Some(d);
        }
    }

    /// Counts stored statements; true when the caller should look for a dictionary now (one caller
    /// at a time: it must call [`Bodies::looked`] afterwards).
    pub fn stored(&self, n: usize) -> bool {
        let total = self.stored.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if total < self.look_at.load(Ordering::Relaxed) || self.current().is_some() {
            return false;
        }
        !self.looking.swap(true, Ordering::AcqRel)
    }

    /// A look is over; without a dictionary, the next comes after another [`LOOK_EVERY`] statements.
    pub fn looked(&self) {
        self.look_at.store(self.stored.load(Ordering::Relaxed) + LOOK_EVERY, Ordering::Relaxed);
        self.looking.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(i: usize) -> String {
        format!(
            r#"{{"id":"{i:08}-0000-4000-8000-000000000000","actor":{{"mbox":"mailto:learner{}@example.com"}},"verb":{{"id":"http://adlnet.gov/expapi/verbs/completed","display":{{"en-US":"completed"}}}},"object":{{"id":"https://example.com/course/{}/module/{}"}}}}"#,
            i % 50,
            i % 7,
            i % 13
        )
    }

    #[test]
    fn packs_and_unpacks_with_and_without_a_dictionary() {
        let body = statement(1);
        let plain = pack(&body, None).expect("packed");
        assert_eq!(unpack(&plain).expect("unpacked"), body);
        assert_eq!(unpacked_len(&plain), body.len());

        let samples: Vec<String> = (0..2000).map(statement).collect();
        let bytes = zstd::dict::from_samples(&samples, 16 * 1024).expect("trained");
        let d = Dictionary::load(&bytes).expect("loads");
        let key = d.key;
        assert_ne!(key, 0);
        let with = pack(&body, Some(&d)).expect("packed");
        assert!(with.len() < plain.len(), "{} < {}", with.len(), plain.len());
        // Unknown to the process until remembered: the reader must load it first.
        assert!(matches!(unpack(&with), Err(Unpack::Missing(k)) if k == key));
        remember(d);
        assert_eq!(unpack(&with).expect("unpacked"), body);
    }

    #[test]
    fn damaged_values_are_errors_not_panics() {
        assert!(matches!(unpack(b"short"), Err(Unpack::Damaged(_))));
        let mut packed = pack(&statement(2), None).expect("packed");
        packed[0] ^= 0xff;
        assert!(matches!(unpack(&packed), Err(Unpack::Damaged(_))));
        assert!(matches!(unpack(&[0u8; 20]), Err(Unpack::Damaged(_))));
    }
}
