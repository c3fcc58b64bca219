//! TEMP stub (replaced by the real module).
use std::fmt;
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplyCode(u16);
impl ReplyCode {
    pub fn new(v: u16) -> Option<Self> { (v <= 999).then_some(Self(v)) }
    pub fn from_digits(b: &[u8]) -> Option<Self> {
        if b.len() == 3 && b.iter().all(u8::is_ascii_digit) {
            Some(Self(b.iter().fold(0u16, |a, d| a * 10 + u16::from(d - b'0'))))
        } else { None }
    }
    pub fn value(self) -> u16 { self.0 }
}
impl fmt::Display for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { write!(f, "{:03}", self.0) }
}
