-- Courses imported from packages. Each import is a new version; the package's files live in the
-- content folder under the version id (see README "Package import").
CREATE TABLE courses (
    id             TEXT PRIMARY KEY,     -- course IRI
    title          TEXT NOT NULL,
    format         TEXT NOT NULL,
    latest_version BIGINT NOT NULL,
    created_us     BIGINT NOT NULL,
    updated_us     BIGINT NOT NULL
);

CREATE TABLE course_versions (
    id             TEXT PRIMARY KEY,     -- UUID; files under CONTENT_DIR/<id>/
    course_id      TEXT NOT NULL REFERENCES courses (id),
    version        BIGINT NOT NULL,
    imported_us    BIGINT NOT NULL,
    package_sha256 TEXT NOT NULL,
    file_count     BIGINT NOT NULL,
    total_bytes    BIGINT NOT NULL,
    body           TEXT NOT NULL,        -- the parsed Course (JSON)
    UNIQUE (course_id, version)
);
