//! Document resources (State, Activity Profile, Agent Profile): see issue 3.
