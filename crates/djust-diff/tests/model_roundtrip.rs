//! Property test: for thousands of generated (old, new) pairs, applying `diff(old, new)` to a
//! DOM model of `old` yields exactly `new`; and `to_html` round-trips through the parser.

mod common;

use common::{check_roundtrip, generate};
use djust_diff::{Tree, diff};

const CASES: u64 = 3000;

#[test]
fn generated_pairs_patch_to_the_new_tree() {
    for seed in 0..CASES {
        let (old, new) = generate::pair(seed);
        let result = std::panic::catch_unwind(|| check_roundtrip(&old, &new));
        assert!(result.is_ok(), "failing seed {seed}");
    }
}

#[test]
fn diff_of_a_tree_with_itself_is_empty() {
    for seed in 0..500 {
        let (old, _) = generate::pair(seed);
        let tree = Tree::parse(&old);
        assert!(
            diff(&tree, &Tree::parse(&old)).is_empty(),
            "seed {seed}: {old:?}"
        );
    }
}

#[test]
fn serialization_round_trips_through_the_parser() {
    for seed in 0..CASES {
        let (old, new) = generate::pair(seed);
        for html in [old, new] {
            let tree = Tree::parse(&html);
            let again = Tree::parse(&tree.to_html());
            assert_eq!(tree, again, "seed {seed}: {html:?}");
        }
    }
}
