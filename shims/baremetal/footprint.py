#!/usr/bin/env python3
"""Flash, RAM and worst-case stack of a Cortex-M ELF image.

usage: footprint.py OBJDUMP ELF  -> prints one JSON object

Flash = .vector_table + .text + .rodata + .data (its initial values live in
flash). RAM = .data + .bss + .uninit + the deepest call chain's stack.

The stack bound comes from the machine code: each function's frame is the
deepest its pushes and `sub sp` reach, calls are `bl`/`b.w` to symbols, and
an indirect call (`blx rN`) is assumed to reach the deepest function whose
address is stored anywhere in the image (vtables, function pointers).
Recursion is reported, not followed.
"""
import json
import re
import struct
import subprocess
import sys


def sections(path):
    data = open(path, "rb").read()
    if data[:4] != b"\x7fELF" or data[4] != 1:
        sys.exit("not a 32-bit ELF file")
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
    heads = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize) for i in range(shnum)]
    names_off = heads[shstrndx][4]
    out = {}
    for name, typ, flags, addr, off, size, *_ in heads:
        end = data.index(b"\0", names_off + name)
        out[data[names_off + name:end].decode()] = {
            "type": typ, "addr": addr, "size": size,
            # SHT_NOBITS (.bss) has no bytes in the file.
            "bytes": data[off:off + size] if typ != 8 else b"",
        }
    return out


PUSH = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")
FUNC = re.compile(r"^([0-9a-f]+) <(.+)>:$")


def reglist_bytes(operands):
    regs = operands[operands.find("{") + 1:operands.find("}")]
    count = 0
    for part in regs.split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = part.split("-")
            count += int(hi.strip()[1:]) - int(lo.strip()[1:]) + 1
        elif part:
            count += 1
    return count * (8 if regs.strip().startswith("d") else 4)


def imm(operands):
    m = re.search(r"#(0x[0-9a-f]+|\d+)", operands)
    return int(m.group(1), 0) if m else None


def analyse(objdump, elf):
    text = subprocess.run([objdump, "-d", "--no-show-raw-insn", elf],
                          check=True, capture_output=True, text=True).stdout
    funcs = {}          # name -> {"addr", "frame", "calls", "indirect", "dynamic"}
    by_addr = {}
    # Words of the literal pools in `.text` (shown as `.word`): only these,
    # not the instructions, can hold a function's address.
    literals = set()
    cur = None
    depth = 0
    for line in text.splitlines():
        m = FUNC.match(line)
        # `$t`/`$d` mark code and literal data inside a function.
        if m and not m.group(2).startswith("$"):
            cur = {"name": m.group(2), "addr": int(m.group(1), 16), "frame": 0, "calls": set(),
                   "indirect": False, "dynamic": False}
            funcs[m.group(2)] = cur
            by_addr[cur["addr"]] = m.group(2)
            depth = 0
            continue
        m = PUSH.match(line)
        if FUNC.match(line) or not m or cur is None:
            continue
        op, operands = m.group(2), m.group(3)
        if op == ".word":
            word = re.match(r"0x[0-9a-f]+", operands)
            if word:
                literals.add(int(word.group(0), 16))
            continue
        base = op.split(".")[0]
        if base in ("push", "vpush") or (base == "stmdb" and operands.startswith("sp!")):
            depth += reglist_bytes(operands)
        elif base in ("pop", "vpop") or (base == "ldmia" and operands.startswith("sp!")):
            depth = max(0, depth - reglist_bytes(operands))
        elif base in ("sub", "subw") and operands.startswith("sp"):
            n = imm(operands)
            if n is None:
                cur["dynamic"] = True
            else:
                depth += n
        elif base in ("add", "addw") and operands.startswith("sp, "):
            n = imm(operands)
            if n is not None:
                depth = max(0, depth - n)
        elif base == "str" and "[sp, #-" in operands and operands.endswith("]!"):
            depth += abs(imm(operands.split("[sp,")[1]) or 0)
        elif base in ("bl", "b", "blx"):
            t = re.search(r"<([^>+]+)>", operands)
            if base == "blx" and not t:
                cur["indirect"] = True
            elif t and t.group(1) != cur["name"]:
                # `bl` is a call; `b`/`b.w` to another symbol's start is a
                # tail call, counted as a call (an upper bound).
                cur["calls"].add(t.group(1))
        cur["frame"] = max(cur["frame"], depth)
    return funcs, by_addr, literals


