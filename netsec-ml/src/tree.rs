//! The flat tree layout both models score with and save.
//!
//! Every tree of a forest lives in one `Vec<Node>`: a node is 16 bytes (split value, feature,
//! child index), the two children of a split sit next to each other (`child`, `child + 1`), and
//! a child always comes after its parent, so a loaded file whose children all point forward and
//! in range cannot make a walk loop or leave the array.
//!
//! Scoring is branch-free: a leaf tests the sentinel column [`SENTINEL`] (always −∞ in the
//! padded row) against its payload (≥ 0), which sends the walk to `child`, and a leaf's `child`
//! is itself. Every step is then `i = child + !(x[feature] < value)`, for splits and leaves
//! alike, and [`FlatForest::for_each_leaf`] advances [`LANES`] trees in lockstep until none
//! moves: independent walks whose memory loads overlap, with no mispredicted branches.
//!
//! On disk (see [`crate::model`]) each tree is a [`TreeRepr`]: parallel arrays indexed by node,
//! with indices local to the tree.

use serde::{Deserialize, Serialize};

use crate::inputs::{InputRow, INPUT_COUNT};

/// `feature` of a leaf in memory: the padded row's always −∞ column.
pub(crate) const SENTINEL: u32 = INPUT_COUNT as u32;

/// Trees walked in lockstep by [`FlatForest::for_each_leaf`].
pub(crate) const LANES: usize = 16;

/// Most nodes one tree may hold (2^24): far above what training produces, low enough that a
/// hostile file cannot make indices overflow.
pub(crate) const MAX_TREE_NODES: usize = 1 << 24;

/// A row padded to 32 columns, the extra ones −∞ (so `feature & 31` never needs a bounds
/// check and [`SENTINEL`] reads −∞).
type Padded = [f64; 32];

fn pad(row: &InputRow) -> Padded {
    let mut x = [f64::NEG_INFINITY; 32];
    x[..INPUT_COUNT].copy_from_slice(row);
    x
}

/// One node of a flat tree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Node {
    /// Split: go left when `row[feature] < value` (NaN goes right). Leaf: the model's payload,
    /// finite and ≥ 0 (random forest: the class; isolation forest: the path length).
    pub value: f64,
    /// Column tested by a split, or [`SENTINEL`] at a leaf.
    pub feature: u32,
    /// Split: index of the left child (the right child is `child + 1`). Leaf: its own index.
    pub child: u32,
}

impl Node {
    /// A leaf with `payload` (its `child` is set when the tree is placed).
    pub(crate) fn leaf(payload: f64) -> Node {
        Node {
            value: payload,
            feature: SENTINEL,
            child: 0,
        }
    }

    /// Whether this node is a leaf.
    #[inline]
    pub(crate) fn is_leaf(&self) -> bool {
        self.feature == SENTINEL
    }

    /// The next node of a walk: `child` when `x[feature] < value`, else `child + 1`; a leaf
    /// stays put.
    #[inline(always)]
    fn step(&self, x: &Padded) -> usize {
        self.child as usize + 1 - usize::from(x[(self.feature & 31) as usize] < self.value)
    }
}

/// Trees stored back to back in one node array.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct FlatForest {
    /// All nodes of all trees.
    pub nodes: Vec<Node>,
    /// Index of each tree's root in `nodes`; tree `t` spans `roots[t]..roots[t + 1]`.
    pub roots: Vec<u32>,
}

impl FlatForest {
    /// Number of trees.
    pub(crate) fn n_trees(&self) -> usize {
        self.roots.len()
    }

    /// The node range of tree `t`.
    fn span(&self, t: usize) -> std::ops::Range<usize> {
        let start = self.roots.get(t).map_or(0, |&r| r as usize);
        let end = self
            .roots
            .get(t + 1)
            .map_or(self.nodes.len(), |&r| r as usize);
        start..end
    }

    /// Appends a tree given with local indices, children after parents (built by training or
    /// checked by [`TreeRepr::to_nodes`]).
    pub(crate) fn push_tree(&mut self, local: &[Node]) {
        let base = self.nodes.len();
        self.roots.push(base as u32);
        self.nodes
            .extend(local.iter().enumerate().map(|(i, n)| Node {
                child: if n.is_leaf() {
                    (base + i) as u32
                } else {
                    n.child + base as u32
                },
                ..*n
            }));
    }

