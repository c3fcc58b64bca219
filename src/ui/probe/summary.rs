//! The end of a `--probe` run: counts by certificate verdict and by error
//! class, p50/p90 per stage, and the slowest addresses.

use std::collections::BTreeMap;
use std::time::Duration;

use super::Outcome;
use crate::session::probe::{ErrorClass, Stage};

/// How many of the slowest addresses the summary names.
const SLOWEST: usize = 5;

/// What the summary counts, as results come in.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    pub(crate) addresses: u64,
    pub(crate) passed: u64,
    verdicts: BTreeMap<Verdict, u64>,
    errors: BTreeMap<ErrorClass, u64>,
    stages: BTreeMap<Stage, Vec<Duration>>,
    slowest: Vec<(Duration, String)>,
}

/// The certificate verdict of one address, for counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Verdict {
    Trusted,
    Untrusted,
    NotVerified,
    NoTls,
}

impl Verdict {
    pub(crate) fn of(outcome: &Outcome) -> Verdict {
        match &outcome.probe.tls {
            None => Verdict::NoTls,
            Some(report) => match report.verdict {
                crate::net::tls::Verdict::Trusted => Verdict::Trusted,
                crate::net::tls::Verdict::Untrusted(_) => Verdict::Untrusted,
                crate::net::tls::Verdict::NotVerified(_) => Verdict::NotVerified,
            },
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Verdict::Trusted => "trusted",
            Verdict::Untrusted => "untrusted",
            Verdict::NotVerified => "not_verified",
            Verdict::NoTls => "no_tls",
        }
    }

    fn words(self) -> &'static str {
        match self {
            Verdict::Trusted => "trusted",
            Verdict::Untrusted => "untrusted",
            Verdict::NotVerified => "not verified",
            Verdict::NoTls => "no TLS",
        }
    }
}

impl Summary {
    /// Counts one result; `line` is how the slowest list names it.
    pub(crate) fn add(&mut self, outcome: &Outcome, line: &str) {
        self.addresses += 1;
        if outcome.passed() {
            self.passed += 1;
        }
        *self.verdicts.entry(Verdict::of(outcome)).or_default() += 1;
        if let Some(error) = &outcome.probe.error {
            *self.errors.entry(error.class).or_default() += 1;
        }
        for (stage, took) in &outcome.probe.stages {
            self.stages.entry(*stage).or_default().push(*took);
        }
        let total = outcome.probe.total + outcome.dns;
        if self.slowest.len() < SLOWEST || self.slowest.last().is_some_and(|(t, _)| total > *t) {
            self.slowest.push((total, line.to_string()));
            self.slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
            self.slowest.truncate(SLOWEST);
        }
    }

    /// The summary's lines.
    pub(crate) fn lines(
        &self,
        targets: u64,
        elapsed: Duration,
        interrupted: Option<usize>,
    ) -> Vec<String> {
        let secs = elapsed.as_secs_f64();
        let rate = if secs > 0.0 {
            targets as f64 / secs
        } else {
            0.0
        };
        let mut lines = vec![format!(
            "probed {targets} target(s), {} address(es), in {secs:.1} s ({rate:.1} targets/s)",
            self.addresses
        )];
        if let Some(not_done) = interrupted {
            lines.push(format!(
                "stopped by Ctrl-C: {not_done} target(s) not probed or not finished (--resume with the --json output skips what is done)"
            ));
        }
        if self.addresses == 0 {
            return lines;
        }
        lines.push(format!(
            "passed: {} of {} address(es) (TLS with a trusted certificate)",
            self.passed, self.addresses
        ));
        let verdicts: Vec<String> = [
            Verdict::Trusted,
            Verdict::Untrusted,
            Verdict::NotVerified,
            Verdict::NoTls,
        ]
        .iter()
        .map(|v| {
            format!(
                "{} {}",
                v.words(),
                self.verdicts.get(v).copied().unwrap_or(0)
            )
        })
        .collect();
        lines.push(format!("certificates: {}", verdicts.join(" · ")));
        if self.errors.is_empty() {
            lines.push("errors: none".into());
        } else {
            let errors: Vec<String> = self
                .errors
                .iter()
                .map(|(class, n)| format!("{} {n}", class.name()))
                .collect();
            lines.push(format!("errors: {}", errors.join(" · ")));
        }
        lines.push(format!("{:<10} {:>10} {:>10}", "stage", "p50", "p90"));
        for (stage, times) in &self.stages {
            let mut sorted = times.clone();
            sorted.sort();
            lines.push(format!(
                "{:<10} {:>10} {:>10}",
                stage.name(),
                ms(percentile(&sorted, 50)),
                ms(percentile(&sorted, 90)),
            ));
        }
        lines.push("slowest:".into());
        for (took, line) in &self.slowest {
            lines.push(format!("  {:>10}  {line}", ms(*took)));
        }
        lines
    }
}

/// The `p`-th percentile of sorted values (nearest rank).
pub(crate) fn percentile(sorted: &[Duration], p: u32) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (u64::from(p) * sorted.len() as u64).div_ceil(100).max(1);
    let at = usize::try_from(rank - 1)
        .unwrap_or(usize::MAX)
        .min(sorted.len() - 1);
    sorted[at]
}

/// Milliseconds with one decimal.
pub(crate) fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn durations(ms: &[u64]) -> Vec<Duration> {
        ms.iter().map(|m| Duration::from_millis(*m)).collect()
    }

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let sorted = durations(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(percentile(&sorted, 50), Duration::from_millis(5));
        assert_eq!(percentile(&sorted, 90), Duration::from_millis(9));
        assert_eq!(percentile(&durations(&[7]), 90), Duration::from_millis(7));
        assert_eq!(percentile(&[], 50), Duration::ZERO);
        assert_eq!(
            percentile(&durations(&[1, 100]), 50),
            Duration::from_millis(1)
        );
    }
}
