//! The validator's tests: one per rule of the specification it enforces.

use super::*;
use serde_json::json;
use std::sync::OnceLock;

fn v() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(Validator::new)
}

const V1: Version = Version::V1_0_3;
const V2: Version = Version::V2_0_0;

fn base() -> Value {
    json!({
        "actor": {"objectType": "Agent", "name": "Ann", "mbox": "mailto:ann@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted", "display": {"en-US": "attempted"}},
        "object": {"objectType": "Activity", "id": "http://example.com/activities/1"}
    })
}

/// `base()` with `patch` merged in at the top level.
fn with(patch: Value) -> Value {
    let mut s = base();
    if let (Some(s), Some(p)) = (s.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            s.insert(k.clone(), v.clone());
        }
    }
    s
}

#[track_caller]
fn ok(stmt: &Value, version: Version) {
    if let Err(e) = v().statement(stmt, version) {
        panic!("expected valid under {version}, got {e}\n{stmt:#}");
    }
}

#[track_caller]
fn bad(stmt: &Value, version: Version, path: &str, msg_part: &str) {
    match v().statement(stmt, version) {
        Ok(_) => panic!("expected {path} to be rejected under {version}\n{stmt:#}"),
        Err(e) => {
            assert_eq!(e.path, path, "wrong path; message was {}", e.message);
            assert!(e.message.contains(msg_part), "message {:?} lacks {msg_part:?}", e.message);
        }
    }
}

#[track_caller]
fn both_ok(stmt: &Value) {
    ok(stmt, V1);
    ok(stmt, V2);
}

#[track_caller]
fn both_bad(stmt: &Value, path: &str, msg_part: &str) {
    bad(stmt, V1, path, msg_part);
    bad(stmt, V2, path, msg_part);
}

// ---- valid statements of every object type ----

#[test]
fn valid_minimal_activity_statement() {
    both_ok(&base());
    both_ok(&with(json!({"object": {"id": "http://example.com/a"}})));
}

#[test]
fn valid_full_statement_with_everything() {
    let s = with(json!({
        "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
        "object": {"objectType": "Activity", "id": "http://example.com/q1", "definition": {
            "name": {"en-US": "Q1", "zh-Hans-CN": "问题"}, "description": {"en": "d"},
            "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
            "moreInfo": "http://example.com/more",
            "interactionType": "choice", "correctResponsesPattern": ["a[,]b"],
            "choices": [{"id": "a", "description": {"en": "A"}}, {"id": "b"}],
            "extensions": {"http://example.com/ext": null}
        }},
        "result": {"score": {"scaled": 0.5, "raw": 5, "min": 0, "max": 10}, "success": true,
                   "completion": false, "response": "a[,]b", "duration": "PT1M2.5S",
                   "extensions": {"http://example.com/r": {"any": [1, null]}}},
        "context": {"registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
                    "instructor": {"mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e364975"},
                    "team": {"objectType": "Group", "openid": "http://openid.example.org/t"},
                    "contextActivities": {"parent": {"id": "http://example.com/p"},
                                          "grouping": [{"id": "http://example.com/g", "objectType": "Activity"}],
                                          "category": [], "other": [{"id": "http://example.com/o"}]},
                    "revision": "r1", "platform": "web", "language": "fr-CA",
                    "statement": {"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"},
                    "extensions": {"http://example.com/c": ""}},
        "timestamp": "2013-05-18T05:32:34.804+05:30",
        "stored": "2013-05-18T05:32:34.804Z",
        "authority": {"objectType": "Agent", "account": {"homePage": "http://example.com", "name": "lrs"}},
        "version": "1.0.0",
        "attachments": [{"usageType": "http://example.com/usage", "display": {"en-US": "cert"},
                         "description": {"en-US": "d"}, "contentType": "text/plain; charset=ascii",
                         "length": 27, "sha2": "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a",
                         "fileUrl": "http://example.com/file.txt"}]
    }));
    both_ok(&s);
}

#[test]
fn valid_agent_object() {
    both_ok(&with(json!({"object": {"objectType": "Agent", "account": {"homePage": "http://e.com", "name": "x"}}})));
}

