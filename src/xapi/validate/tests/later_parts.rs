//! Validation tests for the later parts of a statement: result, context, attachments, versions.

use super::*;

#[test]
fn score_scaled_between_minus_one_and_one() {
    both_ok(&with(json!({"result": {"score": {"scaled": -1.0}}})));
    both_ok(&with(json!({"result": {"score": {"scaled": 1}}})));
    both_bad(
        &with(json!({"result": {"score": {"scaled": 1.01}}})),
        "statement.result.score.scaled",
        "must be between -1 and 1",
    );
    both_bad(
        &with(json!({"result": {"score": {"scaled": -1.00001}}})),
        "statement.result.score.scaled",
        "must be between -1 and 1",
    );
}

#[test]
fn score_raw_between_min_and_max() {
    both_ok(&with(json!({"result": {"score": {"raw": 0, "min": 0, "max": 10}}})));
    both_ok(&with(json!({"result": {"score": {"raw": 10, "min": 0, "max": 10}}})));
    both_bad(
        &with(json!({"result": {"score": {"raw": 11, "min": 0, "max": 10}}})),
        "statement.result.score.raw",
        "greater than max",
    );
    both_bad(&with(json!({"result": {"score": {"raw": -1, "min": 0}}})), "statement.result.score.raw", "less than min");
}

#[test]
fn score_min_less_than_max() {
    both_bad(
        &with(json!({"result": {"score": {"min": 10, "max": 10}}})),
        "statement.result.score.max",
        "greater than min",
    );
    both_bad(
        &with(json!({"result": {"score": {"min": 104.6, "max": 100.6}}})),
        "statement.result.score.max",
        "greater than min",
    );
}

#[test]
fn score_values_are_numbers() {
    both_bad(&with(json!({"result": {"score": {"max": "100"}}})), "statement.result.score.max", "must be a number");
    both_bad(&with(json!({"result": {"score": 12345}})), "statement.result.score", "must be an object");
}

#[test]
fn result_success_completion_are_booleans() {
    both_bad(&with(json!({"result": {"success": "true"}})), "statement.result.success", "must be a boolean");
    both_bad(&with(json!({"result": {"completion": "false"}})), "statement.result.completion", "must be a boolean");
    both_bad(&with(json!({"result": {"response": 1}})), "statement.result.response", "must be a string");
}

#[test]
fn result_duration_is_iso8601() {
    both_ok(&with(json!({"result": {"duration": "P3Y1M29DT4H35M59.14S"}})));
    both_ok(&with(json!({"result": {"duration": "P1DT12H36M0.12567S"}})));
    both_bad(&with(json!({"result": {"duration": "P4W1D"}})), "statement.result.duration", "ISO 8601 duration");
    both_bad(&with(json!({"result": {"duration": "PT"}})), "statement.result.duration", "ISO 8601 duration");
}

// ---- extensions ----

#[test]
fn extension_keys_must_be_iris() {
    both_bad(
        &with(json!({"result": {"extensions": {"example.com/extension/wrong": 1}}})),
        "statement.result.extensions[\"example.com/extension/wrong\"]",
        "not an absolute IRI",
    );
    both_bad(&with(json!({"context": {"extensions": "x"}})), "statement.context.extensions", "must be an object");
    both_ok(&with(json!({"context": {"extensions": {}}})));
}

// ---- context ----

#[test]
fn context_registration_is_uuid() {
    both_bad(&with(json!({"context": {"registration": "should fail"}})), "statement.context.registration", "UUID");
}

