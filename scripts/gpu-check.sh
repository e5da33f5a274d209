#!/usr/bin/env bash
# GPU check for ualign (see docs/gpu.md):
#
#   scripts/gpu-check.sh prepare   # HERE (cargo, network for one .deb): build the GPU
#                                  # test binaries and the GPU bench, check each is the
#                                  # target its name says, strip them, stage them with
#                                  # the Vulkan loader .deb in .gpucheck/ (git-ignored)
#   scripts/gpu-check.sh run       # ON THE GPU MACHINE (no network, no cargo): print the
#                                  # adapter, run the GPU tests with CI=true, run the
#                                  # benchmarks, print one summary table
#   scripts/gpu-check.sh dry-run   # HERE: `run` on the staged binaries against whatever
#                                  # adapter this machine has (lavapipe), sized down, with
#                                  # OUT set, so the script is tested before a GPU sees it
#
# On the GPU machine, from a copy of the repository that carries .gpucheck/:
#   bash scripts/gpu-check.sh run
# Everything printed is also written to $OUT/gpu-check.log when $OUT is set.
set -euo pipefail
cd "$(dirname "$0")/.."
STAGE=.gpucheck
TESTS="gpu_deviation gpu_equilibrium gpu_kernels gpu_selfplay"
BENCH=gpu

# Cargo's JSON messages -> "kind name executable" per built executable.
executables() {
    jq -r 'select(.reason == "compiler-artifact" and .executable != null)
           | "\(.target.kind[0]) \(.target.name) \(.executable)"'
}

# Copies the executable of target $2 of kind $1 (from the list on stdin) to $3.
stage() {
    local exe
    exe=$(awk -v kind="$1" -v name="$2" '$1 == kind && $2 == name { print $3 }')
    [ -n "$exe" ] && [ -x "$exe" ] || { echo "error: cargo built no $1 target '$2'" >&2; exit 1; }
    cp "$exe" "$3"
}

# Each staged binary must be the target its name says: a test binary lists
# exactly the #[test] functions of tests/NAME.rs; the bench holds its cases.
verify() {
    local t
    for t in $TESTS; do
        diff <("$STAGE/bin/$t" --list 2>/dev/null | sed -n 's/: test$//p' | sort) \
            <(awk '/^#\[test\]/ { t = 1; next } t && /^fn / { sub(/^fn /, ""); sub(/\(.*/, ""); print; t = 0 }' \
                "tests/$t.rs" | sort) \
            || { echo "error: $STAGE/bin/$t does not hold exactly the tests of tests/$t.rs" >&2; return 1; }
    done
    grep -aq 'ranking_n32_m64_k4' "$STAGE/bin/bench_$BENCH" \
        || { echo "error: $STAGE/bin/bench_$BENCH is not the $BENCH bench" >&2; return 1; }
    echo "staged binaries verified: $TESTS bench_$BENCH"
}

prepare() {
    command -v jq >/dev/null || { echo "error: prepare needs jq to read cargo's JSON messages" >&2; exit 1; }
    grep -qx "/$STAGE/" "$(git rev-parse --git-common-dir)/info/exclude" 2>/dev/null \
        || echo "/$STAGE/" >> "$(git rev-parse --git-common-dir)/info/exclude"
    rm -rf "$STAGE" && mkdir -p "$STAGE/bin" "$STAGE/deb"
    local built args=()
    for t in $TESTS; do args+=(--test "$t"); done
    built=$(cargo test --no-run --message-format=json "${args[@]}" | executables)
    for t in $TESTS; do stage test "$t" "$STAGE/bin/$t" <<<"$built"; done
    built=$(cargo bench --no-run --message-format=json --bench "$BENCH" | executables)
    stage bench "$BENCH" "$STAGE/bin/bench_$BENCH" <<<"$built"
    strip "$STAGE"/bin/*
    # The Vulkan loader and GL dispatch libraries the NVIDIA ICD links against (a GPU
    # container has the driver, not always these).
    local o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
    mkdir -p /tmp/amd64/partial
    apt-get $o update -qq >/dev/null && (cd "$STAGE/deb" && apt-get $o download libvulkan1 libglvnd0 libegl1 libgl1 libglx0 libopengl0 >/dev/null) \
        || echo "warning: could not fetch libvulkan1; the GPU machine must have a Vulkan loader"
    verify
    du -sh "$STAGE"
}

run() {
    mkdir -p "${OUT:-/tmp}"
    local log=${OUT:-/tmp}/gpu-check.log
    exec > >(tee "$log") 2>&1
    if [ "${1:-}" != dry ]; then
        for f in "$STAGE"/deb/*.deb; do [ -e "$f" ] && dpkg -x "$f" /; done
        ldconfig || true
        # NVIDIA containers keep the driver's ICD outside the loader's search path.
        local icd
        for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
            /etc/vulkan/icd.d/nvidia_icd.json; do
            [ -e "$icd" ] && { export VK_DRIVER_FILES=$icd; break; }
        done
        echo "Vulkan ICD: ${VK_DRIVER_FILES:-loader default}; loader: $(ldconfig -p | grep -o 'libvulkan.so.1 .*' | head -1)"
    fi
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null || true
    verify
    export CI=true
    echo "== GPU tests (CI=true: a missing adapter or a refused batch fails) =="
    local status=0 t
    for t in $TESTS; do
        echo "-- $t"
        "$STAGE/bin/$t" --test-threads 1 --nocapture 2>&1 | grep -Ev '^\s*$' || status=1
    done
    echo "== GPU benchmarks and summary =="
    CRITERION_HOME="${OUT:-/tmp}/criterion" "$STAGE/bin/bench_$BENCH" --bench 2>&1 \
        | grep -Ev '^\s*$|^(Benchmarking|Found|  [0-9]+ \(|Warning|.*change:|.*No change|.*Performance has)' || status=1
    echo "gpu-check: exit $status"
    exit $status
}

case "${1:-}" in
    prepare) prepare ;;
    run) run ;;
    dry-run)
        # lavapipe is ~300x slower than a CPU: small sizes (the bench's software defaults).
        export OUT=${OUT:-/tmp/gpu-check-dry}
        run dry
        ;;
    *) echo "usage: $0 prepare|run|dry-run" >&2; exit 2 ;;
esac
