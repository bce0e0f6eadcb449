#!/usr/bin/env bash
# Installs what is missing, builds wsgate (normal, ASan/UBSan, TSan for the snapshot pipeline,
# fuzz), and runs every test under ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/install-deps.sh

jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWSGATE_TEST_HOOKS=ON >/dev/null
cmake --build build -j"$jobs"

# The sanitizer build must keep building; its unit tests run too (fast, no daemons).
if [ "${WSGATE_SKIP_ASAN:-0}" != 1 ]; then
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DWSGATE_SANITIZE=ON -DWSGATE_TEST_HOOKS=ON >/dev/null
	cmake --build build-asan -j"$jobs"
	(cd build-asan && ctest --output-on-failure -L unit -j"$jobs")
fi

# The one multi-threaded part (transfer/copyhash.c: reader, hasher, writer) under ThreadSanitizer.
if [ "${WSGATE_SKIP_TSAN:-0}" != 1 ]; then
	cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DWSGATE_TSAN=ON >/dev/null
	cmake --build build-tsan -j"$jobs" --target test_transfer_copyhash
	(cd build-tsan && ctest --output-on-failure -R unit_transfer_copyhash)
fi

# Fuzz targets must keep building (clang + libFuzzer); each gets a short smoke run.
if [ "${WSGATE_SKIP_FUZZ:-0}" != 1 ]; then
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DWSGATE_FUZZ=ON -DWSGATE_TEST_HOOKS=ON >/dev/null
	fuzz_targets=$(sed -n 's/^wsgate_fuzz_target(\([a-z_]*\).*/\1/p' tests/fuzz/CMakeLists.txt)
	# shellcheck disable=SC2086
	cmake --build build-fuzz -j"$jobs" --target $fuzz_targets
	(cd build-fuzz && ctest --output-on-failure -L fuzz -j"$jobs")
fi

cd build
ctest --output-on-failure --timeout 900 -j"$jobs" "$@"
