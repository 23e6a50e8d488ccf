//! SCORM 1.2 placeholder (filled in below).