def readable(name):
    """A legacy-mangled Rust symbol (`_ZN..17h<hash>E`) as a path, without
    the hash; other names as they are."""
    if not name.startswith("_ZN"):
        return name
    parts, i = [], 3
    while i < len(name) and name[i].isdigit():
        j = i
        while name[j].isdigit():
            j += 1
        n = int(name[i:j])
        parts.append(name[j:j + n])
        i = j + n
    if parts and re.fullmatch(r"h[0-9a-f]{16}", parts[-1]):
        parts.pop()
    path = "::".join(p[1:] if p.startswith("_$") else p for p in parts)
    for code, text in (("$LT$", "<"), ("$GT$", ">"), ("$C$", ","), ("$u20$", " "),
                       ("$RF$", "&"), ("$BP$", "*"), ("..", "::")):
        path = path.replace(code, text)
    return path


def address_taken(secs, by_addr, literals):
    # Not the vector table: exception handlers are entered by hardware.
    # In `.text` only the literal pools: a pair of instructions can look
    # like an address by chance.
    words = set(literals)
    for name in (".rodata", ".data"):
        blob = secs.get(name, {}).get("bytes", b"")
        for i in range(0, len(blob) - 3, 4):
            words.add(struct.unpack_from("<I", blob, i)[0])
    return {by_addr[w & ~1] for w in words if w & 1 and (w & ~1) in by_addr}


def deepest(funcs, taken):
    memo, recursive = {}, set()
    on_path = set()
    indirect_cost = [None]

    def cost(name):
        if name in memo:
            return memo[name]
        if name in on_path:
            recursive.add(name)
            return 0
        f = funcs.get(name)
        if f is None:
            return 0
        on_path.add(name)
        best = 0
        for callee in f["calls"]:
            best = max(best, cost(callee))
        if f["indirect"]:
            if indirect_cost[0] is None:
                indirect_cost[0] = 0  # breaks cycles through vtables
                indirect_cost[0] = max((cost(t) for t in taken), default=0)
            best = max(best, indirect_cost[0])
        on_path.discard(name)
        memo[name] = f["frame"] + best
        return memo[name]

    entry = "main" if "main" in funcs else "Reset"
    total = cost(entry)
    # The firmware's one-off construction and its run loop, when it keeps
    # them in separate functions.
    phases = {}
    for phase in ("boot", "step"):
        for n in funcs:
            if re.search(r"firmware_example\d*" + phase + r"17h", n):
                phases[phase] = cost(n)
    def chain_of(root):
        chain, name = [], root
        seen = set()
        while name in funcs and name not in seen:
            seen.add(name)
            f = funcs[name]
            chain.append(f"{readable(name)} ({f['frame']})")
            options = list(f["calls"]) + (sorted(taken) if f["indirect"] else [])
            nxt = max(options, key=lambda c: memo.get(c, 0), default=None)
            if nxt is None or memo.get(nxt, 0) == 0 or memo.get(name, 0) - f["frame"] <= 0:
                break
            name = nxt
        return chain

    step = next((n for n in funcs if re.search(r"firmware_example\d*step17h", n)), entry)
    chain = chain_of(step)
    dynamic = sorted(n for n, f in funcs.items() if f["dynamic"] and n in memo)
    return total, phases, chain, sorted(recursive), dynamic


