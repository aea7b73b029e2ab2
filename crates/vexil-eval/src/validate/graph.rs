//! Chains of references between items (prerequisites, nested segments): cycles and nesting depth
//! as evaluation's key chain (`chain.rs`) would meet them, found before the data is stored.

use std::collections::HashMap;

use crate::chain::MAX_DEPTH;

/// Why a chain of references would make evaluation fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ChainProblem<'a> {
    /// The keys of a cycle, its first key repeated at the end.
    Cycle(Vec<&'a str>),
    /// A chain holding more than `MAX_DEPTH` levels, from the starting item down.
    TooDeep(Vec<&'a str>),
}

/// A depth-first walk over items of type `N` that remembers the height of every item it has
/// fully explored, so shared sub-chains are walked once.
pub(super) struct Graph<'a, 'l, N> {
    /// The live item with a key, if any; references to missing items end a chain.
    resolve: &'l dyn Fn(&str) -> Option<&'a N>,
    /// The keys an item references.
    references: fn(&'a N) -> Vec<&'a str>,
    /// Whether an item takes a place in evaluation's key chain (a flag only does when it has
    /// prerequisites; a segment always does).
    is_level: fn(&N) -> bool,
    /// For each explored item: the levels at and below it, and the reference on its deepest path.
    heights: HashMap<&'a str, (usize, Option<&'a str>)>,
}

impl<'a, 'l, N> Graph<'a, 'l, N> {
    pub(super) fn new(
        resolve: &'l dyn Fn(&str) -> Option<&'a N>,
        references: fn(&'a N) -> Vec<&'a str>,
        is_level: fn(&N) -> bool,
    ) -> Self {
        Self {
            resolve,
            references,
            is_level,
            heights: HashMap::new(),
        }
    }

    /// The live item with this key, if any.
    pub(super) fn item(&self, key: &str) -> Option<&'a N> {
        (self.resolve)(key)
    }

    /// Walks everything below the item `key` (which is `item`), reached through `above`: the
    /// keys from the start of the chain down to its parent, holding `levels_above` levels.
    /// Returns the levels at and below `item`.
    pub(super) fn walk(
        &mut self,
        above: &mut Vec<&'a str>,
        levels_above: usize,
        key: &'a str,
        item: &'a N,
    ) -> Result<usize, ChainProblem<'a>> {
        if let Some(start) = above.iter().position(|&ancestor| ancestor == key) {
            let mut cycle = above[start..].to_vec();
            cycle.push(key);
            return Err(ChainProblem::Cycle(cycle));
        }
        if let Some(&(height, _)) = self.heights.get(key) {
            if levels_above + height > MAX_DEPTH {
                let mut chain = above.clone();
                chain.extend(self.deepest_path(key));
                return Err(ChainProblem::TooDeep(chain));
            }
            return Ok(height);
        }
        let own_level = usize::from((self.is_level)(item));
        let levels = levels_above + own_level;
        if levels > MAX_DEPTH {
            let mut chain = above.clone();
            chain.push(key);
            return Err(ChainProblem::TooDeep(chain));
        }
        above.push(key);
        let below = self.walk_references(above, levels, item);
        above.pop();
        let (height_below, deepest) = below?;
        let height = own_level + height_below;
        self.heights.insert(key, (height, deepest));
        Ok(height)
    }

    /// The greatest height among the items `item` references, and which one it is.
    fn walk_references(
        &mut self,
        above: &mut Vec<&'a str>,
        levels: usize,
        item: &'a N,
    ) -> Result<(usize, Option<&'a str>), ChainProblem<'a>> {
        let mut deepest = (0, None);
        for key in (self.references)(item) {
            let Some(referenced) = self.item(key) else {
                continue;
            };
            let height = self.walk(above, levels, key, referenced)?;
            if deepest.1.is_none() || height > deepest.0 {
                deepest = (height, Some(key));
            }
        }
        Ok(deepest)
    }

    /// `key` and the keys below it on its deepest explored path.
    fn deepest_path(&self, key: &'a str) -> Vec<&'a str> {
        let mut path = vec![key];
        let mut current = key;
        while let Some(&(_, Some(next))) = self.heights.get(current) {
            path.push(next);
            current = next;
        }
        path
    }
}

/// A chain of keys as `a -> b -> c`, its middle left out when long.
pub(super) fn show_chain(keys: &[&str]) -> String {
    const SHOWN_AT_EACH_END: usize = 3;
    if keys.len() <= 2 * SHOWN_AT_EACH_END + 1 {
        return keys.join(" -> ");
    }
    format!(
        "{} -> ... -> {}",
        keys[..SHOWN_AT_EACH_END].join(" -> "),
        keys[keys.len() - SHOWN_AT_EACH_END..].join(" -> ")
    )
}
