//! The `console` workload: the console's pages as one signed-in admin loads them.

use anyhow::{anyhow, bail, Context};
use serde_json::{json, Value};

use super::super::generate::Universe;
use super::{phase, Ctx};

impl Ctx {
    /// The console's pages as a signed-in admin sees them (server time at this store size; issue 14
    /// asks for p99 ≤ 300 ms at 1M statements and 10,000 learners).
    pub(super) async fn console_pages(&mut self) -> anyhow::Result<()> {
        let samples = self.feed.samples.lock().map_err(|_| anyhow!("samples lock poisoned"))?.clone();
        let origin = self.client.target.origin.clone();
        let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
        let resp = no_redirects
            .post(format!("{origin}/console/sign-in"))
            .form(&[("login", &self.client.target.key), ("password", &self.client.target.secret)])
            .send()
            .await
            .context("signing in to the console")?;
        let cookie = resp
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|c| c.split(';').next())
            .map(str::to_string)
            .ok_or_else(|| {
                anyhow!("the console refused the sign-in (HTTP {}): the key needs the admin scope", resp.status())
            })?;
        let enc = |s: &str| serde_urlencoded::to_string([("v", s)]).unwrap_or_default()[2..].to_string();
        // A learner known by email (one in four of the generated learners are).
        let email = samples
            .agents
            .iter()
            .find_map(|a| a.get("mbox").and_then(Value::as_str))
            .map(|m| m.trim_start_matches("mailto:").to_string())
            .unwrap_or_else(|| "learner00003@example.com".into());
        let course = self.course_for_every_learner().await?;
        let pages: Vec<(&str, String)> = vec![
            ("overview", format!("{origin}/console")),
            ("statements", format!("{origin}/console/statements")),
            ("statements of a learner", format!("{origin}/console/statements?agent={}", enc(&email))),
            ("learner search", format!("{origin}/console/learners?q={}", enc(email.get(..6).unwrap_or(&email)))),
            ("reports (overdue)", format!("{origin}/console/reports?compliance=overdue")),
            ("course", format!("{origin}/console/course?id={}", enc(&course))),
        ];
        let store_size = self.feed.taken();
        for (name, url) in pages {
            let (http, cookie) = (self.client.http.clone(), cookie.clone());
            let (w, n) = (self.ops(5), self.ops(50));
            let r = phase(self, &format!("console {name}, store {store_size}"), "pages", 1, w, n, move |_| {
                let (http, cookie, url) = (http.clone(), cookie.clone(), url.clone());
                async move {
                    let resp = http
                        .get(&url)
                        .header(reqwest::header::COOKIE, cookie)
                        .send()
                        .await
                        .map_err(|e| e.to_string())?;
                    let status = resp.status();
                    resp.bytes().await.map_err(|e| e.to_string())?;
                    if status.is_success() {
                        Ok(1)
                    } else {
                        Err(format!("HTTP {status}"))
                    }
                }
            })
            .await;
            self.results.push(r);
        }
        Ok(())
    }

    /// Course 0 of the data set imported into Cairn as a TinCan package (its course activity the data
    /// set's course IRI, its units the package's activities, so the generated statements count toward
    /// it) and assigned to every learner (one Group of them all, due a week ago, so the course page and
    /// the overdue report show every learner), as a training manager would see it. A TinCan course
    /// completes through its course activity, which the generated statements never name, so nobody
    /// completes it: the units give progress and scores. Answers the course's IRI.
    async fn course_for_every_learner(&self) -> anyhow::Result<String> {
        let u = Universe::new(self.args.data.spec());
        let course = u.course(0);
        let target = &self.client.target;
        let http = &self.client.http;
        // Uploaded as an authoring tool publishes one: the zip as the body of `POST /api/courses`.
        let resp = http
            .post(format!("{}/api/courses", target.origin))
            .basic_auth(&target.key, Some(&target.secret))
            .header(reqwest::header::CONTENT_TYPE, "application/zip")
            .body(tincan_package(&u, 0)?)
            .send()
            .await
            .context("importing the bench course")?;
        if !resp.status().is_success() {
            bail!("importing the bench course: HTTP {} {}", resp.status(), resp.text().await.unwrap_or_default());
        }
        let imported: Value = resp.json().await.context("reading the imported course")?;
        if imported.get("id").and_then(Value::as_str) != Some(course.as_str()) {
            bail!("the bench package was imported as {:?}, not {course}", imported.get("id"));
        }
        let members: Vec<Value> = (0..u.spec.learners).map(|i| u.learner(i)).collect();
        let due = time::OffsetDateTime::now_utc() - time::Duration::days(7);
        let due = due.format(&time::format_description::well_known::Rfc3339)?;
        let group = json!({"objectType": "Group", "name": "Everyone", "member": members});
        let resp = http
            .post(format!("{}/api/assignments", target.origin))
            .basic_auth(&target.key, Some(&target.secret))
            .json(&json!({"course": course, "group": group, "due": due}))
            .send()
            .await
            .context("assigning the bench course")?;
        if !resp.status().is_success() {
            bail!("assigning the bench course: HTTP {} {}", resp.status(), resp.text().await.unwrap_or_default());
        }
        Ok(course)
    }
}