#[test]
fn context_instructor_and_team() {
    both_ok(&with(
        json!({"context": {"instructor": {"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]}}}),
    ));
    both_bad(
        &with(json!({"context": {"team": {"mbox": "mailto:a@example.com"}}})),
        "statement.context.team.objectType",
        "is required",
    );
    both_bad(&with(json!({"context": {"instructor": {"name": "x"}}})), "statement.context.instructor", "found none");
}

#[test]
fn context_activities_keys_and_values() {
    both_bad(
        &with(json!({"context": {"contextActivities": {"parents": [{"id": "http://e.com/p"}]}}})),
        "statement.context.contextActivities.parents",
        "not an allowed property",
    );
    both_bad(
        &with(json!({"context": {"contextActivities": {"parent": [{"id": "e.com/p"}]}}})),
        "statement.context.contextActivities.parent[0].id",
        "absolute IRI",
    );
    both_bad(
        &with(
            json!({"context": {"contextActivities": {"other": {"objectType": "Agent", "mbox": "mailto:a@example.com"}}}}),
        ),
        "statement.context.contextActivities.other.objectType",
        "must be \"Activity\"",
    );
}

#[test]
fn context_revision_and_platform_need_activity_object() {
    let sref = json!({"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"});
    both_bad(
        &with(json!({"object": sref, "context": {"revision": "r"}})),
        "statement.context.revision",
        "only allowed",
    );
    both_bad(
        &with(json!({"object": sref, "context": {"platform": "p"}})),
        "statement.context.platform",
        "only allowed",
    );
    both_ok(&with(json!({"context": {"revision": "r", "platform": "p"}})));
}

#[test]
fn context_language_is_rfc5646() {
    both_ok(&with(json!({"context": {"language": "tlh"}})));
    both_bad(&with(json!({"context": {"language": "something"}})), "statement.context.language", "RFC 5646");
}

#[test]
fn context_statement_is_statement_ref() {
    both_bad(
        &with(json!({"context": {"statement": {"id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"}}})),
        "statement.context.statement.objectType",
        "is required",
    );
}

#[test]
fn context_agents_and_groups_are_2_0_only() {
    let ctx = json!({"context": {
        "contextAgents": [{"objectType": "contextAgent", "agent": {"mbox": "mailto:p@example.com"}, "relevantTypes": ["http://e.com/t"]}],
        "contextGroups": [{"objectType": "contextGroup", "group": {"objectType": "Group", "mbox": "mailto:t@example.com"}}]
    }});
    ok(&with(ctx.clone()), V2);
    bad(&with(ctx), V1, "statement.context.contextAgents", "only in xAPI 2.0");
}

#[test]
fn context_agent_shape_2_0() {
    let ca = |c: Value| with(json!({"context": {"contextAgents": [c]}}));
    bad(
        &ca(json!({"objectType": "Should fail", "agent": {"mbox": "mailto:p@example.com"}})),
        V2,
        "statement.context.contextAgents[0].objectType",
        "must be \"contextAgent\"",
    );
    bad(
        &ca(json!({"objectType": "contextAgent", "agent": {"key": "x"}})),
        V2,
        "statement.context.contextAgents[0].agent.key",
        "not an allowed property",
    );
    bad(
        &ca(json!({"objectType": "contextAgent", "agent": {"name": "x"}})),
        V2,
        "statement.context.contextAgents[0].agent",
        "found none",
    );
    bad(
        &ca(json!({"objectType": "contextAgent", "agent": {"mbox": "mailto:p@example.com"}, "relevantTypes": []})),
        V2,
        "statement.context.contextAgents[0].relevantTypes",
        "at least 1",
    );
    bad(
        &ca(json!({"objectType": "contextAgent", "agent": {"mbox": "mailto:p@example.com"}, "relevantTypes": ["abc"]})),
        V2,
        "statement.context.contextAgents[0].relevantTypes[0]",
        "absolute IRI",
    );
    bad(
        &ca(json!({"objectType": "contextAgent", "agent": {"objectType": "Group", "mbox": "mailto:p@example.com"}})),
        V2,
        "statement.context.contextAgents[0].agent.objectType",
        "must be \"Agent\"",
    );
}

#[test]
fn context_group_shape_2_0() {
    let cg = |c: Value| with(json!({"context": {"contextGroups": [c]}}));
    bad(
        &cg(json!({"objectType": "contextGroup", "group": {"key": "x"}})),
        V2,
        "statement.context.contextGroups[0].group.key",
        "not an allowed property",
    );
    bad(
        &cg(json!({"objectType": "contextGroup", "group": {"objectType": "Group", "name": "anon"}})),
        V2,
        "statement.context.contextGroups[0].group",
        "must list its members",
    );
    bad(
        &cg(json!({"objectType": "contextgroup", "group": {"objectType": "Group", "mbox": "mailto:t@example.com"}})),
        V2,
        "statement.context.contextGroups[0].objectType",
        "must be \"contextGroup\"",
    );
}

// ---- attachments ----

fn attachment(patch: Value) -> Value {
    let mut a = json!({"usageType": "http://example.com/usage", "display": {"en-US": "x"}, "contentType": "text/plain",
                       "length": 27, "sha2": "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a"});
    if let (Some(a), Some(p)) = (a.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            a.insert(k.clone(), v.clone());
        }
    }
    with(json!({"attachments": [a]}))
}

#[test]
fn attachment_fields() {
    both_ok(&attachment(json!({})));
    both_bad(&attachment(json!({"usageType": "should fail"})), "statement.attachments[0].usageType", "absolute IRI");
    both_bad(
        &attachment(json!({"fileUrl": "over.there.com/file.txt"})),
        "statement.attachments[0].fileUrl",
        "absolute IRI",
    );
    both_bad(&attachment(json!({"contentType": 12345})), "statement.attachments[0].contentType", "must be a string");
    both_bad(&attachment(json!({"contentType": "text"})), "statement.attachments[0].contentType", "media type");
    both_bad(&attachment(json!({"length": "27"})), "statement.attachments[0].length", "must be an integer");
    both_bad(&attachment(json!({"length": -1})), "statement.attachments[0].length", "at least 0");
    both_bad(&attachment(json!({"length": 1.5})), "statement.attachments[0].length", "must be an integer");
    both_bad(&attachment(json!({"sha2": "xyz"})), "statement.attachments[0].sha2", "SHA-2");
    both_bad(
        &attachment(json!({"display": {"something": "x"}})),
        "statement.attachments[0].display.something",
        "RFC 5646",
    );
    both_bad(&with(json!({"attachments": {}})), "statement.attachments", "must be an array");
}

#[test]
fn attachment_required_fields() {
    for k in ["usageType", "display", "contentType", "length", "sha2"] {
        let mut s = attachment(json!({}));
        if let Some(a) = s.pointer_mut("/attachments/0").and_then(Value::as_object_mut) {
            a.remove(k);
        }
        both_bad(&s, &format!("statement.attachments[0].{k}"), "is required");
    }
}

// ---- authority ----

#[test]
fn authority_agent_or_two_member_anonymous_group() {
    both_ok(&with(json!({"authority": {"mbox": "mailto:a@example.com"}})));
    both_ok(&with(json!({"authority": {"objectType": "Group", "member": [
        {"account": {"homePage": "http://example.com/xAPI/OAuth/Token", "name": "oauth_consumer_x75db"}},
        {"mbox": "mailto:bob@example.com"}]}})));
    both_bad(
        &with(json!({"authority": {"objectType": "Group", "member": [{"mbox": "mailto:bob@example.com"}]}})),
        "statement.authority",
        "exactly two Agents",
    );
    both_bad(
        &with(json!({"authority": {"objectType": "Group", "mbox": "mailto:g@example.com",
            "member": [{"mbox": "mailto:a@example.com"}, {"mbox": "mailto:b@example.com"}]}})),
        "statement.authority",
        "anonymous Group",
    );
    both_bad(&with(json!({"authority": {"name": "x"}})), "statement.authority", "found none");
}

// ---- voiding ----

#[test]
fn voiding_statement_needs_statement_ref() {
    let voided = json!({"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}});
    both_ok(&with(
        json!({"verb": voided, "object": {"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"}}),
    ));
    both_bad(&with(json!({"verb": voided})), "statement.object", "StatementRef");
}

// ---- error formatting ----

#[test]
fn errors_render_path_and_message() {
    let e = v().statement(&with(json!({"result": {"score": {"scaled": 2}}})), V1).err();
    assert_eq!(e.map(|e| e.to_string()), Some("statement.result.score.scaled: must be between -1 and 1".to_string()));
    let e = ValidationError::new("statement.actor".into(), "x").in_batch(3);
    assert_eq!(e.path, "statement[3].actor");
}

#[test]
fn validator_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Validator>();
}

/// Fixtures in `fixtures/statements/`, also usable by HTTP-level tests.
macro_rules! fixture {
    ($kind:literal, $name:literal) => {
        ($name, include_str!(concat!("../../../../fixtures/statements/", $kind, "/", $name)))
    };
}

fn parse_fixture(name: &str, text: &str) -> Value {
    match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => panic!("fixture {name} is not JSON: {e}"),
    }
}

#[test]
fn valid_fixtures_pass() {
    for (name, text) in [
        fixture!("valid", "activity-full.json"),
        fixture!("valid", "agent-object.json"),
        fixture!("valid", "authority-oauth-group.json"),
        fixture!("valid", "group-object-anonymous.json"),
        fixture!("valid", "statementref-object.json"),
        fixture!("valid", "substatement-object.json"),
        fixture!("valid", "voiding.json"),
    ] {
        let stmt = parse_fixture(name, text);
        assert_eq!(v().statement(&stmt, V1).map(drop), Ok(()), "{name}");
        assert_eq!(v().statement(&stmt, V2).map(drop), Ok(()), "{name}");
    }
    let (name, text) = fixture!("valid", "v2-context-agents-groups.json");
    assert_eq!(v().statement(&parse_fixture(name, text), V2).map(drop), Ok(()), "{name}");
}

#[test]
fn invalid_fixtures_fail_at_the_expected_path() {
    for ((name, text), path) in [
        (fixture!("invalid", "agent-two-ifis.json"), "statement.actor"),
        (fixture!("invalid", "unknown-property-case.json"), "statement.Verb"),
        (fixture!("invalid", "null-value.json"), "statement.result.success"),
        (fixture!("invalid", "score-raw-above-max.json"), "statement.result.score.raw"),
        (fixture!("invalid", "substatement-with-id.json"), "statement.object.id"),
        (fixture!("invalid", "revision-with-agent-object.json"), "statement.context.revision"),
        (fixture!("invalid", "voiding-activity-object.json"), "statement.object"),
        (fixture!("invalid", "timestamp-negative-zero-offset.json"), "statement.timestamp"),
        (fixture!("invalid", "language-map-bad-tag.json"), "statement.verb.display.something"),
        (fixture!("invalid", "context-agents-in-1.0.3.json"), "statement.context.contextAgents"),
    ] {
        let stmt = parse_fixture(name, text);
        let err = v().statement(&stmt, V1).err();
        assert_eq!(err.map(|e| e.path), Some(path.to_string()), "{name}");
    }
}

#[test]
fn media_type_syntax() {
    for good in ["text/plain", "text/plain; charset=ascii", "application/vnd.api+json", "image/jpeg"] {
        assert!(is_media_type(good), "{good}");
    }
    for bad_mt in ["", "text", "text/", "/plain", "text/plain;", "text/pl ain", "text/plain; charset"] {
        assert!(!is_media_type(bad_mt), "{bad_mt}");
    }
}
