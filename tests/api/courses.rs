//! Package import over the admin API and the CLI, and safe serving of package content.

use std::io::Write;
use std::path::Path;

use reqwest::Method;
use serde_json::Value;

use crate::both;
use crate::support::TestApp;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/packages").join(name)
}

/// Zips a fixture folder (the packages are kept unzipped in the repo so they can be read and diffed).
pub fn zip_folder(dir: &Path) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let mut entries: Vec<_> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().path()).collect();
            entries.sort();
            for p in entries {
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let name = p.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
                    zip.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
                    zip.write_all(&std::fs::read(&p).unwrap()).unwrap();
                }
            }
        }
        zip.finish().unwrap();
    }
    buf.into_inner()
}

async fn upload(app: &TestApp, body: Vec<u8>, query: &str) -> (u16, Value) {
    let r = app
        .req(Method::POST, &format!("/api/courses{query}"))
        .header("Content-Type", "application/zip")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn modules(nodes: &Value, out: &mut Vec<Value>) {
    for n in nodes.as_array().into_iter().flatten() {
        if let Some(children) = n.get("children") {
            modules(children, out);
        } else {
            out.push(n.clone());
        }
    }
}

/// Every fixture format imports with its structure, and each module is launchable at its URL.
async fn every_format_imports_and_is_launchable(app: TestApp) {
    let cases = [
        ("scorm12-single", "SCORM 1.2"),
        ("scorm12-multi", "SCORM 1.2"),
        ("scorm2004-3rd", "SCORM 2004 3rd Edition"),
        ("scorm2004-4th", "SCORM 2004 4th Edition"),
        ("scorm2004-noorg", "SCORM 2004"),
        ("cmi5-blocks", "cmi5"),
        ("tincan", "TinCan"),
        ("aicc", "AICC"),
    ];
    for (name, format) in cases {
        let (status, c) = upload(&app, zip_folder(&fixture(name)), "").await;
        assert_eq!(status, 201, "{name}: {c}");
        assert!(c["format"].as_str().unwrap().starts_with(format), "{name}: {}", c["format"]);
        let mut mods = Vec::new();
        modules(&c["course"]["root"], &mut mods);
        assert!(!mods.is_empty(), "{name}");
        for m in mods {
            if m["launch_is_absolute"] == true {
                continue;
            }
            let url = m["launch_url"].as_str().unwrap();
            let path = url.split(['?', '#']).next().unwrap();
            let r = app
                .client
                .get(format!("{}{}{}", app.content_base, c["content_base"].as_str().unwrap(), path))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{name}: {url}");
            assert_eq!(r.headers()["x-content-type-options"], "nosniff");
            assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "{name}: {url}");
        }
    }
    let (_, list) = app.get_json("/api/courses").await;
    assert_eq!(list.as_array().unwrap().len(), cases.len());
}
both!(every_format_imports_and_is_launchable);

/// Importing the same package again makes a new version of the same course.
async fn reimport_makes_a_new_version(app: TestApp) {
    let zip = zip_folder(&fixture("cmi5-blocks"));
    let (_, a) = upload(&app, zip.clone(), "").await;
    let (_, b) = upload(&app, zip, "").await;
    assert_eq!(a["id"], "https://example.com/courses/c1");
    assert_eq!(b["id"], a["id"]);
    assert_eq!(a["version"], 1);
    assert_eq!(b["version"], 2);
    assert_ne!(a["version_id"], b["version_id"]);
    let (status, shown) = app.get_json("/api/courses/https://example.com/courses/c1").await;
    assert_eq!(status, 200);
    assert_eq!(shown["version"], 2);
    let (_, v1) = app.get_json("/api/courses/https%3A%2F%2Fexample.com%2Fcourses%2Fc1?version=1").await;
    assert_eq!(v1["version_id"], a["version_id"]);
    // SCORM packages without an IRI are recognised by their manifest identifier.
    let zip = zip_folder(&fixture("scorm12-single"));
    let (_, s1) = upload(&app, zip.clone(), "").await;
    let (_, s2) = upload(&app, zip, "").await;
    assert_eq!(s1["id"], s2["id"]);
    assert_eq!(s2["version"], 2);
    // An explicit course id wins.
    let (status, own) = upload(&app, zip_folder(&fixture("tincan")), "?course_id=http://example.com/my-course").await;
    assert_eq!(status, 201);
    assert_eq!(own["id"], "http://example.com/my-course");
}
both!(reimport_makes_a_new_version);

