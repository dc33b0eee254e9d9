//! Proof, not assertion: on small MDPs with known dynamics, value iteration with and
//! without potential shaping (random Φ, several γ, Φ(terminal) = 0) finds the same optimal
//! policy, and shaped Q-values are the original ones minus Φ(s); the shaping summed along
//! any episode telescopes to γ^T Φ(s_T) − Φ(s_0), with Φ(s_T) = 0 when the episode
//! terminated and the real Φ when it was truncated. And the semantic-trap ablation does
//! change the optimal policy.

use rand::{Rng, SeedableRng};
use rapt_shaping::{PotentialShaping, progress_as_reward};

/// States 0..S−1 are live, S is terminal (absorbing, no reward after).
struct Mdp {
    s: usize,
    a: usize,
    /// p[s][a][s'] over S + 1 next states.
    p: Vec<Vec<Vec<f64>>>,
    /// r[s][a][s'].
    r: Vec<Vec<Vec<f64>>>,
}

fn random_mdp(rng: &mut impl Rng, s: usize, a: usize) -> Mdp {
    let mut p = vec![vec![vec![0.0; s + 1]; a]; s];
    let mut r = vec![vec![vec![0.0; s + 1]; a]; s];
    for x in 0..s {
        for u in 0..a {
            let w: Vec<f64> = (0..=s)
                .map(|_| rng.random_range(0.0..1.0f64).powi(3))
                .collect();
            let total: f64 = w.iter().sum();
            for y in 0..=s {
                p[x][u][y] = w[y] / total;
                r[x][u][y] = rng.random_range(-1.0..1.0);
            }
        }
    }
    Mdp { s, a, p, r }
}

/// Q* by value iteration with reward `reward(s, a, s')`.
fn q_star(m: &Mdp, gamma: f64, reward: &dyn Fn(usize, usize, usize) -> f64) -> Vec<Vec<f64>> {
    let mut q = vec![vec![0.0; m.a]; m.s];
    for _ in 0..5000 {
        let v: Vec<f64> = q
            .iter()
            .map(|row| row.iter().cloned().fold(f64::MIN, f64::max))
            .collect();
        let mut next = q.clone();
        let mut delta: f64 = 0.0;
        for x in 0..m.s {
            for u in 0..m.a {
                // The terminal state (index S) has no future.
                let future = |y: usize| v.get(y).map_or(0.0, |v| gamma * v);
                let total: f64 = (0..=m.s)
                    .map(|y| m.p[x][u][y] * (reward(x, u, y) + future(y)))
                    .sum();
                delta = delta.max((total - q[x][u]).abs());
                next[x][u] = total;
            }
        }
        q = next;
        if delta < 1e-12 {
            break;
        }
    }
    q
}

fn greedy(q: &[Vec<f64>]) -> Vec<usize> {
    q.iter()
        .map(|row| {
            (0..row.len())
                .max_by(|&i, &j| row[i].total_cmp(&row[j]))
                .unwrap()
        })
        .collect()
}

#[test]
fn potential_shaping_keeps_the_optimal_policy_for_any_potential_and_gamma() {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
    for trial in 0..30 {
        let m = random_mdp(&mut rng, 6, 3);
        let phi: Vec<f64> = (0..m.s).map(|_| rng.random_range(0.0..1.0)).collect();
        for gamma in [0.5, 0.9, 0.99] {
            let plain = q_star(&m, gamma, &|x, u, y| m.r[x][u][y]);
            let shaping = PotentialShaping {
                gamma: gamma as f32,
            };
            let shaped = q_star(&m, gamma, &|x, u, y| {
                let terminated = y == m.s;
                let next = if terminated { 0.0 } else { phi[y] };
                f64::from(
                    shaping
                        .shape(m.r[x][u][y] as f32, phi[x] as f32, next as f32, terminated)
                        .reward,
                )
            });
            for x in 0..m.s {
                for u in 0..m.a {
                    // Q'(s, a) = Q(s, a) − Φ(s) (f32 rewards: ~1e-7 each, amplified by 1/(1−γ)).
                    let expected = plain[x][u] - phi[x];
                    assert!(
                        (shaped[x][u] - expected).abs() < 1e-3,
                        "trial {trial}, γ {gamma}: Q'({x},{u}) = {} vs {expected}",
                        shaped[x][u]
                    );
                }
            }
            // Same greedy policy wherever the best action is not a near tie.
            let (a, b) = (greedy(&plain), greedy(&shaped));
            for x in 0..m.s {
                let mut sorted = plain[x].clone();
                sorted.sort_by(|p, q| q.total_cmp(p));
                if sorted[0] - sorted[1] > 1e-3 {
                    assert_eq!(a[x], b[x], "trial {trial}, γ {gamma}, state {x}");
                }
            }
        }
    }
}

