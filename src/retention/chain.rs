//! Differential chains in retention: which backups can be restored at all
//! (their own data complete, and every parent back to the full backup), and
//! which parents each kept backup needs. Retention counts only restorable
//! backups and keeps the whole chain of every backup it keeps, so a kept
//! backup can never lose a parent to prune. Pure: no I/O.

use std::collections::BTreeMap;

use crate::model::BackupId;

/// One backup as chain planning sees it.
#[derive(Clone, Debug)]
pub struct ChainNode<'a> {
    pub id: &'a BackupId,
    /// `Some(None)`: restores on its own; `Some(Some(p))`: builds on `p`;
    /// `None`: not known yet (a key from before keys carried the chain,
    /// whose manifest has not been read).
    pub parent: Option<Option<&'a BackupId>>,
    /// Why the backup's own data is not complete, when it is not.
    pub own_fault: Option<String>,
}

/// For every node (same order): `Ok` if it can be restored, or why not. A
/// node whose chain is not known yet counts as restorable on its own data;
/// prune reads the manifest of every backup it keeps, so none stays unknown
/// in a final plan.
pub fn restorability(nodes: &[ChainNode<'_>]) -> Vec<Result<(), String>> {
    let index = by_id(nodes);
    let mut memo: Vec<Option<Result<(), String>>> = vec![None; nodes.len()];
    for i in 0..nodes.len() {
        // Fills `memo[i]` (and the chain below it); read back below.
        let _ = resolve(i, nodes, &index, &mut memo, &mut Vec::new());
    }
    memo.into_iter()
        .map(|r| r.unwrap_or_else(|| Err("its chain could not be resolved".into())))
        .collect()
}

fn by_id<'a>(nodes: &[ChainNode<'a>]) -> BTreeMap<&'a BackupId, Vec<usize>> {
    let mut index: BTreeMap<&BackupId, Vec<usize>> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        index.entry(n.id).or_default().push(i);
    }
    index
}

fn resolve(
    i: usize,
    nodes: &[ChainNode<'_>],
    index: &BTreeMap<&BackupId, Vec<usize>>,
    memo: &mut Vec<Option<Result<(), String>>>,
    path: &mut Vec<usize>,
) -> Result<(), String> {
    if let Some(r) = &memo[i] {
        return r.clone();
    }
    if path.contains(&i) {
        return Err(format!("its chain of parents loops at {}", nodes[i].id));
    }
    let n = &nodes[i];
    let result = if let Some(fault) = &n.own_fault {
        Err(fault.clone())
    } else if let Some(Some(parent)) = n.parent {
        match index.get(parent) {
            None => Err(format!("its parent {parent} is missing from the bucket")),
            Some(candidates) => {
                path.push(i);
                let mut last = Ok(());
                for &c in candidates {
                    last = resolve(c, nodes, index, memo, path);
                    if last.is_ok() {
                        break;
                    }
                }
                path.pop();
                last.map_err(|why| format!("its parent {parent} cannot be restored ({why})"))
            }
        }
    } else {
        Ok(())
    };
    memo[i] = Some(result.clone());
    result
}

/// For every node (same order): the kept backups whose chain needs it, by
/// id, nearest first. `kept[i]` says whether node `i` is kept; only
/// restorable parents (per `restorable`) are needed, since a kept backup is
/// restorable and so is its whole chain.
pub fn needed_by<'a>(nodes: &[ChainNode<'a>], kept: &[bool], restorable: &[bool]) -> Vec<Vec<&'a BackupId>> {
    let index = by_id(nodes);
    let mut needed: Vec<Vec<&BackupId>> = vec![Vec::new(); nodes.len()];
    for n in nodes.iter().zip(kept).filter_map(|(n, k)| k.then_some(n)) {
        let mut cursor = n.parent.flatten();
        let mut hops = 0;
        while let Some(parent) = cursor {
            hops += 1;
            let Some(candidates) = index.get(parent) else { break };
            let live: Vec<usize> = candidates.iter().copied().filter(|&c| restorable[c]).collect();
            if live.is_empty() || hops > nodes.len() {
                break;
            }
            for &c in &live {
                if !needed[c].contains(&n.id) {
                    needed[c].push(n.id);
                }
            }
            cursor = nodes[live[0]].parent.flatten();
        }
    }
    needed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u32) -> BackupId {
        format!("202611{:02}T020000Z-{n:06x}", n).parse().unwrap()
    }

    #[test]
    fn a_diff_is_restorable_only_while_its_whole_chain_is() {
        let ids: Vec<BackupId> = (1..=5).map(id).collect();
        let node = |i: usize, parent: Option<usize>, fault: Option<&str>| ChainNode {
            id: &ids[i],
            parent: Some(parent.map(|p| &ids[p])),
            own_fault: fault.map(String::from),
        };
        // 0 full ← 1 diff ← 2 diff (data missing) ← 3 diff; 4 diff of a missing id.
        let missing = id(30);
        let nodes = vec![
            node(0, None, None),
            node(1, Some(0), None),
            node(2, Some(1), Some("data missing")),
            node(3, Some(2), None),
            ChainNode {
                id: &ids[4],
                parent: Some(Some(&missing)),
                own_fault: None,
            },
        ];
        let r = restorability(&nodes);
        assert_eq!(r[0], Ok(()));
        assert_eq!(r[1], Ok(()));
        assert_eq!(r[2], Err("data missing".into()));
        assert!(r[3]
            .as_ref()
            .unwrap_err()
            .contains(&format!("parent {} cannot be restored", ids[2])));
        assert!(r[4].as_ref().unwrap_err().contains("missing from the bucket"));
    }

    #[test]
    fn a_kept_diff_needs_every_parent_back_to_the_full_one_and_a_loop_is_unrestorable() {
        let ids: Vec<BackupId> = (1..=4).map(id).collect();
        let nodes: Vec<ChainNode> = (0..4)
            .map(|i| ChainNode {
                id: &ids[i],
                parent: Some(if i == 0 { None } else { Some(&ids[i - 1]) }),
                own_fault: None,
            })
            .collect();
        let kept = [false, false, true, false];
        let needed = needed_by(&nodes, &kept, &[true; 4]);
        assert_eq!(needed[0], [&ids[2]]);
        assert_eq!(needed[1], [&ids[2]]);
        assert!(needed[2].is_empty() && needed[3].is_empty());

        let looped = [
            ChainNode {
                id: &ids[0],
                parent: Some(Some(&ids[1])),
                own_fault: None,
            },
            ChainNode {
                id: &ids[1],
                parent: Some(Some(&ids[0])),
                own_fault: None,
            },
        ];
        assert!(restorability(&looped).iter().all(|r| r.is_err()));
    }

    #[test]
    fn an_unknown_chain_counts_on_its_own_data_until_its_manifest_is_read() {
        let a = id(1);
        let nodes = [ChainNode {
            id: &a,
            parent: None,
            own_fault: None,
        }];
        assert_eq!(restorability(&nodes), [Ok(())]);
    }
}
