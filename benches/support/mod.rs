//! Settings shared by the criterion benches: short runs with modest sample
//! sizes, so `cargo bench` finishes in a minute or two on a two-core machine
//! where other work is going on. The numbers are throughputs of pure code
//! (no I/O); see BENCHMARKS.md for how to read them.

use std::time::Duration;

use criterion::Criterion;

/// A criterion configured for quick, still stable, runs.
pub(crate) fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args()
}
