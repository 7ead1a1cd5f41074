//! How fast one person may create groups and channels and put other
//! people into them.
//!
//! Being added to a conversation needs no consent (as in Slack or
//! Mattermost: a colleague adds you, you may leave). Without a pace, one
//! account could push a colleague to the per-person conversation limit in
//! seconds and lock them out of being added anywhere. The pace is
//! generous for real work (a burst of 20 new conversations, a channel of
//! 1,000 people at once) and slow for abuse (filling someone's list would
//! take days). Organisation admins, who roll Kontor out to whole
//! departments, are not paced. The person added has a way out at once:
//! leaving every group and channel one colleague made, in one step
//! ([`super::conversations::leave_all_created_by`]).
//!
//! Direct conversations are not paced: a pair has only one.

use std::num::NonZeroU32;
use std::time::Instant;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use kontor_core::ids::UserId;
use kontor_core::limits::MAX_MEMBERS_PER_REQUEST;
use kontor_core::model::Actor;
use kontor_core::policy::{OrgAction, Scope, authorize_org};

use crate::error::{ApiError, ApiResult};

/// Groups and channels one person may create at once.
pub const CONVERSATIONS_BURST: u32 = 20;
/// Groups and channels one person may create per hour after the burst.
pub const CONVERSATIONS_PER_HOUR: u32 = 120;
/// People one person may add to conversations at once (one full request).
pub const PEOPLE_ADDED_BURST: u32 = MAX_MEMBERS_PER_REQUEST as u32;
/// People one person may add to conversations per hour after the burst.
pub const PEOPLE_ADDED_PER_HOUR: u32 = 1_000;

/// The two paces, per person, one per server (in `AppState`); the clock
/// is the monotonic `std::time::Instant`. Memory is one small entry per
/// person who created or added, bounded by the organisation's size.
pub struct Pacing {
    created: DefaultKeyedRateLimiter<UserId>,
    added: DefaultKeyedRateLimiter<UserId>,
}

fn quota(per_hour: u32, burst: u32) -> Quota {
    let per_hour = NonZeroU32::new(per_hour).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::per_hour(per_hour).allow_burst(burst)
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            created: RateLimiter::keyed(quota(CONVERSATIONS_PER_HOUR, CONVERSATIONS_BURST)),
            added: RateLimiter::keyed(quota(PEOPLE_ADDED_PER_HOUR, PEOPLE_ADDED_BURST)),
        }
    }
}

/// Whether the policy lets `actor` create and fill conversations unpaced.
fn paced_freely(actor: &Actor) -> bool {
    authorize_org(
        actor,
        Scope::Organisation(actor.org_id),
        OrgAction::CreateConversationsFreely,
    )
    .is_ok()
}

impl Pacing {
    /// Admit a new group or channel by `actor` with `others` other people
    /// in it, or answer `rate_limited` with the seconds to wait.
    pub fn admit_conversation(&self, actor: Actor, others: usize) -> ApiResult<()> {
        if paced_freely(&actor) {
            return Ok(());
        }
        if let Err(not_until) = self.created.check_key(&actor.user_id) {
            return Err(ApiError::RateLimited(wait_secs(
                not_until.wait_time_from(Instant::now()),
            )));
        }
        self.admit_additions(actor, others)
    }

    /// Admit `actor` putting `people` other people into conversations.
    pub fn admit_additions(&self, actor: Actor, people: usize) -> ApiResult<()> {
        if paced_freely(&actor) {
            return Ok(());
        }
        let Some(n) = u32::try_from(people).ok().and_then(NonZeroU32::new) else {
            return Ok(());
        };
        match self.added.check_key_n(&actor.user_id, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(ApiError::RateLimited(wait_secs(
                not_until.wait_time_from(Instant::now()),
            ))),
            // More than one request may add: storage refuses it with
            // its own message (`rules::check_members_per_request`).
            Err(_) => Ok(()),
        }
    }
}

fn wait_secs(d: std::time::Duration) -> u64 {
    d.as_secs().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kontor_core::ids::OrgId;
    use kontor_core::model::OrgRole;

    fn person(id: i64, org_role: OrgRole) -> Actor {
        Actor {
            user_id: UserId(id),
            org_id: OrgId(1),
            org_role,
        }
    }

    #[test]
    fn creating_is_paced_per_person_and_admins_are_not() {
        let p = Pacing::default();
        let anna = person(1, OrgRole::Member);
        for _ in 0..CONVERSATIONS_BURST {
            p.admit_conversation(anna, 1).expect("within the burst");
        }
        let refused = p.admit_conversation(anna, 1).expect_err("paced");
        assert!(
            matches!(refused, ApiError::RateLimited(s) if (1..=30).contains(&s)),
            "{refused:?}"
        );
        p.admit_conversation(person(2, OrgRole::Member), 1)
            .expect("another person is not held up");
        let admin = person(3, OrgRole::Admin);
        for _ in 0..(CONVERSATIONS_BURST * 3) {
            p.admit_conversation(admin, 500)
                .expect("admins are not paced");
        }
    }

    #[test]
    fn adding_people_is_paced_by_head_count() {
        let p = Pacing::default();
        let anna = person(1, OrgRole::Member);
        p.admit_additions(anna, 1_000).expect("one full request");
        assert!(matches!(
            p.admit_additions(anna, 10),
            Err(ApiError::RateLimited(_))
        ));
        p.admit_additions(anna, 0)
            .expect("nobody added costs nothing");
    }
}
