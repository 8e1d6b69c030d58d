#!/usr/bin/env bash
# Builds the example firmware for 1, 2 and 4 call slots at opt-level "z"
# and "s" and prints flash and RAM of each image as a Markdown table.
#
#   shims/baremetal/footprint.sh            # the table of docs/footprint.md
#   shims/baremetal/footprint.sh --json     # one JSON line per image, with
#                                           # the deepest stack chain
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fw="$here/firmware"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$fw/target}"
rustup target add thumbv7em-none-eabihf >/dev/null 2>&1 || true

# A disassembler that knows Thumb-2: LLVM's (Debian llvm, or rustup's
# llvm-tools component) or GNU's arm-none-eabi one.
objdump=""
sysroot_bin="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin"
for cand in llvm-objdump "$sysroot_bin/llvm-objdump" arm-none-eabi-objdump $(compgen -c llvm-objdump- | sort -u); do
    if command -v "$cand" >/dev/null 2>&1; then objdump="$(command -v "$cand")"; break; fi
done
if [ -z "$objdump" ]; then
    rustup component add llvm-tools >/dev/null 2>&1 || true
    [ -x "$sysroot_bin/llvm-objdump" ] && objdump="$sysroot_bin/llvm-objdump"
fi
[ -n "$objdump" ] || { echo "no Thumb-2 disassembler found (install llvm or binutils-arm-none-eabi)" >&2; exit 1; }

json=false
[ "${1:-}" = "--json" ] && json=true
elf="$CARGO_TARGET_DIR/thumbv7em-none-eabihf/release/handset-firmware-example"

$json || {
    echo "| calls | opt-level | flash (.text+.rodata+.data) | .data+.bss | stack (bound) | RAM total |"
    echo "|---:|:---:|---:|---:|---:|---:|"
}
for opt in z s; do
    for calls in 1 2 4; do
        (cd "$fw" && CARGO_PROFILE_RELEASE_OPT_LEVEL="$opt" \
            cargo build --release -q --no-default-features --features "calls-$calls")
        line="$(python3 "$here/footprint.py" "$objdump" "$elf")"
        if $json; then
            python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["calls"]=int(sys.argv[2]); d["opt"]=sys.argv[3]; print(json.dumps(d))' "$line" "$calls" "$opt"
        else
            python3 - "$line" "$calls" "$opt" <<'EOF'
import json, sys
d = json.loads(sys.argv[1])
kib = lambda n: f"{n / 1024:.1f} KiB"
print(f"| {sys.argv[2]} | \"{sys.argv[3]}\" | {kib(d['flash'])} | {kib(d['data'] + d['bss'])} "
      f"| {kib(d['stack'])} | {kib(d['ram'])} |")
EOF
        fi
    done
done
