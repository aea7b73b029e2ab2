//! The stack of flags or segments being evaluated above the current one, for cycle detection
//! and the nesting limit. It lives on the call stack, so pushing allocates nothing.

/// How many flags whose prerequisites are being evaluated, or segments being evaluated, may be
/// stacked (so a prerequisite chain may have `MAX_DEPTH + 1` flags, the last one without
/// prerequisites, and segments may nest `MAX_DEPTH` deep).
///
/// Vexil choice: LaunchDarkly sets no limit, but unbounded recursion would let one malformed
/// payload overflow the stack of the process evaluating it. 64 levels is far beyond any real
/// configuration; deeper nesting is `MALFORMED_FLAG`, like a cycle.
pub(crate) const MAX_DEPTH: usize = 64;

/// One link of the chain: a key and everything above it.
pub(crate) struct KeyChain<'c> {
    key: &'c str,
    parent: Option<&'c KeyChain<'c>>,
    depth: usize,
}

/// A key is already in the chain (a cycle), or the chain is deeper than [`MAX_DEPTH`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChainError;

impl<'c> KeyChain<'c> {
    /// The chain `parent` extended by `key`, unless `key` is already in it or it is too deep.
    pub(crate) fn push(parent: Option<&'c KeyChain<'c>>, key: &'c str) -> Result<Self, ChainError> {
        let depth = parent.map_or(1, |parent| parent.depth + 1);
        if depth > MAX_DEPTH || Self::contains(parent, key) {
            return Err(ChainError);
        }
        Ok(Self { key, parent, depth })
    }

    /// Whether `key` is in the chain.
    pub(crate) fn contains(chain: Option<&KeyChain<'_>>, key: &str) -> bool {
        let mut link = chain;
        while let Some(current) = link {
            if current.key == key {
                return true;
            }
            link = current.parent;
        }
        false
    }
}
