//! What every synthesis passes before it gets audio: the per-token
//! concurrency quota, the seeded fault dice and the configured latency, in
//! one place ([`Sim::admit`]) for both providers and both transports, so
//! quota and faults behave the same everywhere.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::Sim;
use super::config::{FaultProvider, FaultRule, SimConfig};
use super::log::{Pending, Provider};

/// What the dice decided for one synthesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    /// Answer this provider error code instead of audio.
    Code(u32),
    /// Close the connection abruptly mid-response.
    Drop,
    /// Send part of the answer, then stop.
    Truncate,
}

/// In-flight syntheses, per token and in total.
#[derive(Debug, Default)]
pub(crate) struct Slots {
    quota: Option<usize>,
    state: Mutex<SlotState>,
}

#[derive(Debug, Default)]
struct SlotState {
    per_token: HashMap<String, usize>,
    total: usize,
    /// Syntheses admitted since the start: each is recorded in the log when
    /// answered, so more admitted than recorded means a client went away
    /// mid-answer (its connection dropped the request).
    admitted: usize,
}

impl Slots {
    pub fn new(quota: Option<usize>) -> Self {
        Slots {
            quota,
            state: Mutex::default(),
        }
    }

    /// Takes a slot for `token`, or `None` when its quota is used up.
    pub fn try_acquire(self: &Arc<Self>, token: &str) -> Option<SlotGuard> {
        let mut state = self.lock();
        let used = state.per_token.get(token).copied().unwrap_or(0);
        if self.quota.is_some_and(|quota| used >= quota) {
            return None;
        }
        state.per_token.insert(token.to_owned(), used + 1);
        state.total += 1;
        state.admitted += 1;
        Some(SlotGuard {
            slots: Arc::clone(self),
            token: token.to_owned(),
            in_flight_at_start: state.total,
        })
    }

    pub fn total(&self) -> usize {
        self.lock().total
    }

    pub fn admitted(&self) -> usize {
        self.lock().admitted
    }

    fn release(&self, token: &str) {
        let mut state = self.lock();
        state.total = state.total.saturating_sub(1);
        if let Some(used) = state.per_token.get_mut(token) {
            *used = used.saturating_sub(1);
            if *used == 0 {
                state.per_token.remove(token);
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One slot; released on drop, so a dropped connection frees it too.
#[derive(Debug)]
pub(crate) struct SlotGuard {
    slots: Arc<Slots>,
    token: String,
    pub in_flight_at_start: usize,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        self.slots.release(&self.token);
    }
}

/// The seeded RNG behind injected faults. One uniform draw per synthesis,
/// walked over the cumulative rates, so a seed fixes the whole sequence.
#[derive(Debug)]
pub(crate) struct FaultDice {
    rng: Mutex<fastrand::Rng>,
    rules: Vec<FaultRule>,
    drop_rate: f64,
    truncate_rate: f64,
}

impl FaultDice {
    pub fn new(config: &SimConfig) -> Self {
        FaultDice {
            rng: Mutex::new(fastrand::Rng::with_seed(config.seed)),
            rules: config.faults.clone(),
            drop_rate: config.drop_rate,
            truncate_rate: config.truncate_rate,
        }
    }

    pub fn roll(&self, provider: Provider) -> Fault {
        let target = match provider {
            Provider::Volcengine => FaultProvider::Volcengine,
            Provider::Coze => FaultProvider::Coze,
        };
        let draw = self
            .rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .f64();
        let mut edge = 0.0;
        for rule in self.rules.iter().filter(|r| r.provider.covers(target)) {
            edge += rule.rate;
            if draw < edge {
                return Fault::Code(rule.code);
            }
        }
        edge += self.drop_rate;
        if draw < edge {
            return Fault::Drop;
        }
        edge += self.truncate_rate;
        if draw < edge {
            return Fault::Truncate;
        }
        Fault::None
    }
}

/// A synthesis let through: its quota slot (held until the answer is sent),
/// what the dice decided for it, and when its latency is over.
#[derive(Debug)]
pub(crate) struct Admitted {
    pub slot: SlotGuard,
    pub fault: Fault,
    due: tokio::time::Instant,
}

impl Admitted {
    /// Waits out what is left of the configured latency, counted from
    /// admission. A service's latency includes making the audio, so the
    /// simulator renders and encodes inside it and answers once it is over:
    /// the client sees the latency configured, not that plus our rendering.
    pub async fn latency_over(&self) {
        tokio::time::sleep_until(self.due).await;
    }
}

impl Sim {
    /// Admits one synthesis of `text` for `token`: takes a quota slot and
    /// rolls the fault dice; the caller answers after
    /// [`Admitted::latency_over`]. `None` when the token's quota is used
    /// up; the caller answers its provider's quota error at once. Either
    /// way `pending` learns how many were in flight.
    pub(crate) fn admit(
        &self,
        provider: Provider,
        token: &str,
        text: &str,
        pending: &mut Pending,
    ) -> Option<Admitted> {
        let Some(slot) = self.slots.try_acquire(token) else {
            pending.in_flight = self.slots.total();
            return None;
        };
        pending.in_flight = slot.in_flight_at_start;
        let fault = self.dice.roll(provider);
        let due = tokio::time::Instant::now() + latency(&self.config, text);
        Some(Admitted { slot, fault, due })
    }
}

/// The wait before answering: `latency_ms + latency_per_char_ms × chars`.
fn latency(config: &SimConfig, text: &str) -> Duration {
    let chars = text.chars().count() as f64;
    let per_char = config.latency_per_char_ms * chars / 1000.0;
    let per_char = Duration::try_from_secs_f64(per_char).unwrap_or(Duration::MAX);
    Duration::from_millis(config.latency_ms).saturating_add(per_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_slots_respect_the_quota_and_free_on_drop() {
        let slots = Arc::new(Slots::new(Some(2)));
        let a = slots.try_acquire("t");
        let b = slots.try_acquire("t");
        assert!(a.is_some() && b.is_some());
        assert!(slots.try_acquire("t").is_none());
        assert!(slots.try_acquire("other").is_some());
        drop(a);
        assert!(slots.try_acquire("t").is_some());
        drop(b);
        assert_eq!(slots.total(), 0);
    }

    #[test]
    fn sim_dice_are_reproducible_per_seed() {
        let config = SimConfig {
            faults: vec![FaultRule {
                provider: FaultProvider::Any,
                code: 3005,
                rate: 0.5,
            }],
            seed: 7,
            ..SimConfig::default()
        };
        let run = || {
            let dice = FaultDice::new(&config);
            (0..50)
                .map(|_| dice.roll(Provider::Volcengine))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
        assert!(run().contains(&Fault::Code(3005)));
        assert!(run().contains(&Fault::None));
    }
}
