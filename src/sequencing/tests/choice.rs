//! Choice and control modes: NB.2.1 (choice), SB.2.9, SB.2.4, SB.2.9.1/2, constrained choice.

use super::*;

fn tree(m_seq: &str, root_seq: &str) -> Engine {
    engine(&format!(
        "{}{}{}{}",
        cluster("m", &format!("{}{}{}", leaf("a", ""), leaf("b", ""), seq(m_seq))),
        cluster("n", &format!("{}{}{}", leaf("c", ""), leaf("d", ""), seq(FLOW))),
        leaf("e", ""),
        seq(root_seq)
    ))
}

#[test]
fn choice_of_leaves_anywhere_by_default() {
    let mut e = tree("", "");
    assert_eq!(go(&mut e, choice("d")).as_deref(), Some("d"));
    assert_eq!(go(&mut e, choice("a")).as_deref(), Some("a"));
    assert_eq!(go(&mut e, choice("e")).as_deref(), Some("e"));
    assert!(st(&e, "d").completed == Some(true) && !st(&e, "n").active);
}

#[test]
fn choice_of_a_cluster_flows_into_it() {
    let mut e = tree("", "");
    assert_eq!(go(&mut e, choice("n")).as_deref(), Some("c"));
    // m has no flow: choosing it cannot deliver anything (SB.2.9-9) and it becomes current.
    let out = outcome(&mut e, choice("m")).expect("accepted");
    assert_eq!(out.exception, Some(Exception("SB.2.9-9")));
    assert_eq!(e.current(), Some("m"));
    assert_eq!(go(&mut e, choice("b")).as_deref(), Some("b"));
}

#[test]
fn choice_false_on_the_parent_refuses() {
    let mut e = tree(r#"<imsss:controlMode choice="false" flow="true"/>"#, "");
    assert_eq!(outcome(&mut e, choice("a")), Err(Exception("NB.2.1-10")));
    // The cluster itself is still a choice, and flow takes over inside.
    assert_eq!(go(&mut e, choice("m")).as_deref(), Some("a"));
    let toc = e.toc();
    let b = toc.iter().find(|t| t.id == "b").expect("b");
    assert!(b.visible && !b.enabled);
}

#[test]
fn choice_exit_false_keeps_the_learner_inside() {
    let mut e = tree(r#"<imsss:controlMode choiceExit="false"/>"#, "");
    go(&mut e, choice("a"));
    assert_eq!(outcome(&mut e, choice("c")), Err(Exception("NB.2.1-8")));
    // Inside is fine.
    assert_eq!(go(&mut e, choice("b")).as_deref(), Some("b"));
    assert!(!e.choice_valid("e"));
    assert!(e.choice_valid("a"));
}

#[test]
fn forward_only_refuses_choosing_backward_among_siblings() {
    let mut e = tree(r#"<imsss:controlMode flow="true" forwardOnly="true"/>"#, "");
    go(&mut e, choice("b"));
    assert_eq!(outcome(&mut e, choice("a")).expect("accepted").exception, Some(Exception("SB.2.4-2")));
}

#[test]
fn constrained_choice_allows_only_the_next_and_previous() {
    let mut e = engine(&format!(
        "{}{}{}{}{}",
        leaf("a", ""),
        cluster(
            "m",
            &format!(
                "{}{}{}",
                leaf("b", ""),
                leaf("c", ""),
                seq(&format!("{FLOW}<adlseq:constrainedChoiceConsiderations constrainChoice=\"true\"/>"))
            )
        ),
        cluster("n", &format!("{}{}{}", leaf("d", ""), leaf("e", ""), seq(FLOW))),
        leaf("f", ""),
        seq(FLOW)
    ));
    go(&mut e, choice("b"));
    // From inside m, leaving it: only what flow reaches next from m (n, and within it).
    assert!(e.choice_valid("n") && e.choice_valid("e"));
    assert!(!e.choice_valid("f"));
    assert_eq!(outcome(&mut e, choice("f")).expect("accepted").exception, Some(Exception("SB.2.9-8")));
    go(&mut e, choice("b"));
    assert!(e.choice_valid("a"));
}

#[test]
fn prevent_activation_refuses_starting_a_cluster_by_choice() {
    let mut e = engine(&format!(
        "{}{}{}",
        leaf("a", ""),
        cluster(
            "m",
            &format!(
                "{}{}{}",
                leaf("b", ""),
                leaf("c", ""),
                seq(&format!("{FLOW}<adlseq:constrainedChoiceConsiderations preventActivation=\"true\"/>"))
            )
        ),
        seq(FLOW)
    ));
    go(&mut e, NavRequest::Start);
    assert_eq!(outcome(&mut e, choice("c")).expect("accepted").exception, Some(Exception("SB.2.9-6")));
    // Flow may still enter m; once it is active, choice inside is fine.
    assert_eq!(go(&mut e, NavRequest::Continue).as_deref(), Some("b"));
    assert_eq!(go(&mut e, choice("c")).as_deref(), Some("c"));
}

#[test]
fn toc_lists_available_activities_with_status() {
    let mut e = tree("", "");
    go(&mut e, choice("a"));
    report(&mut e, "a", "completed", "passed");
    let toc = e.toc();
    let ids: Vec<&str> = toc.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["org", "m", "a", "b", "n", "c", "d", "e"]);
    let a = &toc[2];
    assert!(a.current && a.leaf && a.enabled);
    assert_eq!((a.status.completed, a.status.satisfied), (Some(true), Some(true)));
    assert_eq!(toc[1].depth, 1);
    let v = e.valid_requests();
    assert_eq!(v.choice.get("d"), Some(&true));
}

#[test]
fn hidden_lms_ui_is_reported_for_the_current_activity() {
    let mut e = engine(&leaf(
        "a",
        r#"<adlnav:presentation><adlnav:navigationInterface><adlnav:hideLMSUI>continue</adlnav:hideLMSUI></adlnav:navigationInterface></adlnav:presentation>"#,
    ));
    assert!(e.hidden_controls().is_empty());
    go(&mut e, choice("a"));
    assert_eq!(e.hidden_controls(), vec!["continue".to_owned()]);
}
