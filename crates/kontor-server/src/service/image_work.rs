//! Admission for image processing: how much memory decoding may take at
//! once, across the whole server and for each person.
//!
//! Decoding an image needs its pixels in memory; a 100-megapixel RGBA
//! image is 400 MB however small its file. So every upload's plan
//! ([`crate::media::ImagePlan`]) reserves its memory from one budget
//! before anything is read in, and waits (first come, first served) until
//! the budget has room. One person's images are processed one at a time,
//! so a burst from one account queues behind itself instead of taking the
//! whole budget from everyone else. The queues are bounded: beyond them
//! an upload is refused at once instead of holding a request open.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use kontor_core::ids::UserId;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Images one person may have waiting or in progress at once. A phone
/// sharing a burst of photos stays well within it.
pub const IMAGES_QUEUED_PER_USER: usize = 16;
/// Images waiting or in progress on the whole server. Waiting costs a
/// staged file on disk and an open request, no memory for pixels.
pub const IMAGES_QUEUED_IN_ALL: usize = 256;

const MIB: u64 = 1024 * 1024;

/// Why an image was not admitted.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The person already has [`IMAGES_QUEUED_PER_USER`] images queued.
    PersonBusy,
    /// The server already has [`IMAGES_QUEUED_IN_ALL`] images queued.
    ServerBusy,
}

/// The budget and the queues (one per server, in `AppState`).
pub struct ImageWork {
    memory: Arc<Semaphore>,
    budget_mib: u32,
    queued: AtomicUsize,
    people: Mutex<HashMap<UserId, Arc<Person>>>,
}

struct Person {
    /// One image at a time.
    turn: Arc<Semaphore>,
    queued: AtomicUsize,
}

/// Room reserved for one image; released when dropped. Fields drop in
/// order: the memory and the turn go back before the queue slot.
pub struct ImagePermit<'a> {
    _memory: OwnedSemaphorePermit,
    _turn: OwnedSemaphorePermit,
    _queue: QueueSlot<'a>,
}

/// A place in the queues, given back when dropped (also when the request
/// is abandoned while it waits).
struct QueueSlot<'a> {
    work: &'a ImageWork,
    user: UserId,
    person: Arc<Person>,
}

impl Drop for QueueSlot<'_> {
    fn drop(&mut self) {
        self.work.queued.fetch_sub(1, Ordering::AcqRel);
        // Slots are taken under the same lock, so nobody can join this
        // person's queue between the decrement and the removal.
        let mut people = self.work.people();
        if self.person.queued.fetch_sub(1, Ordering::AcqRel) == 1 {
            people.remove(&self.user);
        }
    }
}

impl ImageWork {
    /// A budget of `budget_mib` MiB for decoding at once.
    pub fn new(budget_mib: u32) -> Self {
        let budget_mib = budget_mib.max(1);
        ImageWork {
            memory: Arc::new(Semaphore::new(budget_mib as usize)),
            budget_mib,
            queued: AtomicUsize::new(0),
            people: Mutex::new(HashMap::new()),
        }
    }

    /// The most memory one image may need, in bytes: the whole budget.
    pub fn max_image_bytes(&self) -> u64 {
        u64::from(self.budget_mib) * MIB
    }

