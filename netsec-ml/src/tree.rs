//! The flat tree layout both models score with and save.
//!
//! Every tree of a forest lives in one `Vec<Node>`: a node is 16 bytes (split value, feature,
//! child index), the two children of a split sit next to each other (`child`, `child + 1`), and
//! a child always comes after its parent. Scoring a row is then a loop over one array with no
//! allocation and no pointer chasing through boxes, and a loaded file whose children all point
//! forward and in range cannot make the walk loop or leave the array.
//!
//! On disk (see [`crate::model`]) each tree is a [`TreeRepr`]: parallel arrays indexed by node,
//! with indices local to the tree.

use netsec_core::features::FEATURE_COUNT;
use serde::{Deserialize, Serialize};

/// `feature` of a leaf in memory.
pub(crate) const LEAF: u32 = u32::MAX;

/// Most nodes one tree may hold (2^24): far above what training produces, low enough that a
/// hostile file cannot make indices overflow.
pub(crate) const MAX_TREE_NODES: usize = 1 << 24;

/// One node of a flat tree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Node {
    /// Split: go left when `row[feature] < value` (NaN goes right). Leaf: the model's payload
    /// (the isolation forest's path length; unused by the random forest).
    pub value: f64,
    /// Column tested by a split, or [`LEAF`].
    pub feature: u32,
    /// Split: index (in the forest's node array) of the left child; the right child is
    /// `child + 1`. Leaf: the model's payload (the random forest's class).
    pub child: u32,
}

impl Node {
    /// A leaf carrying `value` and `child` as payload.
    pub(crate) fn leaf(value: f64, child: u32) -> Node {
        Node {
            value,
            feature: LEAF,
            child,
        }
    }

    /// The child a split sends `row` to: `child` when `row[feature] < value`, else
    /// `child + 1` (so NaN goes right, as in linfa-trees).
    #[inline]
    pub(crate) fn next(&self, row: &[f64; FEATURE_COUNT]) -> usize {
        if row[self.feature as usize] < self.value {
            self.child as usize
        } else {
            self.child as usize + 1
        }
    }

    /// Whether this node is a leaf.
    #[inline]
    pub(crate) fn is_leaf(&self) -> bool {
        self.feature == LEAF
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

    /// Appends a tree given with local indices (children already validated or built forward).
    pub(crate) fn push_tree(&mut self, local: &[Node]) {
        let base = self.nodes.len() as u32;
        self.roots.push(base);
        self.nodes.extend(local.iter().map(|n| {
            if n.is_leaf() {
                *n
            } else {
                Node {
                    child: n.child + base,
                    ..*n
                }
            }
        }));
    }

    /// The leaf `row` reaches from `root`.
    ///
    /// Relies on the layout invariants (children forward and in range, features below
    /// [`FEATURE_COUNT`]), which [`TreeRepr::to_nodes`] checks on every loaded tree.
    #[inline]
    pub(crate) fn leaf(&self, root: u32, row: &[f64; FEATURE_COUNT]) -> &Node {
        let mut node = &self.nodes[root as usize];
        while !node.is_leaf() {
            node = &self.nodes[node.next(row)];
        }
        node
    }

    /// Walks `row` from `root` to its leaf, calling `visit(depth, node_index)` for every split
    /// on the way, and returns the leaf.
    pub(crate) fn walk(
        &self,
        root: u32,
        row: &[f64; FEATURE_COUNT],
        mut visit: impl FnMut(usize, usize),
    ) -> &Node {
        let mut i = root as usize;
        let mut depth = 0;
        loop {
            let node = &self.nodes[i];
            if node.is_leaf() {
                return node;
            }
            visit(depth, i);
            i = node.next(row);
            depth += 1;
        }
    }

    /// Tree `t` as it is saved (local indices), with `extra(node_index)` per node when given.
    pub(crate) fn tree_repr(&self, t: usize, extra: Option<&[f32]>) -> TreeRepr {
        let span = self.span(t);
        let base = span.start as u32;
        let nodes = &self.nodes[span.clone()];
        TreeRepr {
            feature: nodes
                .iter()
                .map(|n| if n.is_leaf() { -1 } else { n.feature as i32 })
                .collect(),
            value: nodes.iter().map(|n| n.value).collect(),
            child: nodes
                .iter()
                .map(|n| if n.is_leaf() { n.child } else { n.child - base })
                .collect(),
            impurity: extra.map_or_else(Vec::new, |e| e[span].to_vec()),
        }
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
    /// Checks the tree and returns its nodes (local indices). `leaf_ok(value, child)` validates
    /// each leaf's payload.
    ///
    /// # Errors
    /// A sentence naming the first problem: arrays of different lengths, an empty or oversized
    /// tree, a feature out of range, a non-finite split value, a child that does not point
    /// forward within the tree, a rejected leaf payload, or a non-finite impurity.
    pub(crate) fn to_nodes(
        &self,
        want_impurity: bool,
        leaf_ok: impl Fn(f64, u32) -> Result<(), String>,
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
                leaf_ok(value, child).map_err(|e| format!("node {i}: {e}"))?;
                nodes.push(Node::leaf(value, child));
                continue;
            }
            let feature = usize::try_from(f)
                .ok()
                .filter(|&f| f < FEATURE_COUNT)
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

    #[test]
    fn stump_routes_below_left_and_nan_right() {
        let nodes = stump().to_nodes(false, |_, _| Ok(())).expect("valid");
        let mut f = FlatForest::default();
        f.push_tree(&[Node::leaf(0.0, 7)]);
        f.push_tree(&nodes);
        let mut row = [0.0; FEATURE_COUNT];
        assert_eq!(f.leaf(f.roots[0], &row).child, 7);
        row[3] = 9.99;
        assert_eq!(f.leaf(f.roots[1], &row).child, 0);
        row[3] = 10.0;
        assert_eq!(f.leaf(f.roots[1], &row).child, 1);
        row[3] = f64::NAN;
        assert_eq!(f.leaf(f.roots[1], &row).child, 1);
        assert_eq!(f.tree_repr(1, None), stump());
        let mut seen = Vec::new();
        f.walk(f.roots[1], &row, |d, i| seen.push((d, i)));
        assert_eq!(seen, vec![(0, 1)]);
    }

    #[test]
    fn hostile_trees_are_rejected() {
        let ok = |_: f64, _: u32| Ok(());
        let mut t = stump();
        t.child[0] = 0; // self loop
        assert!(t.to_nodes(false, ok).is_err());
        let mut t = stump();
        t.child[0] = 2; // right child out of range
        assert!(t.to_nodes(false, ok).is_err());
        let mut t = stump();
        t.feature[0] = 25;
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
        let picky = |_: f64, c: u32| if c > 0 { Err("class".into()) } else { Ok(()) };
        assert!(stump().to_nodes(false, picky).is_err());
    }
}
