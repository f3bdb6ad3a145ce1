#!/usr/bin/env python3
"""Fails where the linker could run one instruction set's code in another's place.

    scripts/check-isa-symbols.py BUILD_DIR

Per-ISA kernel files are compiled with their own flags (-mavx512f, -march=armv8.2-a+dotprod, ...). An
inline function or template instantiation that two files with different flags both emit out of line is a
weak symbol with one name, and the linker keeps one copy of it for the whole program: which one depends
on link order. If the copies differ, callers compiled for one instruction set may run the code compiled
for another: on a CPU without it, an illegal instruction; where the compiler made ISA-specific
assumptions (a vector type's upper lanes), wrong results. Stop 55's CI rehearsal failed that way (an
AVX2 constructor merged into AVX-512 code). The cure is internal linkage (an unnamed namespace, static)
or a name of its own per ISA for what such files share.

Every object in BUILD_DIR's compile_commands.json is grouped by its instruction-set flags (-m..., -march=).
A weak function defined by objects of two or more groups is merged across them, so each copy compiled
with instruction-set flags must use only the architecture's baseline instructions (x86-64: SSE2;
aarch64: Armv8.0-A): then whichever copy the linker keeps runs on every CPU, for every caller. nm and
objdump are the build's own (CMakeCache.txt), so a cross build is checked with its toolchain's tools.
"""

import collections
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path


def cache_tool(build: Path, name: str, default: str) -> str:
    for line in (build / "CMakeCache.txt").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split("=", 1)[1] or default
    return default


def isa_flags(arguments: list[str]) -> tuple[str, ...]:
    """The flags that select instructions; -mtune and friends only schedule them."""
    return tuple(sorted(a for a in arguments if (a.startswith("-m") and not a.startswith(("-mtune", "-mllvm")))
                        or a.startswith("-march=") or a.startswith("-mcpu=")))


def objects_by_flags(build: Path) -> dict[Path, tuple[str, ...]]:
    objects = {}
    for entry in json.loads((build / "compile_commands.json").read_text()):
        arguments = entry.get("arguments") or shlex.split(entry["command"])
        if "-o" not in arguments:
            continue
        output = Path(entry["directory"]) / arguments[arguments.index("-o") + 1]
        if output.suffix == ".o" and output.exists():
            objects[output] = isa_flags(arguments)
    return objects


def weak_functions(nm: str, objects: list[Path]) -> dict[Path, set[str]]:
    """The weak functions each object defines (nm type W; weak data is V). One nm for all of them: a few hundred processes would cost more than the work."""
    listing = subprocess.run([nm, "--defined-only", "-P", "-A", *map(str, objects)], check=True,
                             capture_output=True, text=True).stdout
    weak = collections.defaultdict(set)
    for line in listing.splitlines():
        # "path.o: symbol W value size" (-A names the file; symbols have no spaces)
        path, _, rest = line.rpartition(": ")
        fields = rest.split()
        if len(fields) >= 2 and fields[1] == "W":
            weak[Path(path)].add(fields[0])
    return weak


# objdump -t -w: "address flags section size [visibility] name", the flags a fixed 7 columns (" w    F" is
# a weak function); a visibility other than default comes before the name (clang's ".hidden
# __clang_call_terminate").
SYMBOL_ENTRY = re.compile(r"^([0-9a-f]+) (.{7}) (\S+)\s+([0-9a-f]+) (?:\.hidden |\.protected |\.internal )?(\S+)$")
SECTION_START = re.compile(r"^Disassembly of section (\S+):$")
INSTRUCTION = re.compile(r"^\s*([0-9a-f]+):\s*(.*)$")
# objdump's annotations name whichever symbol is nearest to an address (<.LC2+0x7>, # 7 <f+0x7>): not code.
ANNOTATION = re.compile(r"\s*(#\s*[0-9a-f]+\s*)?<[^>]*>")


