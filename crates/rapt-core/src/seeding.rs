use rand::SeedableRng;

/// The random number generator every env and space uses: PCG-64 (MCG variant), fast,
/// small, and stable across `rand` releases, so a seed means the same thing forever.
pub type Rng = rand_pcg::Pcg64Mcg;

/// A generator for `seed`. The seed is spread with SplitMix64 so that nearby seeds
/// (0, 1, 2, ...) give unrelated streams.
pub fn rng_from_seed(seed: u64) -> Rng {
    Rng::seed_from_u64(splitmix64(seed))
}

/// Largest seed a user may give (2⁶²): every seed rapt derives from it (`seed + i` per
/// sub-env and episode, the evaluation offset 10⁹, ranks' offsets) stays below 2⁶⁴, so no
/// seed wraps around onto another run's episodes.
pub const MAX_SEED: u64 = 1 << 62;

/// The seed of sub-environment `index` when a vector env is reset with `seed`:
/// `seed + index`, as Gymnasium's vector envs do, so sub-env 0 of a batch seeded with `s`
/// replays a single env seeded with `s`.
pub fn sub_env_seed(seed: u64, index: usize) -> u64 {
    seed.wrapping_add(index as u64)
}

/// SplitMix64's increment (2⁶⁴ / φ).
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// One SplitMix64 output for state `x`: a well-mixed 64-bit value.
pub fn splitmix64(x: u64) -> u64 {
    mix64(x.wrapping_add(GOLDEN_GAMMA))
}

/// A fixed, well-mixed 64-bit hash of (`seed`, `index`): SplitMix64's finalizer of
/// `seed ^ index·γ`. The one seeded hash rapt uses wherever a draw must depend on a seed
/// and a counter alone (the PPO update's torch seed, a reward-model dataset's
/// training/validation split), so that resuming or reordering reproduces it.
pub fn seeded_hash(seed: u64, index: u64) -> u64 {
    mix64(seed ^ index.wrapping_mul(GOLDEN_GAMMA))
}

/// SplitMix64's output function (Stafford's variant 13).
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
