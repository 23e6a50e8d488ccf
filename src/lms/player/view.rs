//! What the player page shows: the table of contents, the controls that work now, the module being
//! delivered and the course's status, per format.

use serde_json::{json, Value};

use super::{bad, lesson_status, Kept, Loaded};
use crate::lms::Lms;
use crate::lrs::error::Result;
use crate::package::Node;
use crate::sequencing::scorm12::{LessonStatus, Scorm12Nav};

impl Lms {
    /// What the player page shows: the table of contents, which controls work now, the module being
    /// delivered and the course's rolled-up status.
    pub async fn player_view(&self, registration: &str) -> Result<Value> {
        let l = self.load_player(registration).await?;
        self.view_of(&l, None, None).await
    }

    pub(super) async fn view_of(
        &self,
        l: &Loaded,
        deliver_url: Option<String>,
        refused: Option<String>,
    ) -> Result<Value> {
        let title_of =
            |id: &str| l.course.modules().into_iter().find(|m| m.id == id).map(|m| m.title.clone()).unwrap_or_default();
        let mut v = match &l.kept {
            Kept::Scorm2004 { .. } => {
                let e = l.engine().ok_or_else(|| bad("no sequencing state"))?;
                let valid = e.valid_requests();
                let toc: Vec<Value> = e
                    .toc()
                    .into_iter()
                    .filter(|t| t.visible && t.depth > 0)
                    .map(|t| {
                        json!({"id": t.id, "title": t.title, "depth": t.depth - 1, "leaf": t.leaf,
                               "enabled": t.enabled && t.leaf, "current": t.current,
                               "status": status_label(t.status.completed, t.status.satisfied, t.status.attempted)})
                    })
                    .collect();
                let cs = e.course_status();
                json!({
                    "toc": toc,
                    "controls": {
                        "previous": valid.previous, "continue": valid.continue_,
                        "exit": valid.exit_all, "suspend": valid.suspend_all,
                        "hidden": e.hidden_controls(),
                    },
                    "current": e.current(),
                    "ended": e.session_ended(),
                    "suspended": e.suspended_activity(),
                    "course_status": {"completed": cs.completed, "satisfied": cs.satisfied, "measure": cs.measure,
                                      "label": status_label(cs.completed, cs.satisfied, cs.attempted)},
                })
            }
            Kept::Scorm12 { current, suspended, status, ended } => {
                let nav = Scorm12Nav::from_course(&l.course);
                let st = |id: &str| status.get(id).and_then(|s| lesson_status(s));
                let toc: Vec<Value> = nav
                    .toc(&st)
                    .into_iter()
                    .map(|t| {
                        json!({"id": t.id, "title": title_of(&t.id), "depth": 0, "leaf": true, "enabled": t.enabled,
                               "current": current.as_deref() == Some(t.id.as_str()),
                               "status": status.get(&t.id).cloned().unwrap_or_else(|| "not attempted".into())})
                    })
                    .collect();
                let (prev, next) = match current {
                    Some(c) => (nav.previous(c, &st).is_some(), true),
                    None => (false, false),
                };
                let all_done = nav
                    .scos
                    .iter()
                    .all(|s| st(&s.id).is_some_and(|x| matches!(x, LessonStatus::Passed | LessonStatus::Completed)));
                json!({
                    "toc": toc,
                    "controls": {"previous": prev, "continue": next, "exit": current.is_some(),
                                 "suspend": current.is_some(), "hidden": []},
                    "current": current, "ended": ended, "suspended": suspended,
                    "course_status": {"completed": all_done, "label": if all_done { "completed" } else { "incomplete" }},
                })
            }
            Kept::Cmi5 { current, ended } => {
                let satisfied = self.cmi5_satisfied_aus(&l.row).await?;
                let mut toc = Vec::new();
                cmi5_toc(&l.course.root, 0, current.as_deref(), &satisfied, &mut toc);
                let all = toc.iter().filter(|t| t["leaf"] == true).all(|t| t["satisfied"] == true);
                json!({
                    "toc": toc,
                    "controls": {"previous": false, "continue": !all, "exit": current.is_some(), "suspend": false,
                                 "hidden": []},
                    "current": current, "ended": ended, "suspended": Value::Null,
                    "course_status": {"completed": all, "label": if all { "satisfied" } else { "in progress" }},
                })
            }
        };
        v["title"] = json!(l.course.title);
        v["format"] = json!(l.row.format);
        v["registration"] = json!(l.row.registration);
        let current = v["current"].as_str().map(str::to_string);
        // cmi5 §8.1.2: an `OwnWindow` AU must not be framed; the page opens it in a window of its own.
        let own_window = |id: &str| {
            l.course
                .modules()
                .into_iter()
                .any(|m| m.id == id && m.launch_method == Some(crate::package::LaunchMethod::OwnWindow))
        };
        v["deliver"] = match (deliver_url, current) {
            (Some(url), Some(id)) => json!({"activity": id, "title": title_of(&id), "url": url,
                                           "window": if own_window(&id) { "own" } else { "frame" }}),
            _ => Value::Null,
        };
        if let Some(r) = refused {
            v["refused"] = json!(r);
        }
        Ok(v)
    }
}

/// One word for a status in the table of contents.
fn status_label(completed: Option<bool>, satisfied: Option<bool>, attempted: bool) -> &'static str {
    match (satisfied, completed) {
        (Some(true), _) => "passed",
        (Some(false), _) => "failed",
        (None, Some(true)) => "completed",
        _ if attempted => "incomplete",
        _ => "not attempted",
    }
}

/// The cmi5 course's blocks and AUs, with each AU's `moveOn` and whether it is satisfied.
fn cmi5_toc(nodes: &[Node], depth: usize, current: Option<&str>, satisfied: &[String], out: &mut Vec<Value>) {
    for n in nodes {
        match n {
            Node::Block(b) => {
                out.push(json!({"id": b.id, "title": b.title, "depth": depth, "leaf": false, "enabled": false,
                                "current": false, "status": ""}));
                cmi5_toc(&b.children, depth + 1, current, satisfied, out);
            }
            Node::Module(m) => {
                let done = satisfied.contains(&m.id);
                let move_on = m.rules.move_on.map(|x| format!("{x:?}")).unwrap_or_else(|| "NotApplicable".into());
                out.push(json!({"id": m.id, "title": m.title, "depth": depth, "leaf": true, "enabled": true,
                                "current": current == Some(m.id.as_str()), "satisfied": done,
                                "status": if done { "satisfied".to_string() } else { format!("requires {move_on}") }}));
            }
        }
    }
}