def function_bodies(objdump: str, obj: Path, wanted: set[str]) -> dict[str, tuple[str, ...]]:
    """Each wanted function's instructions (and relocations) without addresses, read by its address range
    in its section, as the symbol table gives them. Not by objdump's labels: where two names share one
    body (g++ emits a complete-object destructor D1 as an alias of the base-object destructor D2, in D2's
    section), objdump labels the code with one of them only. A wanted function the symbol table does not
    place, or whose range holds no instruction, is missing from the result: the caller fails on that."""
    table = subprocess.run([objdump, "-t", "-w", str(obj)], check=True, capture_output=True, text=True).stdout
    ranges = collections.defaultdict(list)  # section -> (start, end, symbol)
    for line in table.splitlines():
        entry = SYMBOL_ENTRY.match(line)
        if entry and entry.group(5) in wanted and "F" in entry.group(2):
            start = int(entry.group(1), 16)
            ranges[entry.group(3)].append((start, start + int(entry.group(4), 16), entry.group(5)))
    if not ranges:
        return {}
    # Only the sections that hold wanted functions (inline functions and template instances each have
    # their own, .text.<symbol>, in a COMDAT group): that keeps this quick on the large kernel files.
    sections = [option for section in sorted(ranges) for option in ("-j", section)]
    listing = subprocess.run([objdump, "-d", "-r", "-w", "--no-show-raw-insn", *sections, str(obj)],
                             check=True, capture_output=True, text=True).stdout
    bodies = collections.defaultdict(list)
    section = None
    for line in listing.splitlines():
        header = SECTION_START.match(line)
        if header:
            section = header.group(1)
            continue
        instruction = INSTRUCTION.match(line)
        if section is None or not instruction:
            continue
        address, text = int(instruction.group(1), 16), " ".join(ANNOTATION.sub("", instruction.group(2)).split())
        for start, end, symbol in ranges.get(section, ()):
            if start <= address < end and text:
                bodies[symbol].append(text)
    return {symbol: tuple(lines) for symbol, lines in bodies.items()}


# Instructions beyond each architecture's baseline, which every CPU the library loads on has (x86-64: SSE2;
# aarch64: Armv8.0-A with Advanced SIMD). x86: anything VEX- or EVEX-encoded (AT&T mnemonics starting with
# v), the wider and mask and tile registers, and the non-VEX extensions a -m flag can add.
X86_REGISTERS = re.compile(r"%(ymm|zmm|k[0-7]|tmm)")
X86_EXTENSIONS = re.compile(
    r"^(pshufb|pmaddubsw|pmulhrsw|palignr|phadd\w*|phsub\w*|pabs\w|psign\w|"  # SSSE3
    r"pblend\w*|blendv?p[sd]|pmin[su][bdw]|pmax[su][bdw]|pmulld|pmuldq|ptest|pextr[bdq]|pinsr[bdq]|"
    r"round[ps][sd]|dpp[sd]|pmov[sz]x\w+|packusdw|pcmpeqq|phminposuw|insertps|extractps|mpsadbw|movntdqa|"  # SSE4.1
    r"pcmpgtq|pcmp[ei]str[im]|crc32\w*|popcnt|lzcnt|tzcnt|andn|bextr|bls[imr]|bzhi|shlx|shrx|sarx|rorx|pdep|"
    r"pext|mulx|adcx|adox|movbe|"  # SSE4.2, BMI1/2, ADX, MOVBE
    r"tile\w*|tdp\w*|ldtilecfg|sttilecfg)$")  # AMX
# aarch64: the dot products and matrix multiplies, and what -march=armv8.1-a and later enable without
# being asked (LSE atomics, the rounding doubling multiply-accumulates, CRC32).
ARM_EXTENSIONS = re.compile(
    r"^(sdot|udot|usdot|sudot|smmla|ummla|usmmla|bfdot|bfmmla|bfmlal[bt]|bfcvt\w*|"
    r"cas\w*|ldadd\w*|ldclr\w*|ldeor\w*|ldset\w*|ld[su]max\w*|ld[su]min\w*|swp\w*|"
    r"st(add|clr|eor|set|[su]max|[su]min)\w*|sqrdml[as]h|crc32\w*)$")


