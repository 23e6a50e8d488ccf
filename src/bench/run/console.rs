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

    /// Course 0 of the data set defined in Cairn (its units as components) and assigned to every
    /// learner (one Group of them all, due a week ago, so the course page and the overdue report
    /// show every learner), as a training manager would see it. Answers the course's IRI.
    async fn course_for_every_learner(&self) -> anyhow::Result<String> {
        let u = Universe::new(self.args.data.spec());
        let course = u.course(0);
        let components: Vec<Value> = (0..u.units(0))
            .map(|i| json!({"kind": "activity", "activity_id": u.unit(0, i), "title": format!("Unit {i}")}))
            .collect();
        let target = &self.client.target;
        let http = &self.client.http;
        let resp = http
            .put(format!("{}/api/courses/{}", target.origin, enc_path(&course)))
            .basic_auth(&target.key, Some(&target.secret))
            .json(&json!({"title": "Bench course 0", "components": components}))
            .send()
            .await
            .context("defining the bench course")?;
        if !resp.status().is_success() {
            bail!("defining the bench course: HTTP {} {}", resp.status(), resp.text().await.unwrap_or_default());
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

/// A path segment, percent-encoded.
fn enc_path(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
