//! The parts of SCORM 2004 `imsss:sequencing` (and its `adlseq`/`adlnav` extensions) that only the
//! sequencing engine needs: sequencing rules, randomization, constrained choice, the 4th edition
//! objective map extensions and hidden player controls. `scorm.rs` reads the rest.
//!
//! Each element overlays what a `sequencingCollection` entry gave (the item's own element wins, as
//! ADL's reference implementation does); absent elements stay `None` and the engine applies the
//! CAM defaults.

use roxmltree::{Document, Node as XNode};

use super::error::PackageError;
use super::model::*;
use super::scorm::{ADLNAV, ADLSEQ, IMSSS};
use super::xml::{self, child, children, loc, text};

/// Rules of one kind beyond this count are a hostile or broken manifest.
const MAX_RULES: usize = 64;
const MAX_CONDITIONS: usize = 64;

fn err(file: &str, doc: &Document<'_>, node: XNode<'_, '_>, msg: impl Into<String>) -> PackageError {
    PackageError::manifest(loc(file, doc, node), msg)
}

/// Overlays the engine-only sequencing elements of `seq` onto `r`.
pub(super) fn apply(
    file: &str,
    doc: &Document<'_>,
    seq: XNode<'_, '_>,
    r: &mut CompletionRules,
) -> Result<(), PackageError> {
    if let Some(sr) = child(seq, IMSSS, "sequencingRules") {
        let mut rules = SequencingRules::default();
        for (name, list) in [
            ("preConditionRule", &mut rules.pre),
            ("exitConditionRule", &mut rules.exit),
            ("postConditionRule", &mut rules.post),
        ] {
            for rule in children(sr, IMSSS, name) {
                if list.len() >= MAX_RULES {
                    return Err(err(file, doc, rule, format!("more than {MAX_RULES} {name}s")));
                }
                list.push(sequencing_rule(file, doc, rule)?);
            }
        }
        r.sequencing_rules = Some(rules);
    }
    if let Some(rc) = child(seq, IMSSS, "randomizationControls") {
        let timing = |n: &str| -> Result<String, PackageError> {
            let v = rc.attribute(n).map(str::trim).unwrap_or("never");
            match v {
                "never" | "once" | "onEachNewAttempt" => Ok(v.to_owned()),
                _ => Err(err(file, doc, rc, format!("{n}={v:?} is not never, once or onEachNewAttempt"))),
            }
        };
        let select_count = match rc.attribute("selectCount").map(str::trim) {
            None | Some("") => None,
            Some(v) => Some(v.parse().map_err(|_| err(file, doc, rc, format!("selectCount {v:?} is not a count")))?),
        };
        r.randomization = Some(RandomizationControls {
            randomization_timing: timing("randomizationTiming")?,
            select_count,
            reorder_children: xml::bool_attr(file, doc, rc, "reorderChildren", false)?,
            selection_timing: timing("selectionTiming")?,
        });
    }
    if let Some(cc) = child(seq, ADLSEQ, "constrainedChoiceConsiderations") {
        r.constrained_choice = Some(ConstrainedChoice {
            prevent_activation: xml::bool_attr(file, doc, cc, "preventActivation", false)?,
            constrain_choice: xml::bool_attr(file, doc, cc, "constrainChoice", false)?,
        });
    }
    if let Some(objs) = child(seq, ADLSEQ, "objectives") {
        let mut list = Vec::new();
        for o in children(objs, ADLSEQ, "objective") {
            let Some(id) = xml::id_attr(o, "objectiveID") else {
                return Err(err(file, doc, o, "adlseq:objective without objectiveID"));
            };
            let mut maps = Vec::new();
            for mi in children(o, ADLSEQ, "mapInfo") {
                let Some(target) = xml::id_attr(mi, "targetObjectiveID") else {
                    return Err(err(file, doc, mi, "adlseq:mapInfo without targetObjectiveID"));
                };
                let b = |n: &str, d: bool| xml::bool_attr(file, doc, mi, n, d);
                maps.push(AdlObjectiveMap {
                    target_objective_id: target,
                    read_raw_score: b("readRawScore", true)?,
                    read_min_score: b("readMinScore", true)?,
                    read_max_score: b("readMaxScore", true)?,
                    read_completion_status: b("readCompletionStatus", true)?,
                    read_progress_measure: b("readProgressMeasure", true)?,
                    write_raw_score: b("writeRawScore", false)?,
                    write_min_score: b("writeMinScore", false)?,
                    write_max_score: b("writeMaxScore", false)?,
                    write_completion_status: b("writeCompletionStatus", false)?,
                    write_progress_measure: b("writeProgressMeasure", false)?,
                });
            }
            list.push(AdlObjective { objective_id: id, maps });
        }
        r.adl_objectives = Some(list);
    }
    Ok(())
}

fn sequencing_rule(file: &str, doc: &Document<'_>, rule: XNode<'_, '_>) -> Result<SequencingRule, PackageError> {
    let conds = child(rule, IMSSS, "ruleConditions");
    let mut conditions = Vec::new();
    if let Some(c) = conds {
        for rc in children(c, IMSSS, "ruleCondition") {
            if conditions.len() >= MAX_CONDITIONS {
                return Err(err(file, doc, rc, format!("more than {MAX_CONDITIONS} rule conditions")));
            }
            let Some(condition) = rc.attribute("condition").map(str::trim) else {
                return Err(err(file, doc, rc, "ruleCondition without condition"));
            };
            let threshold = xml::f64_attr(file, doc, rc, "measureThreshold", 0.0)?;
            if !(-1.0..=1.0).contains(&threshold) {
                return Err(err(file, doc, rc, format!("measureThreshold {threshold} is not from -1 to 1")));
            }
            conditions.push(RuleCondition {
                condition: condition.to_owned(),
                negated: rc.attribute("operator").map(str::trim) == Some("not"),
                referenced_objective: rc
                    .attribute("referencedObjective")
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
                measure_threshold: threshold,
            });
        }
    }
    let Some(action) = child(rule, IMSSS, "ruleAction").and_then(|a| a.attribute("action")) else {
        return Err(err(file, doc, rule, "sequencing rule without a ruleAction"));
    };
    Ok(SequencingRule {
        condition_combination: conds
            .and_then(|c| c.attribute("conditionCombination"))
            .map(str::trim)
            .unwrap_or("all")
            .to_owned(),
        conditions,
        action: action.trim().to_owned(),
    })
}

/// `adlnav:presentation/navigationInterface/hideLMSUI` values of an item.
pub(super) fn hide_lms_ui(item: XNode<'_, '_>) -> Vec<String> {
    child(item, ADLNAV, "presentation")
        .and_then(|p| child(p, ADLNAV, "navigationInterface"))
        .map(|ni| children(ni, ADLNAV, "hideLMSUI").filter_map(text).take(16).collect())
        .unwrap_or_default()
}
