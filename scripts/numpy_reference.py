#!/usr/bin/env python3
"""A vectorised NumPy loop for the ranking deviation vector g(π) (the same
closed form as src/cpu/deviation_ranking.rs), timed at the sizes of
benches/cpu_kernels.rs. Prints microseconds per population evaluation.

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
        reps = 2000
        best = min(timeit.repeat(lambda: deviation(rankings, weights, policy, k), number=reps, repeat=5)) / reps
        print(f"n{n}_m{m}_k{k}: {best * 1e6:.2f} µs")


if __name__ == "__main__":
    main()
