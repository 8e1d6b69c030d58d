#!/usr/bin/env bash
# Builds the example firmware for 1, 2 and 4 call slots at opt-level "z"
# and "s", as the complete phone and as the minimal one (transfer and media
# timing, the core's optional usages left out), and prints flash and RAM of
# each image as Markdown tables.
#
#   shims/baremetal/footprint.sh            # the tables of docs/footprint.md
#   shims/baremetal/footprint.sh --json     # one JSON line per image
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

build() { # opt-level, features
    # Gone first, so a build cargo finds fresh still puts this
    # configuration's image here, never the previous one's.
    rm -f "$elf"
    (cd "$fw" && CARGO_PROFILE_RELEASE_OPT_LEVEL="$1" \
        cargo build --release -q --no-default-features --features "$2")
}

row() { # json, calls, opt
    python3 - "$@" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
kib = lambda n: f"{n / 1024:.1f} KiB"
print(f"| {sys.argv[2]} | \"{sys.argv[3]}\" | {kib(d['flash'])} | {kib(d['data'] + d['bss'])} "
      f"| {kib(d['stack_run'])} | {kib(d['stack_boot'] or 0)} | {kib(d['ram'])} |")
PY
}

parts() { # json
    python3 - "$1" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
print()
print("| part (4 calls) | bytes |")
print("|:---|---:|")
for name, size in (d["parts"] or {}).items():
    print(f"| {name} | {size} |")
print()
print("| flash by module (4 calls, \"z\") | bytes |")
print("|:---|---:|")
for name, size in d["flash_by_module"].items():
    print(f"| {name} | {size} |")
print()
print("Deepest run-loop chain (frame bytes):")
print()
for f in d["run_chain"]:
    print(f"- `{f}`")
print()
print("Largest stack frames (bytes):")
print()
for f in d["frames"]:
    print(f"- `{f}`")
if d["recursive"]:
    print()
    print("Recursion (each cycle counted once in the bound):")
    print()
    for f in d["recursive"]:
        print(f"- `{f}`")
PY
}

for phone in full minimal; do
    # The complete phone has the firmware's `full` feature.
    extra=""
    [ "$phone" = full ] && extra=",full"
    $json || {
        echo
        echo "$phone phone:"
        echo
        echo "| calls | opt-level | flash | .data + .bss | stack, run loop | stack, boot | RAM |"
        echo "|---:|:---:|---:|---:|---:|---:|---:|"
    }
    for opt in z s; do
        for calls in 1 2 4; do
            build "$opt" "calls-$calls$extra"
            line="$(python3 "$here/footprint.py" "$objdump" "$elf")"
            if $json; then
                python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["calls"]=int(sys.argv[2]); d["opt"]=sys.argv[3]; d["phone"]=sys.argv[4]; print(json.dumps(d))' "$line" "$calls" "$opt" "$phone"
            else
                row "$line" "$calls" "$opt"
            fi
        done
    done
done

# Where the RAM goes: the size of each part of a 4-call phone on this target.
build z "calls-4,full,size-report"
line="$(python3 "$here/footprint.py" "$objdump" "$elf")"
if $json; then echo "$line"; else parts "$line"; fi
