//! Neither Unix nor Windows: echo is left as it is and no line typed ahead
//! is reported (the line editor reads it at the next prompt).

use super::TypedAhead;

/// Nothing to put back.
pub(super) type Settings = ();

/// Leaves echo alone.
pub(super) fn set_echo(_on: bool) -> Option<Settings> {
    None
}

/// Nothing to do.
pub(super) fn restore(_original: &Settings) {}

/// None: the platform is not asked.
pub(super) fn typed_ahead() -> Option<TypedAhead> {
    None
}
