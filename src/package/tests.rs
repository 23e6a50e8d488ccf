//! Tests that drive `import_zip` on the fixture packages, plus parser unit tests.

use std::io::Write;
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::*;

/// `fixtures/packages`, found from this file's path so it works both in the
/// crate (relative `file!()`, cwd = crate root) and from a scratch crate.
fn fixtures() -> PathBuf {
    let here = Path::new(file!());
    let root = here.ancestors().nth(3).unwrap_or(Path::new(""));
    root.join("fixtures/packages")
}

fn collect(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("fixture dir").flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        if e.path().is_dir() {
            collect(&e.path(), &format!("{name}/"), out);
        } else {
            out.push((name, e.path()));
        }
    }
}

/// Zips a fixture folder, plus extra in-memory entries.
fn zip_fixture(name: &str, extra: &[(&str, &[u8])]) -> tempfile::NamedTempFile {
    let mut files = Vec::new();
    collect(&fixtures().join(name), "", &mut files);
    let tmp = tempfile::NamedTempFile::new().expect("tmp");
    let mut w = ZipWriter::new(tmp.reopen().expect("reopen"));
    let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (n, p) in files {
        w.start_file(n, opts).expect("start");
        w.write_all(&std::fs::read(p).expect("read")).expect("write");
    }
    for (n, data) in extra {
        w.start_file(*n, opts).expect("start");
        w.write_all(data).expect("write");
    }
    w.finish().expect("finish");
    tmp
}

fn zip_entries(entries: &[(&str, &[u8])], opts: SimpleFileOptions) -> tempfile::NamedTempFile {
    let tmp = tempfile::NamedTempFile::new().expect("tmp");
    let mut w = ZipWriter::new(tmp.reopen().expect("reopen"));
    for (n, data) in entries {
        w.start_file(*n, opts).expect("start");
        w.write_all(data).expect("write");
    }
    w.finish().expect("finish");
    tmp
}

fn import_with(zip: &Path, limits: &Limits) -> (Result<Imported, PackageError>, tempfile::TempDir) {
    let dest = tempfile::tempdir().expect("tempdir");
    let r = import_zip(zip, dest.path(), limits, &mut |_| {});
    (r, dest)
}

fn import(zip: &Path) -> (Result<Imported, PackageError>, tempfile::TempDir) {
    import_with(zip, &Limits::default())
}

fn ok(zip: &Path) -> (Imported, tempfile::TempDir) {
    let (r, d) = import(zip);
    match r {
        Ok(i) => (i, d),
        Err(e) => panic!("import failed: {e}"),
    }
}

fn module<'a>(c: &'a Course, id: &str) -> &'a Module {
    c.modules().into_iter().find(|m| m.id == id).unwrap_or_else(|| panic!("no module {id}"))
}

const MANIFEST_12: &str = r#"<manifest identifier="m" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
 xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
 <organizations default="o"><organization identifier="o"><title>T</title>
 <item identifier="i" identifierref="r"><title>I</title></item></organization></organizations>
 <resources><resource identifier="r" type="webcontent" adlcp:scormtype="sco" href="index.html"/></resources>
</manifest>"#;
const HTML: &[u8] = b"<html></html>";

// ---------------------------------------------------------------- zip safety

fn malicious(name: &str) -> PackageError {
    let (r, _d) = import(&fixtures().join("malicious").join(name));
    match r {
        Ok(_) => panic!("{name} was accepted"),
        Err(e) => e,
    }
}

#[test]
fn zip_slip_parent_refused() {
    assert!(matches!(malicious("zipslip-parent.zip"), PackageError::UnsafePath { .. }));
}

#[test]
fn zip_slip_absolute_refused() {
    assert!(matches!(malicious("zipslip-absolute.zip"), PackageError::UnsafePath { .. }));
}

#[test]
fn zip_slip_backslash_refused() {
    let e = malicious("zipslip-backslash.zip");
    assert!(matches!(e, PackageError::UnsafePath { .. }), "{e}");
}

#[test]
fn symlink_entry_refused() {
    assert!(matches!(malicious("symlink.zip"), PackageError::Symlink(_)));
}

#[test]
fn duplicate_entry_refused() {
    assert!(matches!(malicious("duplicate.zip"), PackageError::DuplicateEntry(_)));
}

#[test]
fn encrypted_entry_refused() {
    assert!(matches!(malicious("encrypted.zip"), PackageError::Encrypted(_)));
}

#[test]
fn non_utf8_name_refused() {
    assert!(matches!(malicious("nonutf8.zip"), PackageError::NonUtf8Name(_)));
}

#[test]
fn lying_sizes_are_caught_by_counting() {
    let e = malicious("lying-size.zip");
    eprintln!("lying-size: {e}");
    assert!(matches!(e, PackageError::Limit(_) | PackageError::Zip(_)), "{e}");
}

