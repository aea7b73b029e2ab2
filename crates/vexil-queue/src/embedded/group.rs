//! Consumer groups on the embedded log: the log belongs to one process, so a group has one
//! member, which holds every partition of its topic until its subscription is dropped.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use crate::{Assignments, QueueError};

/// The groups that have a member now, as (topic, group). Shared by the queue's clones.
#[derive(Clone, Default)]
pub(super) struct Groups {
    members: Arc<Mutex<BTreeSet<(String, String)>>>,
}

impl Groups {
    /// Makes the caller the group's member, or refuses while another subscription is.
    pub(super) fn claim(&self, topic: &str, group: &str) -> Result<Claim, QueueError> {
        let key = (topic.to_owned(), group.to_owned());
        if !self.members().insert(key.clone()) {
            return Err(QueueError::GroupTaken {
                topic: key.0,
                group: key.1,
            });
        }
        Ok(Claim {
            groups: self.clone(),
            key,
        })
    }

    fn members(&self) -> std::sync::MutexGuard<'_, BTreeSet<(String, String)>> {
        self.members
            .lock()
            .expect("the group lock is never poisoned: nothing panics holding it")
    }
}

/// Membership of one group; dropping it frees the group.
pub(super) struct Claim {
    groups: Groups,
    key: (String, String),
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.groups.members().remove(&self.key);
    }
}

/// A member holding `partitions` (every partition of its topic). When it is dropped, with
/// its subscription, `assignments` is told they are revoked, then the group is freed.
pub(super) struct Member {
    pub(super) assignments: Arc<dyn Assignments>,
    pub(super) topic: String,
    pub(super) partitions: Vec<u32>,
    pub(super) claim: Claim,
}

impl Drop for Member {
    fn drop(&mut self) {
        self.assignments.revoked(&self.topic, &self.partitions);
        tracing::debug!(topic = %self.topic, group = %self.claim.key.1, "left the group");
    }
}
