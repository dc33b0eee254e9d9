//! Lane-graph helpers: dead-end pruning and strongly connected parts.

/// The nodes from which a path can go on forever: dead ends are removed, then whatever
/// led only into them, until every node left has a successor left.
pub(super) fn without_dead_ends(succ: &[Vec<usize>]) -> Vec<bool> {
    let n = succ.len();
    let mut keep = vec![true; n];
    let mut out: Vec<usize> = succ.iter().map(Vec::len).collect();
    let mut preds = vec![Vec::new(); n];
    for (v, s) in succ.iter().enumerate() {
        for &w in s {
            preds[w].push(v);
        }
    }
    let mut stack: Vec<usize> = (0..n).filter(|&v| out[v] == 0).collect();
    while let Some(v) = stack.pop() {
        if !keep[v] {
            continue;
        }
        keep[v] = false;
        for &p in &preds[v] {
            out[p] -= 1;
            if out[p] == 0 && keep[p] {
                stack.push(p);
            }
        }
    }
    keep
}

/// The largest strongly connected set of nodes (Tarjan's algorithm, iterative).
pub(super) fn largest_scc(succ: &[Vec<usize>]) -> Vec<bool> {
    let n = succ.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut best: Vec<usize> = Vec::new();
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut call: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut i)) = call.last_mut() {
            if *i < succ[v].len() {
                let w = succ[v][*i];
                *i += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    call.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(u, _)) = call.last() {
                    low[u] = low[u].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut comp = Vec::new();
                    loop {
                        let w = stack.pop().expect("v is on the stack");
                        on_stack[w] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    if comp.len() > best.len() {
                        best = comp;
                    }
                }
            }
        }
    }
    let mut keep = vec![false; n];
    for v in best {
        keep[v] = true;
    }
    keep
}