#[test]
fn bytes_are_counted_not_trusted() {
    // Declared sizes pass (10 bytes) but the stream inflates to 1 MiB: the
    // per-file limit must trip on real bytes if the zip crate does not.
    let limits = Limits { max_file_bytes: 1000, ..Limits::default() };
    let (r, _d) = import_with(&fixtures().join("malicious/lying-size.zip"), &limits);
    assert!(r.is_err());
}

#[test]
fn zip_bomb_file_limit() {
    let zeros = vec![0u8; 4 << 20];
    let z = zip_entries(
        &[("imsmanifest.xml", MANIFEST_12.as_bytes()), ("index.html", HTML), ("bomb.bin", &zeros)],
        SimpleFileOptions::default().compression_method(CompressionMethod::Deflated),
    );
    assert!(std::fs::metadata(z.path()).map(|m| m.len()).unwrap_or(0) < 100_000);
    let limits = Limits { max_file_bytes: 1 << 20, ..Limits::default() };
    let (r, _d) = import_with(z.path(), &limits);
    assert!(matches!(r, Err(PackageError::Limit(_))));
}

#[test]
fn zip_bomb_total_limit() {
    let zeros = vec![0u8; 600 << 10];
    let z = zip_entries(
        &[("imsmanifest.xml", MANIFEST_12.as_bytes()), ("index.html", HTML), ("a.bin", &zeros), ("b.bin", &zeros)],
        SimpleFileOptions::default().compression_method(CompressionMethod::Deflated),
    );
    let limits = Limits { max_total_bytes: 1 << 20, ..Limits::default() };
    let (r, _d) = import_with(z.path(), &limits);
    assert!(matches!(r, Err(PackageError::Limit(ref m)) if m.contains("total")));
}

#[test]
fn entry_count_limit() {
    let z = zip_fixture("scorm12-single", &[("a", b"1"), ("b", b"2"), ("c", b"3")]);
    let limits = Limits { max_entries: 4, ..Limits::default() };
    let (r, _d) = import_with(z.path(), &limits);
    assert!(matches!(r, Err(PackageError::Limit(ref m)) if m.contains("entries")));
}

#[test]
fn manifest_size_limit() {
    let z = zip_fixture("scorm12-single", &[]);
    let limits = Limits { max_manifest_bytes: 100, ..Limits::default() };
    let (r, _d) = import_with(z.path(), &limits);
    assert!(matches!(r, Err(PackageError::Limit(ref m)) if m.contains("imsmanifest.xml")));
}