    /// Calls `f` with the leaf `row` reaches in every tree, in tree order. No allocation, no
    /// data-dependent branches but the end of each group of [`LANES`] trees.
    ///
    /// Relies on the layout invariants (children forward and in range, leaves pointing at
    /// themselves, leaf payloads ≥ 0), which [`TreeRepr::to_nodes`] checks on loaded trees.
    #[inline]
    pub(crate) fn for_each_leaf(&self, row: &InputRow, mut f: impl FnMut(&Node)) {
        let x = pad(row);
        for group in self.roots.chunks(LANES) {
            let mut at = [group[0] as usize; LANES];
            for (a, &r) in at.iter_mut().zip(group) {
                *a = r as usize;
            }
            loop {
                let mut moved = false;
                for a in at.iter_mut() {
                    let next = self.nodes[*a].step(&x);
                    moved |= next != *a;
                    *a = next;
                }
                if !moved {
                    break;
                }
            }
            for &a in &at[..group.len()] {
                f(&self.nodes[a]);
            }
        }
    }

    /// Like [`for_each_leaf`](Self::for_each_leaf), and also sums, per feature, `weight[node]`
    /// (negative ones as 0) over the splits each tree's walk passes: calls `f(leaf, sums)`
    /// per tree, in tree order, `sums` indexed by feature (columns past the 25 are scratch).
    /// The walks advance in lockstep as the vote's do, so explaining a row costs about one
    /// more vote.
    #[inline]
    pub(crate) fn for_each_path(
        &self,
        row: &InputRow,
        weight: &[f32],
        mut f: impl FnMut(&Node, &[f64; 32]),
    ) {
        let x = pad(row);
        for group in self.roots.chunks(LANES) {
            let mut at = [group[0] as usize; LANES];
            for (a, &r) in at.iter_mut().zip(group) {
                *a = r as usize;
            }
            let mut sums = [[0.0f64; 32]; LANES];
            loop {
                let mut moved = false;
                for (a, s) in at.iter_mut().zip(sums.iter_mut()) {
                    let node = &self.nodes[*a];
                    let next = node.step(&x);
                    // A leaf adds to its sentinel column, which nobody reads: no branch.
                    let w = weight.get(*a).copied().unwrap_or(0.0).max(0.0);
                    s[(node.feature & 31) as usize] += f64::from(w);
                    moved |= next != *a;
                    *a = next;
                }
                if !moved {
                    break;
                }
            }
            for (&a, s) in at[..group.len()].iter().zip(&sums) {
                f(&self.nodes[a], s);
            }
        }
    }

    /// The leaf `row` reaches from `root` (one walk, for tests against the lockstep walk).
    #[cfg(test)]
    pub(crate) fn leaf(&self, root: u32, row: &InputRow) -> &Node {
        self.walk(root, row, |_, _| {})
    }

    /// Walks `row` from `root` to its leaf, calling `visit(depth, node_index)` for every split
    /// on the way, and returns the leaf.
    pub(crate) fn walk(
        &self,
        root: u32,
        row: &InputRow,
        mut visit: impl FnMut(usize, usize),
    ) -> &Node {
        let x = pad(row);
        let mut i = root as usize;
        let mut depth = 0;
        loop {
            let node = &self.nodes[i];
            if node.is_leaf() {
                return node;
            }
            visit(depth, i);
            i = node.step(&x);
            depth += 1;
        }
    }

    /// Tree `t` as it is saved (local indices): leaves through `leaf_repr(payload)` →
    /// `(value, child)`, with `extra(node_index)` per node when given.
    pub(crate) fn tree_repr(
        &self,
        t: usize,
        extra: Option<&[f32]>,
        leaf_repr: impl Fn(f64) -> (f64, u32),
    ) -> TreeRepr {
        let span = self.span(t);
        let base = span.start as u32;
        let nodes = &self.nodes[span.clone()];
        let mut repr = TreeRepr {
            feature: Vec::with_capacity(nodes.len()),
            value: Vec::with_capacity(nodes.len()),
            child: Vec::with_capacity(nodes.len()),
            impurity: extra.map_or_else(Vec::new, |e| e[span].to_vec()),
        };
        for n in nodes {
            let (feature, value, child) = if n.is_leaf() {
                let (v, c) = leaf_repr(n.value);
                (-1, v, c)
            } else {
                (n.feature as i32, n.value, n.child - base)
            };
            repr.feature.push(feature);
            repr.value.push(value);
            repr.child.push(child);
        }
        repr
    }
}