#[test]
fn progress_as_reward_can_change_the_optimal_policy() {
    // Two states: from 0, action 0 finishes (reward 1, terminal); action 1 moves to state
    // 1 (Φ = 0.9, reward 0) and back. Using Φ as reward makes lingering pay.
    let m = Mdp {
        s: 2,
        a: 2,
        p: vec![
            vec![vec![0.0, 0.0, 1.0], vec![0.0, 1.0, 0.0]],
            vec![vec![1.0, 0.0, 0.0], vec![1.0, 0.0, 0.0]],
        ],
        r: vec![
            vec![vec![0.0, 0.0, 1.0], vec![0.0; 3]],
            vec![vec![0.0; 3], vec![0.0; 3]],
        ],
    };
    let phi = [0.5, 0.9];
    let gamma = 0.99;
    let plain = q_star(&m, gamma, &|x, u, y| m.r[x][u][y]);
    let trap = q_star(&m, gamma, &|x, u, y| {
        let next = if y == m.s { 0.0 } else { phi[y] };
        f64::from(progress_as_reward(m.r[x][u][y] as f32, next as f32).reward)
    });
    assert_eq!(greedy(&plain)[0], 0, "finishing is optimal");
    assert_eq!(greedy(&trap)[0], 1, "the trap prefers farming progress");
}

#[test]
fn the_shaping_telescopes_along_terminated_and_truncated_episodes() {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(11);
    let m = random_mdp(&mut rng, 5, 2);
    let phi: Vec<f32> = (0..m.s).map(|_| rng.random_range(0.0..1.0)).collect();
    let gamma = 0.97f32;
    let shaping = PotentialShaping { gamma };
    let (mut terminated_seen, mut truncated_seen) = (0, 0);
    for _ in 0..300 {
        let limit = rng.random_range(1..5);
        let mut x = rng.random_range(0..m.s);
        let start = x;
        let (mut sum, mut discount) = (0.0f64, 1.0f64);
        let mut t = 0;
        let terminated = loop {
            let u = rng.random_range(0..m.a);
            let draw: f64 = rng.random();
            let mut acc = 0.0;
            let y = (0..=m.s)
                .find(|&y| {
                    acc += m.p[x][u][y];
                    draw < acc
                })
                .unwrap_or(m.s);
            let terminated = y == m.s;
            let next = if terminated { 0.0 } else { phi[y] };
            sum += discount * f64::from(shaping.shape(0.0, phi[x], next, terminated).shaping);
            discount *= f64::from(gamma);
            t += 1;
            if terminated {
                break true;
            }
            x = y;
            if t == limit {
                break false;
            }
        };
        // γ^T Φ(s_T) − Φ(s_0), with Φ(s_T) = 0 after a termination.
        let end = if terminated { 0.0 } else { f64::from(phi[x]) };
        let expected = discount * end - f64::from(phi[start]);
        assert!((sum - expected).abs() < 1e-5, "{sum} vs {expected}");
        if terminated {
            terminated_seen += 1;
        } else {
            truncated_seen += 1;
        }
    }
    assert!(
        terminated_seen > 10 && truncated_seen > 10,
        "{terminated_seen} / {truncated_seen}"
    );
}