    fn people(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, Arc<Person>>> {
        self.people.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Take a place in the queues for `user`, then wait for their turn and
    /// for `memory_bytes` of the budget.
    pub async fn admit(&self, user: UserId, memory_bytes: u64) -> Result<ImagePermit<'_>, Refused> {
        let queue = {
            let mut people = self.people();
            if self.queued.load(Ordering::Acquire) >= IMAGES_QUEUED_IN_ALL {
                return Err(Refused::ServerBusy);
            }
            let person = Arc::clone(people.entry(user).or_insert_with(|| {
                Arc::new(Person {
                    turn: Arc::new(Semaphore::new(1)),
                    queued: AtomicUsize::new(0),
                })
            }));
            if person.queued.load(Ordering::Acquire) >= IMAGES_QUEUED_PER_USER {
                return Err(Refused::PersonBusy);
            }
            person.queued.fetch_add(1, Ordering::AcqRel);
            self.queued.fetch_add(1, Ordering::AcqRel);
            QueueSlot {
                work: self,
                user,
                person,
            }
        };
        // Neither semaphore is ever closed, so acquiring cannot fail.
        let turn = Arc::clone(&queue.person.turn)
            .acquire_owned()
            .await
            .map_err(|_| Refused::ServerBusy)?;
        let mib = memory_bytes
            .div_ceil(MIB)
            .clamp(1, u64::from(self.budget_mib));
        let memory = Arc::clone(&self.memory)
            .acquire_many_owned(u32::try_from(mib).unwrap_or(self.budget_mib))
            .await
            .map_err(|_| Refused::ServerBusy)?;
        Ok(ImagePermit {
            _memory: memory,
            _turn: turn,
            _queue: queue,
        })
    }

    /// MiB of the budget free right now.
    pub fn free_mib(&self) -> usize {
        self.memory.available_permits()
    }

    /// People with images queued (bounded by the queues' sizes).
    #[cfg(test)]
    fn people_queued(&self) -> usize {
        self.people().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const SOON: Duration = Duration::from_millis(50);

    #[tokio::test]
    async fn memory_beyond_the_budget_waits_for_room() {
        let work = ImageWork::new(500);
        let first = work.admit(UserId(1), 400 * MIB).await.expect("admitted");
        assert_eq!(work.free_mib(), 100);
        // Another person's 400 MB image must wait until the first is done.
        let second = work.admit(UserId(2), 400 * MIB);
        tokio::pin!(second);
        assert!(tokio::time::timeout(SOON, &mut second).await.is_err());
        drop(first);
        let second = second.await.expect("admitted after the first");
        assert_eq!(work.free_mib(), 100);
        drop(second);
        assert_eq!(work.free_mib(), 500);
        assert_eq!(work.people_queued(), 0);
    }

    #[tokio::test]
    async fn one_persons_images_run_one_at_a_time() {
        let work = ImageWork::new(1000);
        let first = work.admit(UserId(1), MIB).await.expect("admitted");
        let same_person = work.admit(UserId(1), MIB);
        tokio::pin!(same_person);
        assert!(tokio::time::timeout(SOON, &mut same_person).await.is_err());
        // Someone else is not held up by it.
        let other = tokio::time::timeout(SOON, work.admit(UserId(2), MIB))
            .await
            .expect("another person is not queued behind")
            .expect("admitted");
        drop(first);
        let _second = same_person.await.expect("admitted");
        drop(other);
    }

    #[tokio::test]
    async fn an_image_larger_than_the_budget_takes_all_of_it() {
        let work = ImageWork::new(100);
        let big = work.admit(UserId(1), 10_000 * MIB).await.expect("admitted");
        assert_eq!(work.free_mib(), 0);
        drop(big);
        assert_eq!(work.free_mib(), 100);
    }

    #[tokio::test]
    async fn queues_are_bounded_and_abandoned_waits_give_their_place_back() {
        let work = ImageWork::new(10);
        let running = work.admit(UserId(1), MIB).await.expect("admitted");
        let mut waiting = Vec::new();
        for _ in 1..IMAGES_QUEUED_PER_USER {
            let mut w = Box::pin(work.admit(UserId(1), MIB));
            assert!(tokio::time::timeout(Duration::ZERO, &mut w).await.is_err());
            waiting.push(w);
        }
        assert_eq!(
            work.admit(UserId(1), MIB).await.err(),
            Some(Refused::PersonBusy)
        );
        // A client that gives up while waiting frees its place.
        waiting.pop();
        let mut again = Box::pin(work.admit(UserId(1), MIB));
        assert!(
            tokio::time::timeout(Duration::ZERO, &mut again)
                .await
                .is_err()
        );
        drop(again);
        drop(waiting);
        drop(running);
        assert_eq!(work.people_queued(), 0);
        assert_eq!(work.queued.load(Ordering::Acquire), 0);
    }
}
