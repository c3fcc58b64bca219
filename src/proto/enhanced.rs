//! TEMP stub (replaced by the real module).
use std::fmt;
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EnhancedCode { pub class: u8, pub subject: u16, pub detail: u16 }
impl EnhancedCode {
    pub fn parse_prefix(text: &str) -> Option<(Self, usize)> {
        let end = text.find([' ', '\t']).unwrap_or(text.len());
        let mut it = text[..end].split('.');
        let c = it.next()?.parse().ok()?; let s = it.next()?.parse().ok()?; let d = it.next()?.parse().ok()?;
        if it.next().is_some() || ![2,4,5].contains(&c) { return None; }
        Some((Self { class: c, subject: s, detail: d }, end))
    }
}
pub fn class_mismatch(reply_class: u8, e: EnhancedCode) -> bool { reply_class != e.class && !(reply_class==3 && e.class==2) }
impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { write!(f, "{}.{}.{}", self.class, self.subject, self.detail) }
}
