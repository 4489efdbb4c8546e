//! Longest increasing subsequence, to keep the most matched nodes in place.

/// Returns, for each element of `seq`, whether it belongs to one longest strictly increasing
/// subsequence. O(n log n).
pub(super) fn longest_increasing(seq: &[usize]) -> Vec<bool> {
    // tails[k] = index into `seq` of the smallest tail of an increasing run of length k+1.
    let mut tails: Vec<usize> = Vec::new();
    let mut prev: Vec<Option<usize>> = vec![None; seq.len()];
    for (i, &value) in seq.iter().enumerate() {
        let k = tails.partition_point(|&t| seq[t] < value);
        prev[i] = k.checked_sub(1).map(|p| tails[p]);
        if k == tails.len() {
            tails.push(i);
        } else {
            tails[k] = i;
        }
    }
    let mut member = vec![false; seq.len()];
    let mut cursor = tails.last().copied();
    while let Some(i) = cursor {
        member[i] = true;
        cursor = prev[i];
    }
    member
}

#[cfg(test)]
mod tests {
    use super::longest_increasing;

    #[test]
    fn picks_a_longest_run() {
        let flags = longest_increasing(&[2, 0, 1, 5, 3, 4]);
        let picked: Vec<usize> = [2, 0, 1, 5, 3, 4]
            .iter()
            .zip(&flags)
            .filter(|(_, f)| **f)
            .map(|(v, _)| *v)
            .collect();
        assert_eq!(picked, vec![0, 1, 3, 4]);
    }

    #[test]
    fn empty_and_sorted() {
        assert!(longest_increasing(&[]).is_empty());
        assert_eq!(longest_increasing(&[1, 2, 3]), vec![true; 3]);
        assert_eq!(
            longest_increasing(&[3, 2, 1])
                .iter()
                .filter(|f| **f)
                .count(),
            1
        );
    }
}
