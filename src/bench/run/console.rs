//! The `console` workload: the console's pages as one signed-in admin loads them.

use anyhow::{anyhow, Context};
use serde_json::Value;

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
        let email = samples
            .agents
            .first()
            .and_then(|a| a.get("mbox").and_then(Value::as_str))
            .map(|m| m.trim_start_matches("mailto:").to_string())
            .unwrap_or_else(|| "example".into());
        let course = samples.courses.first().cloned().unwrap_or_default();
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
}