/// multipart/form-data uploads work like a raw body.
async fn multipart_upload(app: TestApp) {
    let part = reqwest::multipart::Part::bytes(zip_folder(&fixture("tincan"))).file_name("course.zip");
    let form = reqwest::multipart::Form::new().part("file", part);
    let r = app.req(Method::POST, "/api/courses").multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 201);
}
both!(multipart_upload);

/// Unsafe or broken packages are refused with a message and leave nothing behind.
async fn unsafe_packages_leave_nothing_behind(app: TestApp) {
    let mut bodies: Vec<(String, Vec<u8>)> = Vec::new();
    for entry in std::fs::read_dir(fixture("malicious")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "zip") {
            bodies.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    bodies.push(("missing launch".into(), zip_folder(&fixture("scorm-missing-launch"))));
    bodies.push(("DTD".into(), zip_folder(&fixture("scorm-dtd"))));
    bodies.push(("not a zip".into(), b"hello".to_vec()));
    for (name, body) in bodies {
        let (status, err) = upload(&app, body, "").await;
        assert_eq!(status, 400, "{name}: {err}");
        assert!(!err["error"]["message"].as_str().unwrap().is_empty());
    }
    let (_, list) = app.get_json("/api/courses").await;
    assert_eq!(list, serde_json::json!([]));
    let leftovers: Vec<_> = std::fs::read_dir(app.lms.content_dir()).unwrap().collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
both!(unsafe_packages_leave_nothing_behind);

/// Content serving refuses traversal (plain and encoded), directories and unknown versions.
async fn content_serving_is_confined(app: TestApp) {
    let (_, c) = upload(&app, zip_folder(&fixture("scorm12-multi")), "").await;
    let base = format!("{}{}", app.content_base, c["content_base"].as_str().unwrap());
    std::fs::write(app.lms.content_dir().join("secret.txt"), "secret").unwrap();
    for bad in [
        "../secret.txt",
        "..%2Fsecret.txt",
        "%2e%2e/secret.txt",
        "sco1/..%2F..%2Fsecret.txt",
        "sco1",
        "sco1/",
        "%5C..%5Csecret.txt",
    ] {
        let r = app.client.get(format!("{base}{bad}")).send().await.unwrap();
        assert_eq!(r.status(), 404, "{bad}");
        assert!(!r.text().await.unwrap().contains("secret"), "{bad}");
    }
    let r = app
        .client
        .get(format!("{}/content/00000000-0000-0000-0000-000000000000/sco1/start.html", app.content_base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Package files answer on the content origin only, never beside the admin API.
    let mut mods = Vec::new();
    modules(&c["course"]["root"], &mut mods);
    let file = mods[0]["launch_url"].as_str().unwrap().split(['?', '#']).next().unwrap().to_string();
    let r = app.client.get(format!("{base}{file}")).send().await.unwrap();
    assert_eq!(r.status(), 200, "{file} on the content origin");
    let on_api = format!("{}{}{file}", app.base, c["content_base"].as_str().unwrap());
    assert_eq!(app.client.get(on_api).send().await.unwrap().status(), 404, "{file} on the API origin");
}
both!(content_serving_is_confined);

/// The admin API needs the admin scope.
async fn admin_scope_is_required(app: TestApp) {
    let c = app.lrs.create_credential("writer", vec!["all".into()], None, None).await.unwrap();
    let r =
        app.client.get(format!("{}/api/courses", app.base)).basic_auth(&c.key, Some(&c.secret)).send().await.unwrap();
    assert_eq!(r.status(), 403);
}
both!(admin_scope_is_required);

/// `cairn import` prints the course tree (or JSON), and `cairn courses list/show` read it back.
#[test]
fn cli_import_and_courses() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("c.db").display());
    let zip_path = dir.path().join("pkg.zip");
    std::fs::write(&zip_path, zip_folder(&fixture("cmi5-blocks"))).unwrap();
    let run = |args: &[&str]| crate::support::cli(&db, args);
    let tree = run(&["import", zip_path.to_str().unwrap()]);
    assert!(tree.contains("https://example.com/courses/c1"), "{tree}");
    assert!(tree.contains("Quiz"), "{tree}");
    assert!(tree.contains("move_on=CompletedAndPassed"), "{tree}");
    let json: Value = serde_json::from_str(&run(&["import", zip_path.to_str().unwrap(), "--json"])).unwrap();
    assert_eq!(json["version"], 2);
    assert!(run(&["courses", "list"]).contains("https://example.com/courses/c1"));
    let shown: Value =
        serde_json::from_str(&run(&["courses", "show", "https://example.com/courses/c1", "--json"])).unwrap();
    assert_eq!(shown["version"], 2);
    assert!(dir
        .path()
        .join("cairn-content")
        .join(shown["version_id"].as_str().unwrap())
        .join("au/index.html")
        .exists());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("--database")
        .arg(&db)
        .args(["import", "/nonexistent.zip"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

fn bare_cmi5(au_url: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd">
  <course id="https://example.com/courses/bare"><title><langstring lang="en">Bare</langstring></title>
    <description><langstring lang="en">A course structure alone</langstring></description></course>
  <au id="https://example.com/courses/bare/au" moveOn="Completed"><title><langstring lang="en">AU</langstring></title>
    <description><langstring lang="en">Hosted elsewhere</langstring></description><url>{au_url}</url></au>
</courseStructure>"#
    )
}

/// cmi5 §14: a `cmi5.xml` alone (no zip) imports when its AU URLs are absolute, whatever
/// Content-Type it was sent with, and its AU launches at that URL; relative AU URLs are refused naming
/// the rule; an XML file that is no course structure, and junk, are refused naming what they are.
async fn a_bare_cmi5_xml_imports_and_launches(app: TestApp) {
    let hosted = "https://au.example.org/player/index.html?lang=en";
    let (status, c) = upload(&app, bare_cmi5(&hosted.replace('&', "&amp;")).into_bytes(), "").await;
    assert_eq!(status, 201, "{c}");
    assert_eq!((c["id"].as_str(), c["format"].as_str()), (Some("https://example.com/courses/bare"), Some("cmi5")));
    assert_eq!(c["files"], 0);
    let mut mods = Vec::new();
    modules(&c["course"]["root"], &mut mods);
    assert_eq!(mods.len(), 1);
    assert_eq!(mods[0]["launch_url"], hosted);
    let (status, l) = crate::launch::launch(
        &app,
        serde_json::json!({"course": c["id"], "module": "https://example.com/courses/bare/au", "learner": "mailto:ann@example.com"}),
    )
    .await;
    assert_eq!(status, 201, "{l}");
    assert!(l["url"].as_str().unwrap().starts_with("https://au.example.org/player/index.html?lang=en&"), "{l}");

    let (status, e) = upload(&app, bare_cmi5("player/index.html").into_bytes(), "").await;
    assert_eq!(status, 400, "{e}");
    let msg = e.to_string();
    assert!(msg.contains("relative") && msg.contains("cmi5 §14") && !msg.contains("zip archive"), "{msg}");

    let manifest = std::fs::read(fixture("scorm12-single").join("imsmanifest.xml")).unwrap();
    let (status, e) = upload(&app, manifest, "").await;
    assert_eq!(status, 400, "{e}");
    assert!(e.to_string().contains("<manifest>"), "{e}");

    let (status, e) = upload(&app, b"just some bytes".to_vec(), "").await;
    assert_eq!(status, 400, "{e}");
    assert!(e.to_string().contains("not a readable zip"), "{e}");
}
both!(a_bare_cmi5_xml_imports_and_launches);

/// A zip of in-memory files, for manifests written inside a test.
fn zip_files(files: &[(&str, &str)]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        for (name, body) in files {
            zip.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            zip.write_all(body.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
    }
    buf.into_inner()
}

/// `xs:ID` values are compared after whitespace collapsing (as ADL's SCORM 2004 conformance packages
/// write them): a resource `identifier="  SEQ01  "` is the one `identifierref="SEQ01"` names, and item,
/// organization, sequencing collection and objective ids lose their surrounding blanks.
async fn xs_id_values_are_compared_whitespace_collapsed(app: TestApp) {
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="ws-ids" xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3" xmlns:imsss="http://www.imsglobal.org/xsd/imsss">
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
  <organizations default=" ORG ">
    <organization identifier="ORG"><title>Blank ids</title>
      <item identifier="  ITEM-1
        " identifierref="SEQ01"><title>One</title>
        <imsss:sequencing IDRef=" shared ">
          <imsss:objectives>
            <imsss:primaryObjective objectiveID="  obj-1  " satisfiedByMeasure="true">
              <imsss:minNormalizedMeasure>0.6</imsss:minNormalizedMeasure>
              <imsss:mapInfo targetObjectiveID=" urn:example:g1 " writeSatisfiedStatus="true"/>
            </imsss:primaryObjective>
          </imsss:objectives>
        </imsss:sequencing>
      </item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="  SEQ01  " type="webcontent" adlcp:scormType="sco" href="index.html">
      <file href="index.html"/>
    </resource>
  </resources>
  <imsss:sequencingCollection>
    <imsss:sequencing ID="shared"><imsss:deliveryControls tracked="true"/></imsss:sequencing>
  </imsss:sequencingCollection>
</manifest>"#;
    let (status, c) = upload(&app, zip_files(&[("imsmanifest.xml", manifest), ("index.html", "<p>one</p>")]), "").await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(c["course"]["organization_id"], "ORG");
    let warnings = c["warnings"].to_string();
    assert!(!warnings.contains("sequencingCollection") && !warnings.contains("organization"), "{warnings}");
    let mut mods = Vec::new();
    modules(&c["course"]["root"], &mut mods);
    assert_eq!(mods.len(), 1, "{mods:?}");
    let m = &mods[0];
    assert_eq!((m["id"].as_str(), m["resource_id"].as_str()), (Some("ITEM-1"), Some("SEQ01")), "{m}");
    assert_eq!(m["launch_url"], "index.html");
    assert_eq!(m["rules"]["sequencing_ref"], "shared");
    let objective = &m["rules"]["objectives"][0];
    assert_eq!(objective["id"], "obj-1", "{objective}");
    assert_eq!(objective["maps"][0]["target_objective_id"], "urn:example:g1", "{objective}");
}
both!(xs_id_values_are_compared_whitespace_collapsed);

fn parent_with_resource_manifest(scorm_2004: bool) -> String {
    let (ns, adlcp, version) = if scorm_2004 {
        ("http://www.imsglobal.org/xsd/imscp_v1p1", "http://www.adlnet.org/xsd/adlcp_v1p3", "2004 4th Edition")
    } else {
        ("http://www.imsproject.org/xsd/imscp_rootv1p1p2", "http://www.adlnet.org/xsd/adlcp_rootv1p2", "1.2")
    };
    let sco = if scorm_2004 { r#"adlcp:scormType="sco""# } else { r#"adlcp:scormtype="sco""# };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="exe-{version}" xmlns="{ns}" xmlns:adlcp="{adlcp}">
  <metadata><schema>ADL SCORM</schema><schemaversion>{version}</schemaversion></metadata>
  <organizations default="ORG"><organization identifier="ORG"><title>eXe export</title>
    <item identifier="HOME" identifierref="RES-HOME"><title>Home</title>
      <item identifier="PAGE-1" identifierref="RES-1"><title>Page 1</title></item>
      <item identifier="PAGE-2" identifierref="RES-2"><title>Page 2</title></item>
    </item>
  </organization></organizations>
  <resources>
    <resource identifier="RES-HOME" type="webcontent" {sco} href="index.html"><file href="index.html"/></resource>
    <resource identifier="RES-1" type="webcontent" {sco} href="page1.html"><file href="page1.html"/></resource>
    <resource identifier="RES-2" type="webcontent" {sco} href="page2.html"><file href="page2.html"/></resource>
  </resources>
</manifest>"#
    )
}

/// SCORM 1.2: an item with child items and a resource (eXe Learning exports its home page so; Moodle
/// launches it) keeps its resource launchable, as its block's first module; SCORM 2004, which forbids
/// a resource on a cluster, still ignores it with a warning.
async fn scorm12_parent_items_keep_their_resource(app: TestApp) {
    let pages = [("index.html", "<p>home</p>"), ("page1.html", "<p>1</p>"), ("page2.html", "<p>2</p>")];
    let zip_with = |manifest: &str| {
        let mut files = vec![("imsmanifest.xml", manifest)];
        files.extend(pages);
        zip_files(&files)
    };
    let (status, c) = upload(&app, zip_with(&parent_with_resource_manifest(false)), "").await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(c["format"], "SCORM 1.2");
    let mut mods = Vec::new();
    modules(&c["course"]["root"], &mut mods);
    let ids: Vec<&str> = mods.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["HOME", "PAGE-1", "PAGE-2"], "{}", c["course"]["root"]);
    assert_eq!(mods[0]["launch_url"], "index.html");
    let root = &c["course"]["root"][0];
    assert_eq!((root["id"].as_str(), root["children"].as_array().map(Vec::len)), (Some("HOME"), Some(3)), "{root}");
    assert!(!c["warnings"].to_string().contains("ignored"), "{}", c["warnings"]);
    let (status, l) = crate::launch::launch(
        &app,
        serde_json::json!({"course": c["id"], "module": "HOME", "learner": "mailto:ann@example.com"}),
    )
    .await;
    assert_eq!(status, 201, "{l}");

    let (status, c) = upload(&app, zip_with(&parent_with_resource_manifest(true)), "").await;
    assert_eq!(status, 201, "{c}");
    let mut mods = Vec::new();
    modules(&c["course"]["root"], &mut mods);
    let ids: Vec<&str> = mods.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["PAGE-1", "PAGE-2"]);
    assert!(c["warnings"].to_string().contains("the resource is ignored"), "{}", c["warnings"]);
}
both!(scorm12_parent_items_keep_their_resource);
