#!/usr/bin/env python3
"""Shares of a `ualign solve --populations` run spent loading, printing and
solving, from `perf script` output with call stacks on standard input:

    perf record --call-graph dwarf,16384 -F 1000 -o perf.data \\
        ualign solve --populations pops.jsonl --k 4 --backend cpu --dynamics pga > out
    perf script -i perf.data | python3 scripts/perf_io_share.py

Each sample goes to the first category whose pattern occurs anywhere in its
stack (a `malloc` under the parser is loading, one under the solver is
solving). The solver's own check of its input (`Population::validate` called
by `dynamics::solve_batch`, not by the parser: the solver's first read of
each population) is shown apart, so either reading of "validation" can be
taken.
"""

import re
import sys
from collections import Counter

OTHER = "other (start-up, idle threads, freeing results)"

# (name, pattern that puts a stack in it, pattern that keeps it out).
CATEGORIES = [
    # (serde_json::value and analyse::*_json: the value trees older builds
    # printed from, so a before/after comparison classifies both alike.)
    ("printing", r"cli::output|cli::records|json_block|serde_json::ser|zmij|serde_json::value|analyse::\w+_json", None),
    # Validation outside the parser: the solver's first read of each population.
    ("solver input check", r"Population::validate", r"population::json|normalised_population"),
    ("solving", r"dynamics::run|cpu::selfplay|deviation_into|project_simplex"
                r"|Evaluation::from_deviation|Solution::from_evaluated_run", None),
    # Reading, parsing and validating lines (and dropping populations).
    ("loading", r"population::|stream::Chunks|serde_json::de", None),
]


def category(stack):
    for name, inside, outside in CATEGORIES:
        if re.search(inside, stack) and not (outside and re.search(outside, stack)):
            return name
    return OTHER


def main():
    counts = Counter()
    stack = []
    for line in list(sys.stdin) + [""]:
        if line.strip():
            stack.append(line.strip())
            continue
        if len(stack) > 1:
            text = "\n".join(stack[1:])
            counts[category(text)] += 1
        stack = []
    total = sum(counts.values())
    for name in [c[0] for c in CATEGORIES] + [OTHER]:
        print(f"{name:50} {counts[name]:6d} {100 * counts[name] / total:5.1f} %")
    io = counts["loading"] + counts["printing"]
    check = counts["solver input check"]
    print(f"{'loading + printing':50} {io:6d} {100 * io / total:5.1f} %")
    print(f"{'loading + printing + solver input check':50} {io + check:6d} {100 * (io + check) / total:5.1f} %")
    print(f"{'samples':50} {total:6d}")


if __name__ == "__main__":
    main()
