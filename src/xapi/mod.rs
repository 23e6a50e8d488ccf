//! The xAPI specification as code: versions, validation, agents and activities, statement preparation,
//! comparison, response formats, attachments and signatures. Nothing here knows about HTTP or SQL.

pub mod activity;
pub mod agent;
pub mod attachments;
pub mod compare;
pub mod duration;
pub mod format;
pub mod json;
pub mod langmap;
pub mod multipart;
pub mod signature;
pub mod statement;
pub mod timestamp;
pub mod validate;
pub mod version;
pub mod view;
pub mod vocab;

pub use version::Version;

/// The ADL verb whose statements void another statement.
pub const VOIDED_VERB: &str = vocab::verbs::VOIDED;
