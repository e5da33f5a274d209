#!/usr/bin/env python3
"""A vectorised NumPy loop for the ranking deviation vector g(π) (the same
closed form as src/cpu/deviation_ranking.rs), timed at the sizes of
benches/cpu_kernels.rs. Prints microseconds per population evaluation, for
one population per call and for a batch of populations per call (vectorised
over populations too, as a researcher evaluating many populations would
write it: the fair baseline).

    python3 scripts/numpy_reference.py
"""
import timeit

import numpy as np


def deviation(rankings, weights, policy, k):
    """g(π)(y) for every y: rankings is (m, n) best first, weights (m,)."""
    p = policy[rankings]                                   # π of each rank position
    below = np.cumsum(p[:, ::-1], axis=1)[:, ::-1] - p     # mass strictly below
    at_or_below = below + p
    acc = np.ones_like(p)                                  # Σ_i L^i B^{k-i}, Horner in B
    l_pow = np.ones_like(p)
    for _ in range(k):
        l_pow *= at_or_below
        acc = acc * below + l_pow
    contrib = (weights[:, None] * acc).ravel() / (k + 1)
    return np.bincount(rankings.ravel(), weights=contrib, minlength=policy.size)


def deviation_batch(rankings, weights, policies, k):
    """g(π)(y) for a batch: rankings (P, m, n), weights (P, m), policies (P, n)."""
    count, _, n = rankings.shape
    p = np.take_along_axis(policies[:, None, :], rankings, axis=2)
    below = np.cumsum(p[:, :, ::-1], axis=2)[:, :, ::-1] - p
    at_or_below = below + p
    acc = np.ones_like(p)
    l_pow = np.ones_like(p)
    for _ in range(k):
        l_pow *= at_or_below
        acc *= below
        acc += l_pow
    contrib = (weights[:, :, None] * acc).ravel() / (k + 1)
    slots = (rankings + n * np.arange(count)[:, None, None]).ravel()
    return np.bincount(slots, weights=contrib, minlength=count * n).reshape(count, n)


def main():
    rng = np.random.default_rng(12)
    for n, m, k in [(16, 8, 4), (16, 32, 4), (16, 32, 32), (32, 16, 8), (64, 64, 16), (256, 64, 64)]:
        rankings = np.array([rng.permutation(n) for _ in range(m)])
        weights = np.full(m, 1.0 / m)
        policy = rng.uniform(0.05, 1.0, n)
        policy /= policy.sum()
        g = deviation(rankings, weights, policy, k)
        # The sum rule Σ_y π(y) g(π)(y) = 1/(k+1) checks the loop.
        assert abs(policy @ g - 1.0 / (k + 1)) < 1e-12
        reps = 200 if n * m * k > 100_000 else 2000
        best = min(timeit.repeat(lambda: deviation(rankings, weights, policy, k), number=reps, repeat=5)) / reps
        # A batch of about 2^14 rank entries (arrays that stay in cache: larger
        # batches measured slower per population on this machine).
        count = max(1, (1 << 14) // (m * n))
        batch = np.array([[rng.permutation(n) for _ in range(m)] for _ in range(count)])
        batch_w = np.full((count, m), 1.0 / m)
        batch_pi = rng.uniform(0.05, 1.0, (count, n))
        batch_pi /= batch_pi.sum(axis=1, keepdims=True)
        gb = deviation_batch(batch, batch_w, batch_pi, k)
        assert np.all(np.abs(np.einsum("pn,pn->p", batch_pi, gb) - 1.0 / (k + 1)) < 1e-12)
        assert np.allclose(gb[0], deviation(batch[0], batch_w[0], batch_pi[0], k), rtol=0, atol=1e-14)
        batch_best = min(timeit.repeat(lambda: deviation_batch(batch, batch_w, batch_pi, k), number=3, repeat=3)) / 3
        print(
            f"n{n}_m{m}_k{k}: {best * 1e6:.2f} µs per call, "
            f"{batch_best / count * 1e6:.3f} µs per population in batches of {count}"
        )


if __name__ == "__main__":
    main()