def extension_instructions(body: tuple[str, ...], arch: str) -> list[str]:
    """The instructions in a disassembled function that a baseline CPU of arch may not have."""
    found = []
    for line in body:
        fields = line.split(None, 1)
        if not fields or fields[0].startswith("R_"):  # a relocation, not an instruction
            continue
        mnemonic, operands = fields[0], fields[1] if len(fields) > 1 else ""
        if arch == "x86-64":
            unusual = (mnemonic.startswith("v") and mnemonic not in ("verr", "verw")) or \
                X86_EXTENSIONS.match(mnemonic) or X86_REGISTERS.search(operands)
        else:
            unusual = ARM_EXTENSIONS.match(mnemonic)
        if unusual:
            found.append(line)
    return found


def object_architecture(objdump: str, obj: Path) -> str:
    header = subprocess.run([objdump, "-f", str(obj)], check=True, capture_output=True, text=True).stdout
    if "x86-64" in header:
        return "x86-64"
    if "aarch64" in header:
        return "aarch64"
    raise SystemExit(f"check-isa-symbols: {obj}: an architecture this check does not know:\n{header}")


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    build = Path(sys.argv[1]).resolve()
    nm = cache_tool(build, "CMAKE_NM", "nm")
    objdump = cache_tool(build, "CMAKE_OBJDUMP", "objdump")
    flags_of = objects_by_flags(build)
    flagged = [obj for obj, flags in flags_of.items() if flags]
    if not flagged:
        print(f"check-isa-symbols: no object in {build} has instruction-set flags: nothing to check")
        return 0
    arch = object_architecture(objdump, flagged[0])

    definitions = collections.defaultdict(list)  # symbol -> objects defining it weakly
    for obj, symbols in weak_functions(nm, list(flags_of)).items():
        for symbol in symbols:
            definitions[symbol].append(obj)
    # Only a symbol that objects of two or more flag sets define is merged across them.
    across = {symbol: objs for symbol, objs in definitions.items() if len({flags_of[o] for o in objs}) > 1}

    wanted_in = collections.defaultdict(set)  # the flagged copies: those are what may not run elsewhere
    for symbol, objs in across.items():
        for obj in objs:
            if flags_of[obj]:
                wanted_in[obj].add(symbol)
    failures, unread = [], []
    for obj, symbols in sorted(wanted_in.items()):
        bodies = function_bodies(objdump, obj, symbols)
        # A copy this check could not read is a failure, not a pass: it might be anything.
        unread += [(symbol, obj) for symbol in sorted(symbols - bodies.keys())]
        for symbol, body in sorted(bodies.items()):
            unusual = extension_instructions(body, arch)
            if unusual:
                failures.append((symbol, obj, unusual))

    if not failures and not unread:
        print(f"check-isa-symbols: {len(flags_of)} objects ({len(flagged)} with instruction-set flags), "
              f"{len(across)} weak functions defined under more than one set of flags: no copy compiled "
              "with an instruction-set flag uses an instruction beyond the baseline")
        return 0
    names = iter(demangle([symbol for symbol, _, _ in failures] + [symbol for symbol, _ in unread]))
    for symbol, obj, unusual in failures:
        print(f"FAIL: {next(names)}\n  compiled in {obj.relative_to(build)} ({' '.join(flags_of[obj])}) uses "
              f"{unusual[0]!r} ({len(unusual)} such instructions), and is also defined in "
              f"{other_definitions(build, across[symbol], obj)}: the linker keeps one copy for every caller")
    for symbol, obj in unread:
        print(f"FAIL: {next(names)}\n  compiled in {obj.relative_to(build)} ({' '.join(flags_of[obj])}) and also "
              f"defined in {other_definitions(build, across[symbol], obj)}: this check found no code for it in "
              "the object's symbol table and disassembly, so it cannot tell which instructions it uses")
    print(f"check-isa-symbols: {len(failures) + len(unread)} copies. Give such functions internal linkage (an "
          "unnamed namespace or static) or a name per instruction set.")
    return 1


def demangle(symbols: list[str]) -> list[str]:
    names = subprocess.run(["c++filt"], input="\n".join(symbols), capture_output=True, text=True).stdout
    return names.splitlines() if len(names.splitlines()) == len(symbols) else symbols


def other_definitions(build: Path, objects: list[Path], obj: Path) -> str:
    others = sorted(str(o.relative_to(build)) for o in objects if o != obj)
    return ", ".join(others[:3]) + (" ..." if len(others) > 3 else "")


if __name__ == "__main__":
    sys.exit(main())
