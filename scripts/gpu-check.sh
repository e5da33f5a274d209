#!/usr/bin/env bash
# GPU check for ualign in two steps (see docs/gpu.md):
#
#   scripts/gpu-check.sh prepare   # HERE (network, cargo): build the GPU test and
#                                  # bench binaries, strip them, and stage them with
#                                  # the Vulkan loader .debs in .gpucheck/ (git-ignored)
#   scripts/gpu-check.sh run       # ON THE LENT GPU MACHINE (no network, no cargo):
#                                  # print the adapter, run the GPU tests with CI=true
#                                  # and the GPU benchmarks, print the figures
#
# With the device tool, after `prepare`:
#   run(command="bash scripts/gpu-check.sh run", carry=[".gpucheck"], timeout_s=540)
# The figures are also written to $OUT/gpu-check.log when $OUT is set.
set -euo pipefail
cd "$(dirname "$0")/.."
STAGE=.gpucheck

prepare() {
    grep -qx "/$STAGE/" .git/info/exclude 2>/dev/null || echo "/$STAGE/" >> "$(git rev-parse --git-common-dir)/info/exclude"
    rm -rf "$STAGE" && mkdir -p "$STAGE/bin" "$STAGE/deb"
    # Test binaries (test profile) and the bench binary (bench profile).
    for t in gpu_deviation gpu_kernels gpu_selfplay; do
        exe=$(cargo test --test "$t" --no-run --message-format=json 2>/dev/null \
            | grep -o '"executable":"[^"]*"' | tail -1 | cut -d'"' -f4)
        cp "$exe" "$STAGE/bin/$t"
    done
    exe=$(cargo bench --bench gpu --no-run --message-format=json 2>/dev/null \
        | grep -o '"executable":"[^"]*"' | tail -1 | cut -d'"' -f4)
    cp "$exe" "$STAGE/bin/bench_gpu"
    strip "$STAGE"/bin/* || true
    # The Vulkan loader (the NVIDIA machine has the driver's ICD, not always the loader).
    local o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
    mkdir -p /tmp/amd64/partial
    apt-get $o update -qq >/dev/null && (cd "$STAGE/deb" && apt-get $o download libvulkan1 >/dev/null) || echo "warning: could not fetch libvulkan1; the device machine must have a Vulkan loader"
    du -sh "$STAGE"
}

run() {
    local log=${OUT:-/tmp}/gpu-check.log
    exec > >(tee "$log") 2>&1
    for f in "$STAGE"/deb/*.deb; do [ -e "$f" ] && dpkg -x "$f" /; done
    ldconfig || true
    if ! ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json >/dev/null 2>&1 && [ -e /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
        export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    fi
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null || true
    export CI=true
    echo "== GPU tests (CI=true: a missing adapter fails) =="
    local status=0
    for t in gpu_deviation gpu_kernels gpu_selfplay; do
        echo "-- $t"
        "$STAGE/bin/$t" --test-threads 1 --nocapture 2>&1 | grep -Ev '^\s*$' || status=1
    done
    echo "== GPU benchmarks (population-iterations per second) =="
    UALIGN_BENCH_ITERS=${UALIGN_BENCH_ITERS:-200} "$STAGE/bin/bench_gpu" --bench 2>&1 | grep -E 'adapter|selfplay/|thrpt|time:' || status=1
    echo "type-response evaluations per second (ranking, n = 32, m = 64) = 2048 × the ranking thrpt above"
    exit $status
}

case "${1:-}" in
    prepare) prepare ;;
    run) run ;;
    *) echo "usage: $0 prepare|run" >&2; exit 2 ;;
esac
