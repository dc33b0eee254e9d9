//! Traffic lights from OpenDRIVE signals: which lanes each signal governs, and the phases
//! of each junction.

use std::collections::{BTreeMap, HashMap};

use super::build::{Builder, DRIVABLE_TYPES, Draft};
use super::parse::Document;
use crate::map::{Lane, LaneId, Node};

/// Where a signal applies: (road index, orientation, validity ranges).
type Place<'a> = (usize, &'a str, &'a [(i32, i32)]);

/// Put each dynamic traffic-light signal (`type="1000001"`) on the lanes ending at the
/// stop line it governs, and group signals into phases per junction by controller.
/// Returns how many signals control a lane.
#[allow(clippy::too_many_arguments)]
pub(super) fn assign_lights(
    b: &mut Builder,
    drafts: &[Draft],
    new_id: &[usize],
    lanes: &mut [Lane],
    preds: &[Vec<LaneId>],
    node_of: &BTreeMap<usize, usize>,
    nodes: &mut [Node],
) -> usize {
    let doc = b.doc;
    let controller_of: HashMap<&str, &str> = doc
        .controllers
        .iter()
        .flat_map(|c| c.signals.iter().map(move |s| (s.as_str(), c.id.as_str())))
        .collect();
    // (road, orientation, validity) places where each signal applies.
    let mut refs: HashMap<&str, Vec<Place>> = HashMap::new();
    for (r, road) in doc.roads.iter().enumerate() {
        for s in &road.signal_refs {
            refs.entry(s.id.as_str())
                .or_default()
                .push((r, s.orientation.as_str(), &s.validity));
        }
    }
    let mut lanes_of: HashMap<(usize, i32), Vec<usize>> = HashMap::new();
    for (k, d) in drafts.iter().enumerate() {
        if new_id[k] != usize::MAX {
            lanes_of
                .entry((d.key.0, d.key.2))
                .or_default()
                .push(new_id[k]);
        }
    }
    // Phase keys per node, in order of first use.
    let mut phase_keys: Vec<Vec<String>> = vec![Vec::new(); nodes.len()];
    let mut assigned: Vec<Option<String>> = vec![None; lanes.len()];
    let mut used = 0;
    for (r, road) in doc.roads.iter().enumerate() {
        for sig in road
            .signals
            .iter()
            .filter(|s| s.dynamic && s.kind == "1000001")
        {
            let own = [(r, sig.orientation.as_str(), sig.validity.as_slice())];
            let places = refs.get(sig.id.as_str()).map_or(&own[..], Vec::as_slice);
            let mut stop_lanes: Vec<LaneId> = Vec::new();
            for &(pr, orientation, validity) in places {
                let ids = governed_ids(b, pr, orientation, validity);
                for id in ids {
                    for &l in lanes_of.get(&(pr, id)).into_iter().flatten() {
                        if lanes[l].in_junction {
                            stop_lanes.extend(preds[l].iter().filter(|&&p| !lanes[p].in_junction));
                        } else if lanes[l].successors.iter().any(|&s| lanes[s].in_junction) {
                            stop_lanes.push(l);
                        }
                    }
                }
            }
            stop_lanes.sort_unstable();
            stop_lanes.dedup();
            if stop_lanes.is_empty() {
                b.warnings.push(format!(
                    "signal {} (road {}) governs no driving lane that ends at a junction: ignored",
                    sig.id, road.id
                ));
                continue;
            }
            used += 1;
            let key = controller_of.get(sig.id.as_str()).map_or_else(
                || format!("signal {}", sig.id),
                |c| format!("controller {c}"),
            );
            for l in stop_lanes {
                let Some(node) = lanes[l].successors.iter().find_map(|&s| lanes[s].node) else {
                    continue;
                };
                if let Some(prev) = &assigned[l] {
                    if *prev != key {
                        b.warnings.push(format!(
                            "lane {l} (before junction {}) is governed by {prev} and by {key} (signal {}): keeps {prev}",
                            node_id(doc, node_of, node),
                            sig.id
                        ));
                    }
                    continue;
                }
                let keys = &mut phase_keys[node];
                let phase = keys.iter().position(|k| *k == key).unwrap_or_else(|| {
                    keys.push(key.clone());
                    keys.len() - 1
                });
                lanes[l].light = Some((node, phase));
                assigned[l] = Some(key.clone());
            }
        }
    }
    // Phases in the junction's controller order (sequence), then the rest as first used.
    for (&j, &n) in node_of {
        let keys = &phase_keys[n];
        let junction = &doc.junctions[j];
        let rank = |k: &String| {
            junction
                .controllers
                .iter()
                .find(|(id, _)| format!("controller {id}") == *k)
                .map_or(u32::MAX, |&(_, seq)| seq)
        };
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by_key(|&i| (rank(&keys[i]), i));
        let mut remap = vec![0; keys.len()];
        for (new, &old) in order.iter().enumerate() {
            remap[old] = new;
        }
        for l in lanes.iter_mut() {
            if let Some((node, phase)) = &mut l.light
                && *node == n
            {
                *phase = remap[*phase];
            }
        }
        nodes[n].phases = keys.len();
    }
    used
}

fn node_id(doc: &Document, node_of: &BTreeMap<usize, usize>, node: usize) -> String {
    node_of
        .iter()
        .find(|&(_, &n)| n == node)
        .map_or_else(|| "?".into(), |(&j, _)| doc.junctions[j].id.clone())
}

/// The drivable lane ids of road `r` a signal with `orientation` and `validity` governs:
/// the validity ranges when they name lanes, else the lanes travelling the way the
/// orientation faces (`+`: increasing s), else all.
fn governed_ids(b: &Builder, r: usize, orientation: &str, validity: &[(i32, i32)]) -> Vec<i32> {
    let road = &b.doc.roads[r];
    let mut ids: Vec<i32> = road
        .sections
        .iter()
        .flat_map(|s| &s.lanes)
        .filter(|l| DRIVABLE_TYPES.contains(&l.kind.as_str()))
        .map(|l| l.id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let named = validity.iter().any(|&(a, b)| a != 0 || b != 0);
    if named {
        ids.retain(|&id| {
            validity
                .iter()
                .any(|&(a, c)| (a.min(c)..=a.max(c)).contains(&id))
        });
    } else {
        match orientation {
            "+" => ids.retain(|&id| b.forward(r, id)),
            "-" => ids.retain(|&id| !b.forward(r, id)),
            _ => {}
        }
    }
    ids
}