/// One saved tree: parallel arrays indexed by node, root first, indices local to the tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TreeRepr {
    /// Column tested by each split; -1 marks a leaf.
    pub feature: Vec<i32>,
    /// Split value (go left when `x < value`); at leaves the model's payload (isolation forest:
    /// path length; random forest: 0).
    pub value: Vec<f64>,
    /// Left child of each split (the right child is the next node); at leaves the model's
    /// payload (random forest: class index; isolation forest: 0).
    pub child: Vec<u32>,
    /// Random forest only: impurity decrease of each split (0 at leaves), for explanations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub impurity: Vec<f32>,
}

impl TreeRepr {
    /// Checks the tree and returns its nodes (local indices). `leaf_payload(value, child)`
    /// validates a leaf and returns its payload, which must be finite and ≥ 0.
    ///
    /// # Errors
    /// A sentence naming the first problem: arrays of different lengths, an empty or oversized
    /// tree, a feature out of range, a non-finite split value, a child that does not point
    /// forward within the tree, a rejected leaf payload, or a non-finite impurity.
    pub(crate) fn to_nodes(
        &self,
        want_impurity: bool,
        leaf_payload: impl Fn(f64, u32) -> Result<f64, String>,
    ) -> Result<Vec<Node>, String> {
        let n = self.feature.len();
        if n == 0 {
            return Err("empty tree".into());
        }
        if n > MAX_TREE_NODES {
            return Err(format!("{n} nodes, more than {MAX_TREE_NODES}"));
        }
        if self.value.len() != n || self.child.len() != n {
            return Err(format!(
                "arrays of different lengths (feature {n}, value {}, child {})",
                self.value.len(),
                self.child.len()
            ));
        }
        if want_impurity {
            if self.impurity.len() != n {
                return Err(format!(
                    "impurity has {} entries for {n} nodes",
                    self.impurity.len()
                ));
            }
            if let Some(i) = self.impurity.iter().position(|v| !v.is_finite()) {
                return Err(format!("node {i}: non-finite impurity"));
            }
        } else if !self.impurity.is_empty() {
            return Err("unexpected impurity array".into());
        }
        let mut nodes = Vec::with_capacity(n);
        for (i, ((&f, &value), &child)) in self
            .feature
            .iter()
            .zip(&self.value)
            .zip(&self.child)
            .enumerate()
        {
            if f == -1 {
                let payload = leaf_payload(value, child).map_err(|e| format!("node {i}: {e}"))?;
                if !(payload.is_finite() && payload >= 0.0) {
                    return Err(format!("node {i}: leaf payload {payload} out of range"));
                }
                nodes.push(Node::leaf(payload));
                continue;
            }
            let feature = usize::try_from(f)
                .ok()
                .filter(|&f| f < INPUT_COUNT)
                .ok_or_else(|| format!("node {i}: feature {f} out of range"))?;
            if !value.is_finite() {
                return Err(format!("node {i}: non-finite split value"));
            }
            let c = child as usize;
            if c <= i || c + 1 >= n {
                return Err(format!(
                    "node {i}: child {child} does not point forward within {n} nodes"
                ));
            }
            nodes.push(Node {
                value,
                feature: feature as u32,
                child,
            });
        }
        Ok(nodes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stump() -> TreeRepr {
        TreeRepr {
            feature: vec![3, -1, -1],
            value: vec![10.0, 0.0, 0.0],
            child: vec![1, 0, 1],
            impurity: Vec::new(),
        }
    }

    /// Leaf payload = the saved `child` (as the random forest saves classes).
    fn class_payload(_: f64, child: u32) -> Result<f64, String> {
        Ok(f64::from(child))
    }

    #[test]
    fn stump_routes_below_left_and_nan_right() {
        let nodes = stump().to_nodes(false, class_payload).expect("valid");
        let mut f = FlatForest::default();
        f.push_tree(&[Node::leaf(7.0)]);
        f.push_tree(&nodes);
        let mut row = [0.0; INPUT_COUNT];
        assert_eq!(f.leaf(f.roots[0], &row).value, 7.0);
        for (x, class) in [
            (9.99, 0.0),
            (10.0, 1.0),
            (f64::NAN, 1.0),
            (f64::INFINITY, 1.0),
        ] {
            row[3] = x;
            assert_eq!(f.leaf(f.roots[1], &row).value, class, "{x}");
            let mut leaves = Vec::new();
            f.for_each_leaf(&row, |n| leaves.push(n.value));
            assert_eq!(leaves, vec![7.0, class], "{x}");
        }
        row[3] = f64::NEG_INFINITY;
        assert_eq!(f.leaf(f.roots[1], &row).value, 0.0);
        assert_eq!(f.tree_repr(1, None, |v| (0.0, v as u32)), stump());
        let mut seen = Vec::new();
        f.walk(f.roots[1], &row, |d, i| seen.push((d, i)));
        assert_eq!(seen, vec![(0, 1)]);
    }

    #[test]
    fn lockstep_walk_matches_single_walks_over_many_trees() {
        // 19 trees (two full groups and a partial one) of different depths on feature t % 25.
        let mut f = FlatForest::default();
        for t in 0..19u32 {
            let depth = 1 + t % 5;
            // A chain: split k sends x < k to the leaf after it (payload k), the rest on.
            let mut nodes = Vec::new();
            for k in 0..depth {
                let at = nodes.len() as u32;
                nodes.push(Node {
                    value: f64::from(k),
                    feature: t % 25,
                    child: at + 1,
                });
                nodes.push(Node::leaf(f64::from(k)));
            }
            nodes.push(Node::leaf(99.0));
            f.push_tree(&nodes);
        }
        for x in [-1.0, 0.5, 1.5, 2.5, 3.5, 10.0, f64::NAN] {
            let row = [x; INPUT_COUNT];
            let mut lock = Vec::new();
            f.for_each_leaf(&row, |n| lock.push(n.value));
            let single: Vec<f64> = f.roots.iter().map(|&r| f.leaf(r, &row).value).collect();
            assert_eq!(lock.len(), 19);
            assert_eq!(lock, single, "{x}");
        }
    }

    #[test]
    fn hostile_trees_are_rejected() {
        let ok = class_payload;
        let mut t = stump();
        t.child[0] = 0; // self loop
        assert!(t.to_nodes(false, ok).is_err());
        let mut t = stump();
        t.child[0] = 2; // right child out of range
        assert!(t.to_nodes(false, ok).is_err());
        let mut t = stump();
        t.feature[0] = crate::inputs::INPUT_COUNT as i32;
        assert!(t.to_nodes(false, ok).is_err());
        let mut t = stump();
        t.feature[0] = -2;
        assert!(t.to_nodes(false, ok).is_err());
        let mut t = stump();
        t.value[0] = f64::INFINITY;
        assert!(t.to_nodes(false, ok).is_err());
        let mut t = stump();
        t.value.pop();
        assert!(t.to_nodes(false, ok).is_err());
        assert!(stump().to_nodes(true, ok).is_err(), "impurity missing");
        let empty = TreeRepr {
            feature: vec![],
            value: vec![],
            child: vec![],
            impurity: vec![],
        };
        assert!(empty.to_nodes(false, ok).is_err());
        let picky = |_: f64, c: u32| {
            if c > 0 {
                Err("class".into())
            } else {
                Ok(0.0)
            }
        };
        assert!(stump().to_nodes(false, picky).is_err());
        let negative = |_: f64, _: u32| Ok(-1.0);
        assert!(stump().to_nodes(false, negative).is_err());
        let nan = |_: f64, _: u32| Ok(f64::NAN);
        assert!(stump().to_nodes(false, nan).is_err());
    }
}
