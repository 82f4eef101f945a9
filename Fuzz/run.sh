#!/usr/bin/env bash
# Builds a libFuzzer target with swiftc -sanitize=fuzzer,address and runs it.
#   Fuzz/run.sh record [seconds]     the record decoder and store recovery
#   Fuzz/run.sh commands [seconds]   the command line and the input rules
# A crash leaves its input in Fuzz/artifacts/; replay it with: .build/fuzz/<target> <file>
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-record}
seconds=${2:-60}
out=.build/fuzz
mkdir -p "$out" Fuzz/artifacts "Fuzz/corpus/$target"
flags=(-O -g -sanitize=fuzzer,address -parse-as-library -I "$out" -I Sources/CDeflate -I Sources/CCrypto)

module() { # name, sources...
    local name=$1; shift
    swiftc "${flags[@]}" -wmo -module-name "$name" -emit-module -emit-module-path "$out/$name.swiftmodule" \
        -c "$@" -o "$out/$name.o"
}
module EventSourcing Sources/EventSourcing/*.swift
module Bank Sources/Bank/*.swift
objects=("$out/EventSourcing.o" "$out/Bank.o")
case "$target" in
    record) source=Fuzz/RecordFuzzer.swift ;;
    commands)
        module TallyCLI Sources/TallyCLI/*.swift
        objects+=("$out/TallyCLI.o")
        source=Fuzz/CommandFuzzer.swift ;;
    *) echo "unknown target $target (record or commands)" >&2; exit 2 ;;
esac
swiftc "${flags[@]}" "$source" "${objects[@]}" -ldeflate -lcrypto -o "$out/fuzz-$target"
# Seed the record corpus with real records (a demo store without its header) when tally is built.
if [ "$target" = record ] && [ -z "$(ls -A Fuzz/corpus/record)" ] && [ -x .build/debug/tally ]; then
    seed=$(mktemp -u)
    .build/debug/tally demo --events 12 --store "$seed" > /dev/null
    tail -c +17 "$seed" > Fuzz/corpus/record/demo-store
    rm -f "$seed"
fi
"$out/fuzz-$target" -max_total_time="$seconds" -artifact_prefix=Fuzz/artifacts/ -print_final_stats=1 "Fuzz/corpus/$target"