/// Course `c` of the data set as a TinCan package, built in memory: `tincan.xml` names the course
/// activity (the course IRI, type `course`, no launch of its own) and one launchable activity per
/// unit (the unit IRIs the generated statements are about), each with an `index.html`.
fn tincan_package(u: &Universe, c: u32) -> anyhow::Result<Vec<u8>> {
    use std::io::Write;
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    xml.push_str("<tincan xmlns=\"http://projecttincan.com/tincan.xsd\">\n  <activities>\n");
    xml.push_str(&format!(
        "    <activity id=\"{}\" type=\"http://adlnet.gov/expapi/activities/course\">\n      \
         <name lang=\"en-US\">Course {c}</name>\n      \
         <description lang=\"en-US\">Course {c} of the bench data set.</description>\n    </activity>\n",
        esc(&u.course(c))
    ));
    let mut pages = Vec::new();
    for i in 0..u.units(c) {
        let page = format!("unit-{i:02}/index.html");
        xml.push_str(&format!(
            "    <activity id=\"{}\" type=\"http://adlnet.gov/expapi/activities/lesson\">\n      \
             <name lang=\"en-US\">Unit {} of course {c}</name>\n      <launch lang=\"en-US\">{page}</launch>\n    \
             </activity>\n",
            esc(&u.unit(c, i)),
            i + 1
        ));
        let html = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Unit {n} of course {c}</title>\
             </head>\n<body><h1>Unit {n} of course {c}</h1></body></html>\n",
            n = i + 1
        );
        pages.push((page, html));
    }
    xml.push_str("  </activities>\n</tincan>\n");
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut buf);
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    z.start_file("tincan.xml", opts)?;
    z.write_all(xml.as_bytes())?;
    for (name, html) in pages {
        z.start_file(name, opts)?;
        z.write_all(html.as_bytes())?;
    }
    z.finish()?;
    Ok(buf.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::generate::Spec;

    /// The bench's package imports as a TinCan course whose course activity is the data set's course 0
    /// and whose parts are its units, each launched from its own page.
    #[test]
    fn the_bench_package_is_course_0_with_its_units() {
        let u = Universe::new(Spec { statements: 1000, learners: 10, courses: 4, seed: 7 });
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("bench.zip");
        std::fs::write(&zip, tincan_package(&u, 0).unwrap()).unwrap();
        let dest = dir.path().join("out");
        let imported =
            crate::package::import_file(&zip, &dest, &crate::package::Limits::default(), &mut |_| {}).unwrap();
        assert_eq!(imported.warnings, Vec::<String>::new());
        assert_eq!(imported.course.id.as_deref(), Some(u.course(0).as_str()));
        let def = crate::results::course::from_package(&u.course(0), &imported.course);
        assert_eq!(def.course_activity.as_deref(), Some(u.course(0).as_str()));
        let ids: Vec<&str> = def.components.iter().map(|c| c.activity_id.as_str()).collect();
        let mut expected = vec![u.course(0)];
        expected.extend((0..u.units(0)).map(|i| u.unit(0, i)));
        assert_eq!(ids, expected);
        for i in 0..u.units(0) {
            assert!(dest.join(format!("unit-{i:02}/index.html")).is_file(), "unit {i}'s page");
        }
    }
}