#[test]
fn deep_manifest_refused() {
    let deep = format!(
        "<manifest xmlns=\"http://www.imsproject.org/xsd/imscp_rootv1p1p2\">{}{}</manifest>",
        "<x>".repeat(200),
        "</x>".repeat(200)
    );
    let z = zip_entries(&[("imsmanifest.xml", deep.as_bytes())], SimpleFileOptions::default());
    let (r, _d) = import(z.path());
    match r {
        Err(PackageError::Manifest { message, .. }) => {
            assert!(message.contains("nesting"), "{message}")
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn dtd_and_external_entities_refused() {
    let z = zip_fixture("scorm-dtd", &[]);
    let (r, _d) = import(z.path());
    match r {
        Err(PackageError::Manifest { location, message }) => {
            assert!(message.contains("DTD"), "{message}");
            assert_eq!(location.file, "imsmanifest.xml");
            assert!(location.line.is_some());
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn billion_laughs_refused() {
    let xml = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd">&lol2;</courseStructure>"#;
    assert!(matches!(parse_cmi5_xml(xml), Err(PackageError::Manifest { .. })));
}

#[test]
fn zip64_is_supported() {
    let z = zip_entries(
        &[("imsmanifest.xml", MANIFEST_12.as_bytes()), ("index.html", HTML)],
        SimpleFileOptions::default().large_file(true),
    );
    let (i, _d) = ok(z.path());
    assert_eq!(i.files.len(), 2);
}

#[test]
fn unknown_format_refused() {
    let z = zip_entries(&[("index.html", HTML)], SimpleFileOptions::default());
    assert!(matches!(import(z.path()).0, Err(PackageError::UnknownFormat)));
}

#[test]
fn not_a_zip_refused() {
    let mut t = tempfile::NamedTempFile::new().expect("tmp");
    t.write_all(b"this is not a zip").expect("write");
    assert!(matches!(import(t.path()).0, Err(PackageError::Zip(_))));
}

#[test]
fn stored_files_have_hash_type_and_size() {
    let z = zip_fixture("scorm12-single", &[]);
    let mut calls = 0;
    let dest = tempfile::tempdir().expect("tempdir");
    let i = import_zip(z.path(), dest.path(), &Limits::default(), &mut |_| calls += 1).expect("import");
    let html = i.files.iter().find(|f| f.path == "index.html").expect("index");
    assert_eq!(html.content_type, "text/html; charset=utf-8");
    let bytes = std::fs::read(dest.path().join("index.html")).expect("extracted");
    assert_eq!(html.size, bytes.len() as u64);
    use sha2::Digest;
    assert_eq!(html.sha256, hex::encode(sha2::Sha256::digest(&bytes)));
    assert_eq!(calls, 2);
    assert_eq!(content_type("a/B.WOFF2"), "font/woff2");
    assert_eq!(content_type("noext"), "application/octet-stream");
}

// ---------------------------------------------------------------- SCORM

#[test]
fn scorm12_single_sco() {
    let z = zip_fixture("scorm12-single", &[]);
    let (i, _d) = ok(z.path());
    let c = &i.course;
    assert_eq!(c.format, Format::Scorm12);
    assert_eq!(c.title, "Single SCO Course");
    assert_eq!(c.schema_version.as_deref(), Some("1.2"));
    let m = module(c, "ITEM-1");
    assert_eq!(m.launch_url, "index.html");
    assert_eq!(m.scorm_type, Some(ScormType::Sco));
    assert_eq!(m.rules.mastery_score, Some(MasteryScore::Raw(80.0)));
    assert!(i.warnings.is_empty(), "{:?}", i.warnings);
}

#[test]
fn scorm12_multi_sco_in_wrapping_folder() {
    let z = zip_fixture(
        "scorm12-multi",
        &[("__MACOSX/My Course/._imsmanifest.xml", b"junk"), (".DS_Store", b"junk"), ("My Course/.DS_Store", b"j")],
    );
    let (i, d) = ok(z.path());
    let c = &i.course;
    assert_eq!(c.format, Format::Scorm12);
    assert!(i.warnings.iter().any(|w| w.contains("My Course/")), "{:?}", i.warnings);
    assert!(i.warnings.iter().any(|w| w.contains("missing-image.png")), "{:?}", i.warnings);
    assert!(!i.files.iter().any(|f| f.path.contains("MACOSX") || f.path.contains(".DS_Store")));
    assert!(d.path().join("sco1/start.html").is_file());
    assert_eq!(c.organization_id.as_deref(), Some("org,1"));
    let Node::Block(b) = &c.root[0] else { panic!("block expected") };
    assert_eq!(b.id, "module(1)");
    assert_eq!(b.children.len(), 2);
    let l1 = module(c, "lesson.1");
    assert_eq!(l1.launch_url, "sco1/start.html?lang=en&chapter=1");
    assert_eq!(l1.prerequisites.as_deref(), Some("lesson.0"));
    assert_eq!(l1.rules.max_time_allowed.as_deref(), Some("00:30:00"));
    assert_eq!(l1.rules.time_limit_action.as_deref(), Some("exit,message"));
    assert_eq!(l1.launch_data.as_deref(), Some("some data"));
    assert_eq!(l1.rules.mastery_score, Some(MasteryScore::Raw(70.0)));
    // one resource, two items, tracked separately
    let l2 = module(c, "lesson.2");
    assert_eq!(l2.launch_url, "sco1/start.html?lang=en#page2");
    assert_eq!(l2.resource_id.as_deref(), Some("r1"));
    let l3 = module(c, "lesson.3");
    assert_eq!(l3.launch_url, "sco2/page.htm");
    assert!(!l3.visible);
    assert_eq!(l3.scorm_type, Some(ScormType::Sco));
    assert_eq!(module(c, "glossary").scorm_type, Some(ScormType::Asset));
    assert_eq!(c.metadata_files, vec!["meta.xml".to_owned()]);
}

#[test]
fn scorm2004_3rd_sequencing() {
    let z = zip_fixture("scorm2004-3rd", &[]);
    let (i, _d) = ok(z.path());
    let c = &i.course;
    assert_eq!(c.format, Format::Scorm2004 { edition: Scorm2004Edition::Third });
    assert_eq!(c.organization_id.as_deref(), Some("MAIN"));
    assert_eq!(c.title, "Sequenced Course");
    assert_eq!(c.other_organizations.len(), 1);
    assert_eq!(c.other_organizations[0].id, "ALT");
    let s1 = module(c, "sco-1");
    assert_eq!(s1.launch_url, "content/sco1.html?mode=a");
    assert_eq!(s1.launch_data.as_deref(), Some("launch-data-1"));
    assert_eq!(s1.rules.time_limit_action.as_deref(), Some("continue,no message"));
    let ct = s1.rules.completion_threshold.expect("threshold");
    assert!(ct.completed_by_measure);
    assert_eq!(ct.min_progress_measure, 0.75);
    assert_eq!(s1.rules.objectives.len(), 2);
    let p = &s1.rules.objectives[0];
    assert!(p.primary && p.satisfied_by_measure);
    assert_eq!(p.min_normalized_measure, 0.6);
    assert_eq!(p.maps[0].target_objective_id, "global-1");
    assert!(p.maps[0].write_satisfied_status);
    assert!(!s1.rules.objectives[1].primary);
    // local deliveryControls override the shared collection entry; the rest is inherited
    let dc = s1.rules.delivery_controls.expect("dc");
    assert!(!dc.tracked && dc.completion_set_by_content);
    assert_eq!(s1.rules.attempt_limit, Some(3));
    assert_eq!(s1.rules.max_time_allowed.as_deref(), Some("PT1H"));
    assert_eq!(s1.rules.sequencing_ref.as_deref(), Some("common-seq"));
    assert!(!s1.rules.control_mode.expect("cm").choice_exit);
    let s2 = module(c, "sco-2");
    assert!(!s2.visible);
    assert!(s2.rules.delivery_controls.expect("dc").tracked);
    let Node::Block(ch) = &c.root[0] else { panic!("block") };
    let cm = ch.rules.control_mode.expect("cm");
    assert!(!cm.choice && cm.flow);
    let rollup = ch.rules.rollup.as_ref().expect("rollup");
    assert_eq!(rollup.objective_measure_weight, 0.5);
    assert_eq!(rollup.rules[0].child_activity_set, "atLeastCount");
    assert_eq!(rollup.rules[0].minimum_count, 1);
    assert_eq!(rollup.rules[0].condition_combination, "all");
    assert!(rollup.rules[0].conditions[0].negated);
    assert_eq!(rollup.rules[0].action, "notSatisfied");
}

#[test]
fn scorm2004_4th_submanifest_and_bad_default() {
    let z = zip_fixture("scorm2004-4th", &[]);
    let (i, _d) = ok(z.path());
    let c = &i.course;
    assert_eq!(c.format, Format::Scorm2004 { edition: Scorm2004Edition::Fourth });
    assert!(i.warnings.iter().any(|w| w.contains("NOWHERE")), "{:?}", i.warnings);
    let m = module(c, "i1");
    let ct = m.rules.completion_threshold.expect("ct");
    assert!(ct.completed_by_measure);
    assert_eq!(ct.min_progress_measure, 0.9);
    assert_eq!(ct.progress_weight, 2.0);
    assert!(m.rules.objectives[0].primary && m.rules.objectives[0].id.is_none());
    let rc = m.rules.rollup_considerations.as_ref().expect("rc");
    assert_eq!(rc.required_for_satisfied, "ifAttempted");
    assert_eq!(rc.required_for_completed, "always");
    assert!(!rc.measure_satisfaction_if_active);
    assert_eq!(module(c, "sub-i").launch_url, "sub/part.html");
    let Node::Block(b) = &c.root[1] else { panic!("block") };
    assert_eq!(b.id, "i2");
}

#[test]
fn scorm_empty_organizations_one_item_per_sco() {
    let z = zip_fixture("scorm2004-noorg", &[]);
    let (i, _d) = ok(z.path());
    let ids: Vec<_> = i.course.modules().iter().map(|m| m.id.clone()).collect();
    assert_eq!(ids, vec!["A", "B"]);
    assert!(matches!(i.course.format, Format::Scorm2004 { .. }));
    assert!(i.warnings.iter().any(|w| w.contains("schemaversion")), "{:?}", i.warnings);
}

#[test]
fn scorm_missing_launch_file_is_fatal() {
    let z = zip_fixture("scorm-missing-launch", &[]);
    match import(z.path()).0 {
        Err(PackageError::MissingLaunchFile { path, module, .. }) => {
            assert_eq!(path, "launch/missing.html");
            assert_eq!(module, "i");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn scorm_launch_file_case_mismatch_is_fixed() {
    let z =
        zip_entries(&[("imsmanifest.xml", MANIFEST_12.as_bytes()), ("Index.HTML", HTML)], SimpleFileOptions::default());
    let (i, _d) = ok(z.path());
    assert_eq!(i.course.modules()[0].launch_url, "Index.HTML");
    assert!(i.warnings.iter().any(|w| w.contains("case")), "{:?}", i.warnings);
}

fn parse_scorm(xml: &str) -> Result<Parsed, PackageError> {
    scorm::parse("imsmanifest.xml", xml, &Limits::default())
}

#[test]
fn scorm_unit_rules() {
    // identifierref to nowhere: refused with a line number
    let bad = MANIFEST_12.replace("identifierref=\"r\"", "identifierref=\"nope\"");
    match parse_scorm(&bad) {
        Err(PackageError::Manifest { location, message }) => {
            assert_eq!(location.line, Some(4));
            assert!(message.contains("nope"));
        }
        other => panic!("unexpected {:?}", other.map(|p| p.course)),
    }
    // no scormtype means asset; no schemaversion is inferred as 1.2 with a warning
    let asset = MANIFEST_12.replace(" adlcp:scormtype=\"sco\"", "");
    let p = parse_scorm(&asset).expect("parse");
    assert_eq!(p.course.modules()[0].scorm_type, Some(ScormType::Asset));
    assert!(p.course.warnings.iter().any(|w| w.contains("schemaversion")));
    // a launch path climbing out of the package is refused
    let out = MANIFEST_12.replace("href=\"index.html\"", "href=\"../x.html\"");
    assert!(parse_scorm(&out).is_err());
    // absolute hrefs are kept
    let abs = MANIFEST_12.replace("href=\"index.html\"", "href=\"https://cdn.example.com/a.html\"");
    let p = parse_scorm(&abs).expect("parse");
    assert!(p.course.modules()[0].launch_is_absolute);
    // a resource without href cannot be launched
    let nohref = MANIFEST_12.replace(" href=\"index.html\"", "");
    assert!(parse_scorm(&nohref).is_err());
    // SCORM 1.2 content under the 2004 CP namespace is still 1.2 thanks to adlcp
    let mixed = MANIFEST_12.replace(scorm::CP12, scorm::CP2004);
    assert_eq!(parse_scorm(&mixed).expect("parse").course.format, Format::Scorm12);
    // malformed XML names the line
    match parse_scorm("<manifest>\n<organizations>\n</manifest>") {
        Err(PackageError::Manifest { location, .. }) => assert_eq!(location.line, Some(3)),
        other => panic!("unexpected {:?}", other.map(|p| p.course)),
    }
}

#[test]
fn scorm_windows_1252_manifest_is_transcoded() {
    let mut bytes = b"<?xml version=\"1.0\" encoding=\"windows-1252\"?>".to_vec();
    bytes.extend(MANIFEST_12.replace("<title>T</title>", "<title>Caf\u{e9}</title>").chars().map(|c| c as u32 as u8));
    let mut w = Vec::new();
    let text = xml::decode("imsmanifest.xml", &bytes, &mut w).expect("decode");
    let p = parse_scorm(&text).expect("parse");
    assert_eq!(p.course.title, "Caf\u{e9}");
}

// ---------------------------------------------------------------- cmi5

#[test]
fn cmi5_course_with_blocks() {
    let z = zip_fixture("cmi5-blocks", &[]);
    let (i, _d) = ok(z.path());
    let c = &i.course;
    assert_eq!(c.format, Format::Cmi5);
    assert_eq!(c.id.as_deref(), Some("https://example.com/courses/c1"));
    assert_eq!(c.title, "Course One");
    assert_eq!(c.title_langs.len(), 2);
    assert_eq!(c.description.as_deref(), Some("A course with blocks."));
    assert_eq!(c.objectives[0].id, "https://example.com/objectives/o1");
    let intro = module(c, "https://example.com/aus/intro");
    assert_eq!(intro.launch_url, "au/index.html?lang=en");
    assert_eq!(intro.launch_method, Some(LaunchMethod::OwnWindow));
    assert_eq!(intro.rules.move_on, Some(MoveOn::Completed));
    let quiz = module(c, "https://example.com/aus/quiz");
    assert_eq!(quiz.rules.mastery_score, Some(MasteryScore::Scaled(0.8)));
    assert_eq!(quiz.rules.move_on, Some(MoveOn::CompletedAndPassed));
    assert_eq!(quiz.launch_data.as_deref(), Some("{\"level\":2}"));
    assert_eq!(quiz.entitlement_key.as_deref(), Some("key-123"));
    assert_eq!(quiz.activity_type.as_deref(), Some("http://adlnet.gov/expapi/activities/assessment"));
    assert_eq!(quiz.rules.objective_refs, vec!["https://example.com/objectives/o1".to_owned()]);
    assert_eq!(quiz.launch_method, Some(LaunchMethod::AnyWindow));
    let remote = module(c, "https://example.com/aus/remote");
    assert!(remote.launch_is_absolute);
    let Node::Block(b1) = &c.root[1] else { panic!("block") };
    assert_eq!(b1.rules.objective_refs.len(), 1);
    assert!(matches!(&b1.children[1], Node::Block(b2) if b2.id == "https://example.com/blocks/b2"));
}

fn cmi5_doc(aus: &str) -> String {
    format!(
        r#"<courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd">
<course id="https://example.com/c"><title><langstring lang="en">C</langstring></title>
<description><langstring lang="en">D</langstring></description></course>{aus}</courseStructure>"#
    )
}

fn au(id: &str, url: &str, attrs: &str) -> String {
    format!(
        r#"<au id="{id}" {attrs}><title><langstring lang="en">A</langstring></title>
<description><langstring lang="en">D</langstring></description><url>{url}</url></au>"#
    )
}

#[test]
fn a_bare_xml_file_is_told_from_a_zip_by_content() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = cmi5_doc(&au("https://example.com/a", "https://example.com/a.html", ""));
    for (name, bytes) in [
        ("plain.bin", good.clone().into_bytes()),
        ("bom.zip", [&[0xEF, 0xBB, 0xBF][..], b"\n  ", good.as_bytes()].concat()),
        ("utf16.dat", {
            let mut v = vec![0xFF, 0xFE];
            v.extend(good.replace("encoding=\"UTF-8\"", "").encode_utf16().flat_map(u16::to_le_bytes));
            v
        }),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).expect("write");
        let dest = tempfile::tempdir().expect("dest");
        let i = import_file(&p, dest.path(), &Limits::default(), &mut |_| {}).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(i.course.format, Format::Cmi5, "{name}");
        assert!(i.files.is_empty(), "{name}");
        assert!(i.course.modules()[0].launch_is_absolute, "{name}");
    }
    let manifest = dir.path().join("imsmanifest.xml");
    std::fs::write(&manifest, "<?xml version=\"1.0\"?><manifest identifier=\"m\"/>").expect("write");
    let dest = tempfile::tempdir().expect("dest");
    let e = import_file(&manifest, dest.path(), &Limits::default(), &mut |_| {}).expect_err("a lone manifest");
    assert!(e.to_string().contains("<manifest>") && e.to_string().contains("cmi5"), "{e}");
    let junk = dir.path().join("junk");
    std::fs::write(&junk, b"hello, not a package").expect("write");
    let e = import_file(&junk, dest.path(), &Limits::default(), &mut |_| {}).expect_err("junk");
    assert!(matches!(e, PackageError::Zip(_)), "{e}");
}

#[test]
fn cmi5_bare_xml_rules() {
    let good = cmi5_doc(&au("https://example.com/a", "https://example.com/a.html", ""));
    let c = parse_cmi5_xml(&good).expect("parse");
    assert_eq!(c.modules()[0].rules.move_on, Some(MoveOn::NotApplicable));
    let rel = cmi5_doc(&au("https://example.com/a", "a.html", ""));
    assert!(
        matches!(parse_cmi5_xml(&rel), Err(PackageError::Manifest { ref message, .. }) if message.contains("relative"))
    );
    for key in ["endpoint", "fetch", "actor", "registration", "activityId"] {
        let u = format!("https://example.com/a.html?x=1&amp;{key}=2");
        let doc = cmi5_doc(&au("https://example.com/a", &u, ""));
        assert!(parse_cmi5_xml(&doc).is_err(), "{key} accepted");
    }
    let not_iri = cmi5_doc(&au("not an iri", "https://example.com/a.html", ""));
    assert!(
        matches!(parse_cmi5_xml(&not_iri), Err(PackageError::Manifest { ref message, .. }) if message.contains("IRI"))
    );
    let dup = cmi5_doc(&format!(
        "{}{}",
        au("https://example.com/a", "https://example.com/a.html", ""),
        au("https://example.com/a", "https://example.com/b.html", "")
    ));
    assert!(
        matches!(parse_cmi5_xml(&dup), Err(PackageError::Manifest { ref message, .. }) if message.contains("more than once"))
    );
    let course_dup = cmi5_doc(&au("https://example.com/c", "https://example.com/a.html", ""));
    assert!(parse_cmi5_xml(&course_dup).is_err());
    let mastery = cmi5_doc(&au("https://example.com/a", "https://example.com/a.html", "masteryScore=\"1.5\""));
    assert!(parse_cmi5_xml(&mastery).is_err());
    let move_on = cmi5_doc(&au("https://example.com/a", "https://example.com/a.html", "moveOn=\"Sometimes\""));
    assert!(parse_cmi5_xml(&move_on).is_err());
    assert!(parse_cmi5_xml(&cmi5_doc("")).is_err());
    let bad_ref = cmi5_doc(
        &au("https://example.com/a", "https://example.com/a.html", "")
            .replace("<url>", "<objectives><objective idref=\"https://example.com/none\"/></objectives><url>"),
    );
    assert!(parse_cmi5_xml(&bad_ref).is_err());
    // CATAPULT 206: a URL with a space is not a URL
    let spaced = cmi5_doc(&au("https://example.com/a", "http://example.com index.html", ""));
    assert!(parse_cmi5_xml(&spaced).is_err());
    // CATAPULT 207: XSD order (url before title) is refused, naming the line
    let order = cmi5_doc(
        r#"<au id="https://example.com/a"><url>https://example.com/a.html</url>
<title><langstring lang="en">A</langstring></title><description><langstring lang="en">D</langstring></description></au>"#,
    );
    match parse_cmi5_xml(&order) {
        Err(PackageError::Manifest { location, message }) => {
            assert_eq!(location.line, Some(3));
            assert!(message.contains("<url> found where <title>"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    // a missing description is refused too; foreign-namespace extensions are allowed
    let no_desc = cmi5_doc(
        r#"<au id="https://example.com/a"><title><langstring lang="en">A</langstring></title><url>https://example.com/a.html</url></au>"#,
    );
    assert!(parse_cmi5_xml(&no_desc).is_err());
    let ext = cmi5_doc(
        &au("https://example.com/a", "https://example.com/a.html", "")
            .replace("</au>", "<x:ext xmlns:x=\"https://example.com/ext\">1</x:ext></au>"),
    );
    assert!(parse_cmi5_xml(&ext).is_ok());
}

#[test]
fn cmi5_thousand_aus_parse_fast() {
    let aus: String = (0..1000)
        .map(|n| {
            au(
                &format!("https://example.com/au/{n}"),
                &format!("https://example.com/au/{n}.html"),
                "moveOn=\"Passed\" masteryScore=\"0.5\"",
            )
        })
        .collect();
    let doc = cmi5_doc(&format!("<block id=\"https://example.com/b\"><title><langstring lang=\"en\">B</langstring></title><description><langstring lang=\"en\">B</langstring></description>{aus}</block>"));
    let start = std::time::Instant::now();
    let c = parse_cmi5_xml(&doc).expect("parse");
    let took = start.elapsed();
    assert_eq!(c.modules().len(), 1000);
    eprintln!("1000-AU cmi5 course parsed in {took:?}");
    assert!(took < std::time::Duration::from_secs(1), "{took:?}");
}

// ---------------------------------------------------------------- TinCan, AICC

#[test]
fn tincan_package() {
    let z = zip_fixture("tincan", &[]);
    let (i, _d) = ok(z.path());
    let c = &i.course;
    assert_eq!(c.format, Format::TinCan);
    assert_eq!(c.id.as_deref(), Some("http://example.com/tincan/course1"));
    assert_eq!(c.title, "Tin Can Course");
    assert_eq!(c.description.as_deref(), Some("A TinCan package"));
    assert_eq!(c.modules().len(), 1);
    assert_eq!(c.modules()[0].launch_url, "index.html");
}

#[test]
fn aicc_package() {
    let z = zip_fixture("aicc", &[]);
    let (i, _d) = ok(z.path());
    let c = &i.course;
    assert_eq!(c.format, Format::Aicc);
    assert_eq!(c.title, "AICC Sample Course");
    assert_eq!(c.organization_id.as_deref(), Some("AICC-101"));
    assert_eq!(c.description.as_deref(), Some("A small AICC course\nfor tests."));
    let a1 = module(c, "A1");
    assert_eq!(a1.title, "Lesson One");
    assert_eq!(a1.description.as_deref(), Some("The \"first\" lesson"));
    assert_eq!(a1.launch_url, "lesson1.html");
    assert_eq!(a1.launch_data.as_deref(), Some("vendor, data"));
    assert_eq!(a1.rules.mastery_score, Some(MasteryScore::Raw(75.0)));
    assert_eq!(a1.rules.max_time_allowed.as_deref(), Some("00:20:00"));
    let Node::Block(b) = &c.root[1] else { panic!("block") };
    assert_eq!(b.title, "Part B");
    let a2 = module(c, "a2");
    assert_eq!(a2.launch_url, "l2/index.html");
    assert_eq!(a2.web_launch.as_deref(), Some("mode=x&y=1"));
    assert!(i.warnings.is_empty(), "{:?}", i.warnings);
}

#[test]
fn cmi5_missing_relative_au_file_is_fatal() {
    // CATAPULT 203: a relative AU URL must point at a file in the package.
    let doc = cmi5_doc(&au("https://example.com/a", "au/nothere.html?x=1", ""));
    let z = zip_entries(&[("cmi5.xml", doc.as_bytes()), ("other.html", HTML)], SimpleFileOptions::default());
    match import(z.path()).0 {
        Err(PackageError::MissingLaunchFile { path, location, .. }) => {
            assert_eq!(path, "au/nothere.html");
            assert_eq!(location.file, "cmi5.xml");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn cmi5_preferred_over_other_manifests() {
    let doc = cmi5_doc(&au("https://example.com/a", "index.html", ""));
    let z = zip_entries(
        &[("cmi5.xml", doc.as_bytes()), ("imsmanifest.xml", MANIFEST_12.as_bytes()), ("index.html", HTML)],
        SimpleFileOptions::default(),
    );
    let (i, _d) = ok(z.path());
    assert_eq!(i.course.format, Format::Cmi5);
    assert!(i.warnings.iter().any(|w| w.contains("SCORM")), "{:?}", i.warnings);
}

#[test]
fn zip_bomb_ratio_limit() {
    // 20 MiB of zeros deflate to ~20 KB: a 1,000× ratio, refused within every size limit.
    let zeros = vec![0u8; 20 << 20];
    let z = zip_entries(
        &[("imsmanifest.xml", MANIFEST_12.as_bytes()), ("index.html", HTML), ("bomb.bin", &zeros)],
        SimpleFileOptions::default().compression_method(CompressionMethod::Deflated),
    );
    let (r, _d) = import(z.path());
    assert!(matches!(r, Err(PackageError::Limit(ref m)) if m.contains("bomb.bin") && m.contains("compression ratio")));
    // Below the minimum size, any ratio passes.
    let small = vec![0u8; 512 << 10];
    let z = zip_entries(
        &[("imsmanifest.xml", MANIFEST_12.as_bytes()), ("index.html", HTML), ("blank.bin", &small)],
        SimpleFileOptions::default().compression_method(CompressionMethod::Deflated),
    );
    let (r, _d) = import(z.path());
    assert!(r.is_ok(), "{:?}", r.err());
}

const MANIFEST_2004_SEQ: &str = r#"<?xml version="1.0"?>
<manifest identifier="m" xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3" xmlns:imsss="http://www.imsglobal.org/xsd/imsss"
  xmlns:adlseq="http://www.adlnet.org/xsd/adlseq_v1p3" xmlns:adlnav="http://www.adlnet.org/xsd/adlnav_v1p3">
 <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
 <organizations default="o">
  <organization identifier="o" adlseq:objectivesGlobalToSystem="false">
   <title>T</title>
   <item identifier="a" identifierref="r">
    <title>A</title>
    <adlnav:presentation><adlnav:navigationInterface>
      <adlnav:hideLMSUI>continue</adlnav:hideLMSUI><adlnav:hideLMSUI>previous</adlnav:hideLMSUI>
    </adlnav:navigationInterface></adlnav:presentation>
    <imsss:sequencing IDRef="shared">
     <imsss:sequencingRules>
      <imsss:preConditionRule>
       <imsss:ruleConditions conditionCombination="any">
        <imsss:ruleCondition condition="satisfied" operator="not" referencedObjective="obj1"/>
        <imsss:ruleCondition condition="objectiveMeasureGreaterThan" measureThreshold="0.5"/>
       </imsss:ruleConditions>
       <imsss:ruleAction action="skip"/>
      </imsss:preConditionRule>
      <imsss:postConditionRule>
       <imsss:ruleConditions><imsss:ruleCondition condition="always"/></imsss:ruleConditions>
       <imsss:ruleAction action="continue"/>
      </imsss:postConditionRule>
     </imsss:sequencingRules>
     <imsss:objectives>
      <imsss:primaryObjective objectiveID="obj1"/>
     </imsss:objectives>
     <imsss:randomizationControls selectCount="2" reorderChildren="true" selectionTiming="once"/>
     <adlseq:constrainedChoiceConsiderations constrainChoice="true"/>
     <adlseq:objectives>
      <adlseq:objective objectiveID="obj1">
       <adlseq:mapInfo targetObjectiveID="g1" writeCompletionStatus="true"/>
      </adlseq:objective>
     </adlseq:objectives>
    </imsss:sequencing>
   </item>
   <imsss:sequencing><imsss:controlMode flow="true" choice="false"/></imsss:sequencing>
  </organization>
 </organizations>
 <resources><resource identifier="r" adlcp:scormType="sco" href="a.html"/></resources>
 <imsss:sequencingCollection>
  <imsss:sequencing ID="shared">
   <imsss:controlMode flow="true"/>
   <imsss:sequencingRules>
    <imsss:exitConditionRule>
     <imsss:ruleConditions><imsss:ruleCondition condition="completed"/></imsss:ruleConditions>
     <imsss:ruleAction action="exit"/>
    </imsss:exitConditionRule>
   </imsss:sequencingRules>
   <imsss:limitConditions attemptLimit="3"/>
  </imsss:sequencing>
 </imsss:sequencingCollection>
</manifest>"#;

#[test]
fn scorm2004_full_sequencing_definition() {
    let p = parse_scorm(MANIFEST_2004_SEQ).expect("parse");
    let c = p.course;
    assert_eq!(c.objectives_global_to_system, Some(false));
    let org = c.organization_rules.as_ref().expect("organization sequencing");
    assert!(org.control_mode.is_some_and(|cm| cm.flow && !cm.choice));
    let a = &c.modules()[0].rules;
    assert_eq!(a.hide_lms_ui, vec!["continue", "previous"]);
    // The item's own sequencingRules replace the collection's (element overlay); other
    // collection elements stay.
    let sr = a.sequencing_rules.as_ref().expect("rules");
    assert!(sr.exit.is_empty());
    assert_eq!(sr.pre.len(), 1);
    assert_eq!(sr.pre[0].condition_combination, "any");
    assert_eq!(sr.pre[0].action, "skip");
    let c0 = &sr.pre[0].conditions[0];
    assert!(c0.negated);
    assert_eq!(c0.referenced_objective.as_deref(), Some("obj1"));
    assert_eq!(sr.pre[0].conditions[1].measure_threshold, 0.5);
    assert_eq!(sr.post[0].condition_combination, "all");
    assert_eq!(a.attempt_limit, Some(3));
    assert!(a.control_mode.is_some_and(|cm| cm.flow && cm.choice));
    let rc = a.randomization.as_ref().expect("randomization");
    assert_eq!((rc.select_count, rc.reorder_children), (Some(2), true));
    assert_eq!((rc.selection_timing.as_str(), rc.randomization_timing.as_str()), ("once", "never"));
    assert!(a.constrained_choice.is_some_and(|cc| cc.constrain_choice && !cc.prevent_activation));
    let ao = a.adl_objectives.as_ref().expect("adlseq objectives");
    assert_eq!(ao[0].objective_id, "obj1");
    assert!(ao[0].maps[0].write_completion_status && ao[0].maps[0].read_progress_measure);
    assert!(!ao[0].maps[0].write_raw_score);
    // A bad randomization timing and a rule without an action are manifest errors.
    assert!(parse_scorm(&MANIFEST_2004_SEQ.replace("selectionTiming=\"once\"", "selectionTiming=\"daily\"")).is_err());
    assert!(parse_scorm(&MANIFEST_2004_SEQ.replace("<imsss:ruleAction action=\"skip\"/>", "")).is_err());
}
