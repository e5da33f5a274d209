//! `--shard I/N`: a deterministic slice of the grid.
//!
//! Cell `c` belongs to shard `c mod N`. Round-robin (rather than contiguous
//! blocks) spreads the expensive corners of a grid (large n, large k, many
//! iterations, which the nesting order groups together) evenly over the shards.

use crate::error::{Error, Result};

/// A shard `index` of `count` (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Parses `I/N` with `0 <= I < N`.
    pub fn parse(text: &str) -> Result<Shard> {
        let bad =
            |problem: String| Error::input("--shard", problem, "write it as I/N with 0 <= I < N, e.g. --shard 0/4");
        let (i, n) = text.split_once('/').ok_or_else(|| bad(format!("\"{text}\" is not of the form I/N")))?;
        let index: usize = i.trim().parse().map_err(|_| bad(format!("\"{i}\" is not a shard index")))?;
        let count: usize = n.trim().parse().map_err(|_| bad(format!("\"{n}\" is not a shard count")))?;
        if count == 0 || index >= count {
            return Err(bad(format!("{index}/{count} names no shard")));
        }
        Ok(Shard { index, count })
    }

    /// Whether cell `cell_index` belongs to this shard.
    pub fn owns(&self, cell_index: usize) -> bool {
        cell_index % self.count == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_partitions() {
        let shards: Vec<Shard> = (0..3).map(|i| Shard::parse(&format!("{i}/3")).unwrap()).collect();
        for c in 0..20 {
            assert_eq!(shards.iter().filter(|s| s.owns(c)).count(), 1);
        }
        for bad in ["3/3", "1", "a/2", "0/0", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }
}