SIZE_NAMES = [
    "runner with phone (whole static)", "Phone", "transaction table",
    "one transaction", "call slots", "one media stream", "one SDP session",
    "dialog table", "outbox", "registration", "runner outside the phone",
    "configuration", "events queue", "media-out queue", "policy",
    "feature timers", "conference", "transfers", "message waiting",
    "INFO DTMF queue", "rest of Phone (counters, handles, padding)", "one event",
]


def part_sizes(objdump, elf, secs):
    """The FOOTPRINT_SIZES array an image built with `size-report` holds."""
    table = subprocess.run([objdump, "-t", elf], check=True, capture_output=True, text=True).stdout
    for line in table.splitlines():
        if line.rstrip().endswith(" FOOTPRINT_SIZES"):
            addr = int(line.split()[0], 16)
            for sec in secs.values():
                if sec["bytes"] and sec["addr"] <= addr < sec["addr"] + sec["size"]:
                    off = addr - sec["addr"]
                    vals = struct.unpack_from(f"<{len(SIZE_NAMES)}I", sec["bytes"], off)
                    return dict(zip(SIZE_NAMES, vals))
    return None


def flash_by_module(objdump, elf):
    """Bytes of code and constants per module, by symbol; code inlined into
    a caller counts for the caller's module."""
    table = subprocess.run([objdump, "-t", "-C", elf], check=True, capture_output=True, text=True).stdout
    groups = {}
    for line in table.splitlines():
        parts = line.split()
        if len(parts) < 6 or parts[3] not in (".text", ".rodata"):
            continue
        size = int(parts[4], 16)
        # Legacy-mangled names keep `..` for `::` after demangling.
        name = " ".join(parts[5:]).replace("..", "::")
        m = re.search(r"handset_core::(\w+)", name)
        if m:
            key = "handset_core::" + m.group(1)
        elif "handset_baremetal" in name or "handset_firmware_example" in name:
            key = "runner, driver, firmware"
        elif re.search(r"\b(md5|sha2|digest|block_buffer)\b", name):
            key = "md-5, sha2"
        elif re.search(r"\bcore::", name):
            key = "core (fmt, net, str, ...)"
        elif "heapless::" in name:
            key = "heapless"
        elif ".Lanon" in name:
            key = "constants (unnamed)"
        elif "compiler_builtins" in name or name.startswith("__aeabi") or name.startswith("mem"):
            key = "compiler_builtins"
        else:
            key = "other"
        groups[key] = groups.get(key, 0) + size
    return dict(sorted(groups.items(), key=lambda kv: -kv[1]))


def main():
    objdump, elf = sys.argv[1], sys.argv[2]
    secs = sections(elf)
    size = lambda n: secs.get(n, {}).get("size", 0)
    funcs, by_addr, literals = analyse(objdump, elf)
    stack, phases, chain, recursive, dynamic = deepest(funcs, address_taken(secs, by_addr, literals))
    # Exceptions (HardFault, SysTick, ...) stack 8 words on entry, or 26
    # with the FPU context, on top of the deepest thread-mode chain.
    exception_frame = 26 * 4
    result = {
        "text": size(".vector_table") + size(".text"),
        "rodata": size(".rodata"),
        "data": size(".data"),
        "bss": size(".bss") + size(".uninit"),
        "stack": stack + exception_frame,
        "stack_boot": phases.get("boot", 0) + exception_frame,
        "stack_run": phases.get("step", stack) + exception_frame,
        "run_chain": chain,
        "recursive": [readable(n) for n in recursive],
        "dynamic_sp": dynamic,
    }
    # The largest frames: where a stack cut pays most.
    result["frames"] = [f"{readable(f['name'])} ({f['frame']})"
                        for f in sorted(funcs.values(), key=lambda f: -f["frame"])[:12]]
    result["parts"] = part_sizes(objdump, elf, secs)
    result["flash_by_module"] = flash_by_module(objdump, elf)
    result["flash"] = result["text"] + result["rodata"] + result["data"]
    result["ram"] = result["data"] + result["bss"] + result["stack"]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
