//! Navigation Request Process (NB.2.1).

use super::{Engine, Exception, NavRequest, SeqReq, TermReq};

impl Engine {
    /// Navigation Request Process (NB.2.1): validates a navigation request against the current
    /// state and turns it into a termination request and a sequencing request.
    pub(crate) fn navigation_request_process(
        &self,
        req: &NavRequest,
    ) -> Result<(Option<TermReq>, Option<SeqReq>), Exception> {
        let current = self.st.current;
        let active = current.is_some_and(|c| self.st.activities[c].active);
        match req {
            NavRequest::Start => match current {
                None => Ok((None, Some(SeqReq::Start))),
                Some(_) => Err(Exception("NB.2.1-1")),
            },
            NavRequest::ResumeAll => match (current, self.st.suspended) {
                (None, Some(_)) => Ok((None, Some(SeqReq::ResumeAll))),
                (None, None) => Err(Exception("NB.2.1-3")),
                (Some(_), _) => Err(Exception("NB.2.1-1")),
            },
            NavRequest::Continue => {
                let Some(c) = current else { return Err(Exception("NB.2.1-2")) };
                match self.def.parent(c) {
                    Some(p) if self.def.get(p).seq.flow => {
                        Ok((active.then_some(TermReq::Exit), Some(SeqReq::Continue)))
                    }
                    _ => Err(Exception("NB.2.1-4")),
                }
            }
            NavRequest::Previous => {
                let Some(c) = current else { return Err(Exception("NB.2.1-2")) };
                match self.def.parent(c) {
                    Some(p) => {
                        let ps = &self.def.get(p).seq;
                        if ps.flow && !ps.forward_only {
                            Ok((active.then_some(TermReq::Exit), Some(SeqReq::Previous)))
                        } else {
                            Err(Exception("NB.2.1-5"))
                        }
                    }
                    None => Err(Exception("NB.2.1-6")),
                }
            }
            NavRequest::Forward | NavRequest::Backward => Err(Exception("NB.2.1-7")),
            NavRequest::Choice(id) => {
                let Some(t) = self.def.find(id).filter(|&t| self.is_available(t)) else {
                    return Err(Exception("NB.2.1-11"));
                };
                if let Some(p) = self.def.parent(t) {
                    if !self.def.get(p).seq.choice {
                        return Err(Exception("NB.2.1-10"));
                    }
                }
                let Some(c) = current else { return Ok((None, Some(SeqReq::Choice(t)))) };
                // Leaving active activities that forbid it (choiceExit false) is refused: every
                // activity from the current one up to the first proper ancestor that contains
                // the target. Unlike the SN book's sibling shortcut this includes the current
                // activity itself, as ADL's conformance suite expects (CM-07a: a leaf with
                // choiceExit false disables the whole table of contents).
                let mut a = Some(c);
                while let Some(x) = a {
                    if x != c && self.def.is_ancestor_or_self(x, t) {
                        break;
                    }
                    if self.st.activities[x].active && !self.def.get(x).seq.choice_exit {
                        return Err(Exception("NB.2.1-8"));
                    }
                    a = self.def.parent(x);
                }
                Ok((active.then_some(TermReq::Exit), Some(SeqReq::Choice(t))))
            }
            NavRequest::Jump(id) => {
                let Some(t) = self.def.find(id).filter(|&t| self.is_available(t)) else {
                    return Err(Exception("NB.2.1-11"));
                };
                if current.is_none() {
                    return Err(Exception("NB.2.1-2"));
                }
                Ok((active.then_some(TermReq::Exit), Some(SeqReq::Jump(t))))
            }
            NavRequest::Exit | NavRequest::Abandon => {
                let Some(_) = current else { return Err(Exception("NB.2.1-2")) };
                if !active {
                    return Err(Exception("NB.2.1-12"));
                }
                let t = if *req == NavRequest::Exit { TermReq::Exit } else { TermReq::Abandon };
                Ok((Some(t), Some(SeqReq::Exit)))
            }
            NavRequest::ExitAll | NavRequest::SuspendAll | NavRequest::AbandonAll => {
                if current.is_none() {
                    return Err(Exception("NB.2.1-2"));
                }
                let t = match req {
                    NavRequest::ExitAll => TermReq::ExitAll,
                    NavRequest::SuspendAll => TermReq::SuspendAll,
                    _ => TermReq::AbandonAll,
                };
                Ok((Some(t), Some(SeqReq::Exit)))
            }
        }
    }
}