#[test]
fn valid_group_objects_identified_and_anonymous() {
    both_ok(&with(json!({"object": {"objectType": "Group", "mbox": "mailto:g@example.com"}})));
    both_ok(&with(json!({"object": {"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]}})));
}

#[test]
fn valid_statement_ref_object() {
    both_ok(&with(json!({"object": {"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"}})));
}

#[test]
fn valid_substatement_object() {
    both_ok(&with(json!({"object": {
        "objectType": "SubStatement",
        "actor": {"mbox": "mailto:b@example.com"},
        "verb": {"id": "http://example.com/v"},
        "object": {"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"},
        "result": {"success": true}, "timestamp": "2020-01-01T00:00:00Z",
        "context": {"instructor": {"mbox": "mailto:i@example.com"}}
    }})));
}

// ---- statement-level rules ----

#[test]
fn statement_requires_actor_verb_object() {
    for k in ["actor", "verb", "object"] {
        let mut s = base();
        if let Some(m) = s.as_object_mut() {
            m.remove(k);
        }
        both_bad(&s, &format!("statement.{k}"), "is required");
    }
}

#[test]
fn unknown_properties_are_rejected_case_sensitively() {
    both_bad(&with(json!({"Actor": {"mbox": "mailto:a@example.com"}})), "statement.Actor", "not an allowed property");
    both_bad(
        &with(json!({"verb": {"id": "http://e.com/v", "Display": {"en": "x"}}})),
        "statement.verb.Display",
        "not an allowed property",
    );
}

#[test]
fn null_values_are_rejected_outside_extensions() {
    both_bad(&with(json!({"timestamp": null})), "statement.timestamp", "must not be null");
    both_bad(
        &with(json!({"verb": {"id": "http://e.com/v", "display": {"en-US": null}}})),
        "statement.verb.display[\"en-US\"]",
        "must not be null",
    );
    both_ok(&with(json!({"result": {"extensions": {"http://e.com/x": null}}})));
}

#[test]
fn statement_must_be_an_object() {
    both_bad(&json!([1]), "statement", "must be an object");
}

#[test]
fn statement_id_must_be_hyphenated_uuid() {
    both_ok(&with(json!({"id": "AA97B177-9383-4934-8543-0F91A7A02836"})));
    both_bad(&with(json!({"id": "AA97B177-9383-4934-8543-0F91A7A028368"})), "statement.id", "UUID");
    both_bad(&with(json!({"id": "MA97B177-9383-4934-8543-0F91A7A02836"})), "statement.id", "UUID");
    both_bad(&with(json!({"id": "aa97b17793834934854300f91a7a02836"})), "statement.id", "UUID");
    both_bad(&with(json!({"id": 12345})), "statement.id", "must be a string");
}

#[test]
fn version_property_depends_on_request_version() {
    for good in ["1.0", "1.0.0", "1.0.3", "1.0.9"] {
        both_ok(&with(json!({"version": good})));
    }
    for bad_v in ["0.9.9", "1.1.0", "should fail", "1.0.", "1.0.x", "2.1.0"] {
        both_bad(&with(json!({"version": bad_v})), "statement.version", "not a supported statement version");
    }
    // 2.0 requests may carry 2.0.x statements; 1.0.3 requests may not.
    ok(&with(json!({"version": "2.0.0"})), V2);
    ok(&with(json!({"version": "2.0"})), V2);
    bad(&with(json!({"version": "2.0.0"})), V1, "statement.version", "expected 1.0.x");
}

#[test]
fn timestamp_and_stored_must_be_iso8601() {
    both_bad(&with(json!({"timestamp": "01/011/2015"})), "statement.timestamp", "ISO 8601");
    both_bad(&with(json!({"timestamp": "2008-09-15T15:53:00.601-00:00"})), "statement.timestamp", "-00:00");
    both_bad(&with(json!({"stored": "2008-09-15"})), "statement.stored", "ISO 8601");
    both_ok(&with(json!({"timestamp": "2008-09-15T15:53:00.601+00:00"})));
}

// ---- actors ----

#[test]
fn agent_requires_exactly_one_ifi() {
    both_bad(&with(json!({"actor": {"name": "x"}})), "statement.actor", "found none");
    both_bad(
        &with(json!({"actor": {"mbox": "mailto:a@example.com", "openid": "http://openid.example.org/a"}})),
        "statement.actor",
        "found mbox, openid",
    );
}

#[test]
fn agent_object_type_must_be_agent() {
    both_bad(
        &with(json!({"actor": {"objectType": "agent", "mbox": "mailto:a@example.com"}})),
        "statement.actor.objectType",
        "must be \"Agent\" or \"Group\"",
    );
}

#[test]
fn mbox_must_be_mailto_iri() {
    both_bad(&with(json!({"actor": {"mbox": "http://should.fail.com"}})), "statement.actor.mbox", "mailto");
    both_bad(&with(json!({"actor": {"mbox": "mailto:should.fail.com"}})), "statement.actor.mbox", "mailto");
    both_bad(&with(json!({"actor": {"mbox": "ann@example.com"}})), "statement.actor.mbox", "mailto");
}

#[test]
fn mbox_sha1sum_must_be_40_hex_digits() {
    both_bad(
        &with(json!({"actor": {"mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e36497"}})),
        "statement.actor.mbox_sha1sum",
        "SHA-1",
    );
    both_bad(
        &with(json!({"actor": {"mbox_sha1sum": "zd9b00a5611f94eaa7b1661edab976068e364975"}})),
        "statement.actor.mbox_sha1sum",
        "SHA-1",
    );
}

#[test]
fn openid_must_be_absolute_iri() {
    both_bad(&with(json!({"actor": {"openid": "open.id.com/testUser"}})), "statement.actor.openid", "absolute IRI");
    both_bad(&with(json!({"actor": {"openid": "ab=c://should.fail.com"}})), "statement.actor.openid", "absolute IRI");
}

#[test]
fn account_requires_iri_home_page_and_name() {
    both_bad(&with(json!({"actor": {"account": {"name": "x"}}})), "statement.actor.account.homePage", "is required");
    both_bad(
        &with(json!({"actor": {"account": {"homePage": "http://e.com"}}})),
        "statement.actor.account.name",
        "is required",
    );
    both_bad(
        &with(json!({"actor": {"account": {"homePage": "homePage.com/testUser", "name": "1"}}})),
        "statement.actor.account.homePage",
        "absolute IRI",
    );
}

#[test]
fn anonymous_group_requires_members() {
    both_bad(&with(json!({"actor": {"objectType": "Group", "name": "g"}})), "statement.actor", "must list its members");
    both_bad(
        &with(json!({"actor": {"objectType": "Group", "member": []}})),
        "statement.actor",
        "must list its members",
    );
}

#[test]
fn identified_group_has_at_most_one_ifi() {
    both_ok(&with(
        json!({"actor": {"objectType": "Group", "mbox": "mailto:g@example.com", "member": [{"mbox": "mailto:a@example.com"}]}}),
    ));
    both_bad(
        &with(
            json!({"actor": {"objectType": "Group", "mbox": "mailto:g@example.com", "openid": "http://o.example.org/g"}}),
        ),
        "statement.actor",
        "exactly one inverse functional identifier",
    );
}

#[test]
fn group_members_must_be_agents() {
    both_bad(
        &with(
            json!({"actor": {"objectType": "Group", "member": [{"objectType": "Group", "mbox": "mailto:g@example.com"}]}}),
        ),
        "statement.actor.member[0].objectType",
        "must be \"Agent\"",
    );
    both_bad(
        &with(
            json!({"actor": {"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}, {"name": "no ifi"}]}}),
        ),
        "statement.actor.member[1]",
        "found none",
    );
}

#[test]
fn agent_parameter_is_validated_like_statement_agents() {
    assert!(v().agent(&json!({"mbox": "mailto:a@example.com"}), V1).is_ok());
    assert!(v().agent(&json!({"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]}), V2).is_ok());
    let e = v().agent(&json!({"objectType": "Agent"}), V1).err();
    assert_eq!(e.map(|e| e.path), Some("agent".to_string()));
    let e = v().agent(&json!({"mbox": "mailto:a@example.com", "foo": 1}), V2).err();
    assert_eq!(e.map(|e| e.path), Some("agent.foo".to_string()));
    assert!(v().agent(&json!("mailto:a@example.com"), V1).is_err());
}

// ---- verb and language maps ----

#[test]
fn verb_id_must_be_absolute_iri() {
    both_bad(&with(json!({"verb": {"id": "adlnet.gov/expapi/verbs/attended"}})), "statement.verb.id", "absolute IRI");
    both_bad(&with(json!({"verb": {"display": {"en": "x"}}})), "statement.verb.id", "is required");
}

#[test]
fn language_map_keys_must_be_rfc5646_tags() {
    both_ok(&with(
        json!({"verb": {"id": "http://e.com/v", "display": {"sr-Cyrl": "x", "de": "y", "zh-Hans-CN": "z"}}}),
    ));
    both_bad(
        &with(json!({"verb": {"id": "http://e.com/v", "display": {"something": "x"}}})),
        "statement.verb.display.something",
        "RFC 5646",
    );
    both_bad(
        &with(json!({"verb": {"id": "http://e.com/v", "display": "attended"}})),
        "statement.verb.display",
        "must be an object",
    );
    both_bad(
        &with(json!({"verb": {"id": "http://e.com/v", "display": {"en": 1}}})),
        "statement.verb.display.en",
        "must be a string",
    );
}

// ---- objects ----

#[test]
fn activity_requires_iri_id() {
    both_bad(&with(json!({"object": {"objectType": "Activity"}})), "statement.object.id", "is required");
    both_bad(&with(json!({"object": {"id": "www.example.com/a"}})), "statement.object.id", "absolute IRI");
}

#[test]
fn activity_definition_iris_and_maps() {
    let def = |d: Value| with(json!({"object": {"id": "http://e.com/a", "definition": d}}));
    both_bad(&def(json!({"type": "should error"})), "statement.object.definition.type", "absolute IRI");
    both_bad(&def(json!({"moreInfo": "should error"})), "statement.object.definition.moreInfo", "absolute IRI");
    both_bad(&def(json!({"name": "str"})), "statement.object.definition.name", "must be an object");
    both_bad(
        &def(json!({"description": {"a12345678": "x"}})),
        "statement.object.definition.description.a12345678",
        "RFC 5646",
    );
    both_bad(&def(json!("x")), "statement.object.definition", "must be an object");
}

#[test]
fn object_type_values_are_case_sensitive() {
    both_bad(
        &with(json!({"object": {"objectType": "activity", "id": "http://e.com/a"}})),
        "statement.object.objectType",
        "must be one of \"Activity\", \"Agent\"",
    );
    both_bad(
        &with(json!({"object": {"objectType": "statementref", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"}})),
        "statement.object.objectType",
        "must be one of",
    );
}

#[test]
fn agent_or_group_object_requires_object_type() {
    // Without objectType the object is read as an Activity, so IFIs are unknown properties.
    both_bad(
        &with(json!({"object": {"mbox": "mailto:a@example.com"}})),
        "statement.object.mbox",
        "must set objectType",
    );
    both_bad(&with(json!({"object": {"objectType": "Agent", "name": "x"}})), "statement.object", "found none");
}

#[test]
fn interaction_type_must_be_known_value() {
    let def = |t: Value| with(json!({"object": {"id": "http://e.com/a", "definition": {"interactionType": t}}}));
    for t in [
        "true-false",
        "choice",
        "fill-in",
        "long-fill-in",
        "matching",
        "performance",
        "sequencing",
        "likert",
        "numeric",
        "other",
    ] {
        both_ok(&def(json!(t)));
    }
    both_bad(&def(json!("Other")), "statement.object.definition.interactionType", "must be one of");
    both_bad(&def(json!(12345)), "statement.object.definition.interactionType", "must be one of");
}

#[test]
fn interaction_properties_require_interaction_type() {
    let def = |d: Value| with(json!({"object": {"id": "http://e.com/a", "definition": d}}));
    both_bad(
        &def(json!({"correctResponsesPattern": ["a"]})),
        "statement.object.definition.interactionType",
        "correctResponsesPattern",
    );
    both_bad(&def(json!({"choices": [{"id": "a"}]})), "statement.object.definition.interactionType", "choices");
}

#[test]
fn component_lists_must_match_interaction_type() {
    let def = |d: Value| with(json!({"object": {"id": "http://e.com/a", "definition": d}}));
    both_ok(&def(json!({"interactionType": "matching", "source": [{"id": "a"}], "target": [{"id": "b"}]})));
    both_ok(&def(json!({"interactionType": "performance", "steps": [{"id": "a"}]})));
    both_ok(&def(json!({"interactionType": "likert", "scale": [{"id": "a"}]})));
    both_ok(&def(json!({"interactionType": "sequencing", "choices": [{"id": "a"}]})));
    both_bad(
        &def(json!({"interactionType": "choice", "scale": [{"id": "a"}]})),
        "statement.object.definition.scale",
        "not allowed for interactionType \"choice\"",
    );
    both_bad(
        &def(json!({"interactionType": "true-false", "choices": [{"id": "a"}]})),
        "statement.object.definition.choices",
        "not allowed",
    );
}

#[test]
fn interaction_component_ids_must_be_distinct() {
    let s = with(json!({"object": {"id": "http://e.com/a", "definition": {
        "interactionType": "choice", "choices": [{"id": "a"}, {"id": "b"}, {"id": "a"}]}}}));
    both_bad(&s, "statement.object.definition.choices[2].id", "duplicate");
}

#[test]
fn interaction_component_shape() {
    let s = |c: Value| {
        with(json!({"object": {"id": "http://e.com/a", "definition": {"interactionType": "choice", "choices": [c]}}}))
    };
    both_bad(&s(json!({"description": {"en": "x"}})), "statement.object.definition.choices[0].id", "is required");
    both_bad(
        &s(json!({"id": "a", "description": {"bad_tag": "x"}})),
        "statement.object.definition.choices[0].description.bad_tag",
        "RFC 5646",
    );
    both_bad(
        &s(json!({"id": "a", "extra": 1})),
        "statement.object.definition.choices[0].extra",
        "not an allowed property",
    );
}

#[test]
fn correct_responses_pattern_is_array_of_strings() {
    let s = with(
        json!({"object": {"id": "http://e.com/a", "definition": {"interactionType": "numeric", "correctResponsesPattern": [4]}}}),
    );
    both_bad(&s, "statement.object.definition.correctResponsesPattern[0]", "must be a string");
}

#[test]
fn statement_ref_requires_uuid_id() {
    both_bad(&with(json!({"object": {"objectType": "StatementRef"}})), "statement.object.id", "is required");
    both_bad(
        &with(json!({"object": {"objectType": "StatementRef", "id": "not-a-uuid"}})),
        "statement.object.id",
        "UUID",
    );
}

#[test]
fn substatement_must_not_have_id_stored_version_authority() {
    for (k, val) in [
        ("id", json!("8f87ccde-bb56-4c2e-ab83-44982ef22df0")),
        ("stored", json!("2013-05-18T05:32:34.804Z")),
        ("version", json!("1.0.0")),
        ("authority", json!({"mbox": "mailto:a@example.com"})),
    ] {
        let mut sub = json!({"objectType": "SubStatement", "actor": {"mbox": "mailto:b@example.com"},
                             "verb": {"id": "http://e.com/v"}, "object": {"id": "http://e.com/a"}});
        if let Some(m) = sub.as_object_mut() {
            m.insert(k.to_string(), val);
        }
        both_bad(&with(json!({"object": sub})), &format!("statement.object.{k}"), "not allowed in a SubStatement");
    }
}

#[test]
fn substatement_must_not_nest() {
    let inner = json!({"objectType": "SubStatement", "actor": {"mbox": "mailto:c@example.com"},
                       "verb": {"id": "http://e.com/v"}, "object": {"id": "http://e.com/a"}});
    let s = with(json!({"object": {"objectType": "SubStatement", "actor": {"mbox": "mailto:b@example.com"},
                                   "verb": {"id": "http://e.com/v"}, "object": inner}}));
    both_bad(&s, "statement.object.object", "must not contain another SubStatement");
}

#[test]
fn substatement_parts_are_validated() {
    let s = with(json!({"object": {"objectType": "SubStatement", "actor": {"name": "no ifi"},
                                   "verb": {"id": "http://e.com/v"}, "object": {"id": "http://e.com/a"}}}));
    both_bad(&s, "statement.object.actor", "found none");
    let s = with(json!({"object": {"objectType": "SubStatement", "actor": {"mbox": "mailto:b@example.com"},
                                   "verb": {"id": "http://e.com/v"}}}));
    both_bad(&s, "statement.object.object", "is required");
    let s = with(json!({"object": {"objectType": "SubStatement", "actor": {"mbox": "mailto:b@example.com"},
                                   "verb": {"id": "http://e.com/v"}, "object": {"objectType": "Agent", "mbox": "mailto:c@example.com"},
                                   "context": {"platform": "x"}}}));
    both_bad(&s, "statement.object.context.platform", "only allowed when the statement's object is an Activity");
}

// ---- result ----

/// Results, context, attachments and the rest of the statement, in their own file.
mod later_parts;
