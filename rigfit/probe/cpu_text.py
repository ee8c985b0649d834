"""Pure parsers for /proc/cpuinfo and `lscpu` text, as the kernel prints them or as people paste them.

Pasted text arrives in code fences, after shell prompts, wrapped by the terminal (new `lscpu` wraps the Flags line at
the window width, in the middle of a word), broken by a forum, cut short, or with its first character lost. The
parsers accept all of that and never raise; what they cannot read stays None, and a flag list that may have been
cut short leaves the flags it does not list unknown rather than absent.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import get_args

from rigfit.kb.lscpu_labels import LscpuKey, translated_lscpu_labels
from rigfit.lazy_re import later
from rigfit.probe.lines import bounded_lines, unfenced
from rigfit.records import field, record

# x86-64 micro-architecture levels (x86-64 psABI), as Linux names the CPUID bits in /proc/cpuinfo:
# SSE3 is "pni", LZCNT is "abm"; OSXSAVE is not listed, its prerequisite "xsave" is.
X86_64_LEVELS: dict[int, tuple[str, ...]] = {
    1: ("lm", "cmov", "cx8", "fpu", "fxsr", "mmx", "syscall", "sse", "sse2"),
    2: ("cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3"),
    3: ("avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"),
    4: ("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"),
}
# The flags rigfit reports one by one (CpuInfo fields of the same name).
TRACKED_FLAGS = (
    "sse4_1",
    "sse4_2",
    "popcnt",
    "avx",
    "avx2",
    "fma",
    "f16c",
    "avx512f",
    "avx512_bf16",
    "avx512_vnni",
    "amx_bf16",
)
# Every real x86 CPU that has the key also has the values. A list that breaks this was damaged (a paste that split
# "popc nt" or "avx 2"): the missing ones are then unknown, not absent.
IMPLIED: dict[str, tuple[str, ...]] = {
    "avx512f": ("avx2",),
    "avx2": ("avx",),
    "fma": ("avx",),
    "f16c": ("avx",),
    "avx": ("sse4_2",),
    "sse4_2": ("sse4_1", "popcnt"),
}
ARM_IMPLEMENTERS = {
    "0x41": "arm",
    "0x42": "broadcom",
    "0x43": "cavium",
    "0x46": "fujitsu",
    "0x48": "hisilicon",
    "0x4e": "nvidia",
    "0x50": "apm",
    "0x51": "qualcomm",
    "0x61": "apple",
    "0xc0": "ampere",
}
X86_VENDORS = {
    "genuineintel": "intel",
    "authenticamd": "amd",
    "hygongenuine": "hygon",
    "centaurhauls": "centaur",
    "shanghai": "zhaoxin",
}
# Where Linux prints a flag: /proc/cpuinfo lists flags in (word, bit) order of arch/x86/include/asm/cpufeatures.h.
# In a list that may have been cut short, a flag is known to be absent only when a flag printed after it is there.
KERNEL_ORDER: dict[str, tuple[int, int]] = {
    # word 0 (CPUID 1 EDX) and word 1 (CPUID 0x80000001 EDX): what every list starts with
    "fpu": (0, 0),
    "vme": (0, 1),
    "de": (0, 2),
    "pse": (0, 3),
    "tsc": (0, 4),
    "msr": (0, 5),
    "pae": (0, 6),
    "mce": (0, 7),
    "cx8": (0, 8),
    "apic": (0, 9),
    "sep": (0, 11),
    "mtrr": (0, 12),
    "pge": (0, 13),
    "mca": (0, 14),
    "cmov": (0, 15),
    "pat": (0, 16),
    "pse36": (0, 17),
    "clflush": (0, 19),
    "mmx": (0, 23),
    "fxsr": (0, 24),
    "sse": (0, 25),
    "sse2": (0, 26),
    "syscall": (1, 11),
    "nx": (1, 20),
    "lm": (1, 29),
    # word 4 (CPUID 1 ECX), from its bit 0
    "pni": (4, 0),
    "pclmulqdq": (4, 1),
    "dtes64": (4, 2),
    "monitor": (4, 3),
    "ds_cpl": (4, 4),
    "vmx": (4, 5),
    "smx": (4, 6),
    "est": (4, 7),
    "tm2": (4, 8),
    "ssse3": (4, 9),
    "fma": (4, 12),
    "cx16": (4, 13),
    "sse4_1": (4, 19),
    "sse4_2": (4, 20),
    "popcnt": (4, 23),
    "aes": (4, 25),
    "xsave": (4, 26),
    "avx": (4, 28),
    "f16c": (4, 29),
    "rdrand": (4, 30),
    "hypervisor": (4, 31),
    "lahf_lm": (6, 0),
    "abm": (6, 5),
    "sse4a": (6, 6),
    "misalignsse": (6, 7),
    "3dnowprefetch": (6, 8),
    "osvw": (6, 9),
    "ibs": (6, 10),
    "xop": (6, 11),
    "skinit": (6, 12),
    "ssbd": (7, 17),
    "ibrs": (7, 25),
    "ibpb": (7, 26),
    "stibp": (7, 27),
    "fsgsbase": (9, 0),
    "bmi1": (9, 3),
    "avx2": (9, 5),
    "bmi2": (9, 8),
    "avx512f": (9, 16),
    "rdseed": (9, 18),
    "adx": (9, 19),
    "smap": (9, 20),
    "clflushopt": (9, 23),
    "sha_ni": (9, 29),
    "avx512bw": (9, 30),
    "avx512vl": (9, 31),
    "xsaveopt": (10, 0),
    "xsaves": (10, 3),
    "cqm_llc": (11, 1),
    "avx_vnni": (12, 4),
    "avx512_bf16": (12, 5),
    "clzero": (13, 0),
    "wbnoinvd": (13, 9),
    "dtherm": (14, 0),
    "arat": (14, 2),
    "npt": (15, 0),
    "avx512vbmi": (16, 1),
    "umip": (16, 2),
    "avx512_vnni": (16, 11),
    "rdpid": (16, 22),
    "overflow_recov": (17, 0),
    "smca": (17, 3),
    "fsrm": (18, 4),
    "md_clear": (18, 10),
    "amx_bf16": (18, 22),
    "flush_l1d": (18, 28),
    "arch_capabilities": (18, 29),
}

_PROMPT = later(r"^\s*(?:[^\s@:]*[@:]\S*)?[$#](?:\s+\S.*)?$")  # one way to split user@host:dir
_QUOTE = later(r"^\s*>\s?")
_SHELL_PROMPT = later(r"^(?:[\w.-]+@[\w.-]+(?::\S*)?\s?|\S*\s)?[$#](?:\s.*)?$")  # "$", "pi@host:~ $ cmd", "(venv) $"
_FLAG_LINE = later(r"^[A-Za-z0-9_. \t]+$")
_TRUNCATION = later(r"(\.\.\.|…|\[\.\.\.\]|\[truncated\])\s*$", re.I)
_FLAG_TOKEN = later(r"[^a-z0-9_.]")


@record
class Entry:
    """One `key: value` line, with the lines a terminal or a forum wrapped below it."""

    key: str
    value: str
    truncated: bool = False
    # wrapped lines not yet joined: (text, may continue a word, display width of the line before it)
    wraps: list[tuple[str, bool, int]] = field(default_factory=list)
    widest: int = 0  # display width of the widest line of the entry: the terminal width it was wrapped at


@record
class CpuText:
    """What one cpuinfo or lscpu text says. None = the text does not say."""

    arch: str | None = None
    vendor: str | None = None
    model: str | None = None
    sockets: int | None = None
    cores: int | None = None
    threads: int | None = None
    threads_at_least: int | None = None  # processors seen in a paste that may go on: the count is at least this
    flags: list[str] | None = None
    flags_complete: bool = True
    isa: str | None = None  # "x86" (flags) or "arm" (Features)


def _known_key(raw: str, known: tuple[str, ...], aliases: dict[str, str]) -> str:
    """The key as written, or the known key it is once a lost first character is restored ("lags" -> "flags"),
    or the English key a translated label stands for ("Markierungen" -> "flags")."""
    key = " ".join(raw.strip().lower().split())
    if key in aliases:
        return aliases[key]
    if key in known:
        return key
    for name in known:
        if len(key) >= 3 and name[1:] == key:
            return name
    return key


def _width(text: str) -> int:
    """Terminal columns: CJK characters (and the full-width colon of Chinese lscpu) take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _key_end(line: str) -> int:
    """Where the key of a `key: value` line ends (ASCII or full-width colon); -1 when there is none."""
    ends = [i for i in (line.find(":"), line.find("\uff1a")) if i >= 0]
    return min(ends) if ends else -1


def entries(text: str, known: tuple[str, ...] = (), aliases: dict[str, str] | None = None) -> list[list[Entry]]:
    """`key: value` entries grouped in blocks (blank lines separate /proc/cpuinfo's processors)."""
    blocks: list[list[Entry]] = [[]]
    last_raw = ""
    value_column = 0
    for raw_line in bounded_lines(text):
        line = unfenced(_QUOTE.sub("", raw_line).rstrip("\r"))
        if line is None or _PROMPT.match(line):
            continue
        if not line.strip():
            if blocks[-1]:
                blocks.append([])
            continue
        current = blocks[-1]
        if _TRUNCATION.fullmatch(line.strip()) and current:
            current[-1].truncated = True
            continue
        end = _key_end(line)
        if end > 0 and not line.startswith((" " * 8, "\t\t\t")) and _is_key(line[:end]):
            key, value = line[:end], line[end + 1 :]
            value_column = _width(line[: end + 1]) + (len(value) - len(value.lstrip()))
            entry = Entry(_known_key(key, known, aliases or {}), value.strip(), widest=_width(line))
            if _TRUNCATION.search(entry.value):
                entry.value = _TRUNCATION.sub("", entry.value).strip()
                entry.truncated = True
            current.append(entry)
            last_raw = line
            continue
        if current and current[-1].key in ("flags", "features") and _FLAG_LINE.match(line):
            _continue_flags(current[-1], line, last_raw, value_column)
            last_raw = line
    for block in blocks:
        for entry in block:
            _join_wraps(entry)
    return [b for b in blocks if b]


def _is_key(raw: str) -> bool:
    key = raw.strip()
    return 0 < len(key) <= 40 and not any(c in key for c in "$#@`")


def _continue_flags(entry: Entry, line: str, previous: str, value_column: int) -> None:
    """Keep a wrapped line. `lscpu` wraps at the terminal width, mid-word, and indents to the value column."""
    indent = len(line) - len(line.lstrip())
    piece = line.strip()
    if _TRUNCATION.search(piece):
        piece = _TRUNCATION.sub("", piece).strip()
        entry.truncated = True
    entry.wraps.append((piece, indent == value_column and not previous.endswith(" "), _width(previous)))
    entry.widest = max(entry.widest, _width(line))


def _join_wraps(entry: Entry) -> None:
    """Join the wrapped lines: a word was cut where the line before filled the terminal width (a paste that lost
    the trailing spaces leaves a line that ended between two words one column short)."""
    for piece, may_continue, width_before in entry.wraps:
        by_name = _splits_a_flag(entry.value, piece)
        mid_word = may_continue and (width_before >= entry.widest if by_name is None else by_name)
        entry.value = entry.value + piece if mid_word else f"{entry.value} {piece}"
    entry.wraps = []


def _splits_a_flag(value: str, piece: str) -> bool | None:
    """Whether a wrap cut one x86 flag in two, told by the names Linux prints ("xt|opology", "cx|16"); None when the
    names do not tell (ARM features, unknown flags): a wrap at the widest column may also fall between two flags."""
    tail, head = value.rsplit(" ", 1)[-1], piece.split(" ", 1)[0]
    if tail + head in KERNEL_ORDER:
        return True
    if tail in KERNEL_ORDER and head in KERNEL_ORDER:
        return False
    return None


# x86 flags Linux prints with one or two letters; any other such token ending a list is a word the paste cut
SHORT_X86_FLAGS = frozenset({"de", "ss", "ht", "tm", "nx", "lm", "pn"})


def ends_mid_word(flags: list[str]) -> bool:
    """An x86 flag list whose last token is a cut word ("... smep b"): too short to be a flag, or the start of a
    flag the kernel prints after the one before it."""
    if len(flags) < 2:
        return False
    last, before = flags[-1], KERNEL_ORDER.get(flags[-2])
    if last in KERNEL_ORDER or last in SHORT_X86_FLAGS:
        return False
    if len(last) <= 2:
        return True
    return before is not None and any(f.startswith(last) and w > before for f, w in KERNEL_ORDER.items())


# Flags every x86-64 CPU has and Linux prints early in the list (word 0 of cpufeatures.h): a list that stops before
# the place of one it lacks was cut there ("Flags: fpu vme de pse" and the paste ends).
X86_BASELINE = ("cmov", "cx8", "fpu", "fxsr", "mmx", "sse", "sse2")
# Flags every CPU showing the key also has, printed later in the list: long mode came with SSE3 on every x86-64 CPU
# since 2005 (only the first K8 steppings lack it: their list then reads as cut, i.e. unknown, never wrong);
# PCLMULQDQ came with Westmere, Bulldozer, Jaguar and Silvermont, all with SSSE3 and SSE4.2. A list that stops before
# such a flag's place ("... lm constant_tsc arch_perfmon", "... pni pclmulqdq ... vmx smx") was cut there.
# SSBD came with the 2018 speculation microcode, after IBPB (Intel's SPEC_CTRL, AMD's IBPB): a list ending on "ssbd"
# with no "ibpb" after it stopped there.
IMPLIED_LATER: dict[str, tuple[str, ...]] = {
    "lm": ("pni",),
    "pclmulqdq": ("ssse3", "sse4_1", "sse4_2"),
    "ssbd": ("ibpb",),
}


def stops_before_baseline(flags: list[str]) -> bool:
    """An x86 list that ends before reaching a flag every such CPU has (that flag missing): cut short."""
    shown = [KERNEL_ORDER[f] for f in flags if f in KERNEL_ORDER]
    if not shown:
        return False
    last = max(shown)
    expected = X86_BASELINE + tuple(f for key in IMPLIED_LATER if key in flags for f in IMPLIED_LATER[key])
    return any(f not in flags and KERNEL_ORDER.get(f, last) > last for f in expected)


def model_name(value: str) -> str | None:
    """The model name, unless a placeholder stands in its place ("<REDACTED>", "xxx"): then unknown."""
    name = " ".join(value.split())
    if re.fullmatch(r"<[^>]*>|\[[^\]]*\]|\(?redacted\)?|x{3,}|\*{3,}", name, re.I):
        return None
    return name or None


def flag_tokens(value: str) -> list[str]:
    """Flag names, lower case; a token with other characters in it is damage, not a flag, and is dropped."""
    tokens = (t.lower().strip(".,;") for t in value.split())
    return [t for t in tokens if t and not _FLAG_TOKEN.search(t)]


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    match = re.match(r"\s*(\d+)", value)
    return int(match.group(1)) if match else None


CPUINFO_KEYS = (
    "processor",
    "vendor_id",
    "model name",
    "flags",
    "features",
    "physical id",
    "siblings",
    "cpu cores",
    "cpu implementer",
    "cpu architecture",
    "cpu part",
)
LSCPU_KEYS: tuple[str, ...] = get_args(LscpuKey)  # the KB schema of translated labels names them once


@record
class _CpuinfoTally:
    """What parse_cpuinfo adds up over the processor blocks."""

    processors: int = 0
    listed: int = 0  # the longest run of "model name" lines alone: `grep "model name" /proc/cpuinfo`, one a CPU
    siblings: dict[str, int] = field(default_factory=dict)  # physical id -> logical CPUs
    cores: dict[str, int] = field(default_factory=dict)  # physical id -> cores
    arm_arch: str | None = None
    flag_sets: list[set[str]] = field(default_factory=list)
    end_visible: bool = False  # the paste shows where the file (or the grep's output) ended


def _cpuinfo_identity(values: dict[str, Entry], out: CpuText, tally: _CpuinfoTally) -> None:
    if "model name" in values and not out.model:
        out.model = model_name(values["model name"].value)
    if "vendor_id" in values and not out.vendor:
        out.vendor = X86_VENDORS.get(values["vendor_id"].value.lower(), values["vendor_id"].value.lower() or None)
    if "cpu implementer" in values and not out.vendor:
        out.vendor = ARM_IMPLEMENTERS.get(values["cpu implementer"].value.lower())
    if "cpu architecture" in values:
        tally.arm_arch = values["cpu architecture"].value


def _cpuinfo_topology(values: dict[str, Entry], tally: _CpuinfoTally) -> None:
    socket = values["physical id"].value if "physical id" in values else None
    if socket is None:
        return
    if "siblings" in values and (n := _int(values["siblings"].value)):
        tally.siblings[socket] = n
    if "cpu cores" in values and (n := _int(values["cpu cores"].value)):
        tally.cores[socket] = n


def _cpuinfo_flags(
    block: list[Entry], values: dict[str, Entry], last: bool, out: CpuText, tally: _CpuinfoTally
) -> None:
    for key, isa in (("flags", "x86"), ("features", "arm")):
        if key in values and values[key].value.strip():  # an empty "flags :" is a block cut at its flags line
            out.isa = isa
            # in a whole /proc/cpuinfo block, x86 flags are followed by bugs/bogomips: a text that ends on the
            # flags line may have been cut inside it
            cut = values[key].truncated or (isa == "x86" and block[-1].key == "flags" and last)
            if cut and tally.flag_sets:
                continue  # a later processor's list cut by the paste's end: an earlier whole one says the same
            tally.flag_sets.append(set(flag_tokens(values[key].value)))
            if cut:
                out.flags_complete = False


def _cpuinfo_totals(blocks: list[list[Entry]], out: CpuText, tally: _CpuinfoTally) -> None:
    if tally.flag_sets:
        common = set.intersection(*tally.flag_sets)
        first = flag_tokens(
            next(e.value for b in blocks for e in b if e.key in ("flags", "features") and e.value.strip())
        )
        out.flags = [f for f in first if f in common]
    _cpuinfo_counts(blocks, out, tally)
    if out.isa == "x86" and out.flags is not None:
        _x86_cut_and_arch(out)
    elif out.isa == "arm" and out.flags is not None:
        # arm64 kernels call Advanced SIMD "asimd"; 32-bit ARM kernels call it "neon"
        arm_arch = tally.arm_arch
        out.arch = (
            "aarch64" if "asimd" in out.flags else (f"armv{arm_arch}" if arm_arch and arm_arch.isdigit() else None)
        )


def _cpuinfo_counts(blocks: list[list[Entry]], out: CpuText, tally: _CpuinfoTally) -> None:
    """Sockets, cores and threads. Without "siblings" (ARM, some VMs, `grep "model name"`), the processors shown are
    the count only where the paste shows /proc/cpuinfo's end (the ARM boards' trailer, a shell prompt after the
    output); elsewhere the text may have been cut after any whole block or line: at least that many."""
    processors = max(tally.processors, tally.listed)
    out.threads = max(processors, sum(tally.siblings.values())) or None
    if not tally.siblings and not tally.end_visible:
        out.threads = None
        out.threads_at_least = processors if processors > 1 else None
    if tally.cores:
        out.sockets = len(tally.cores)
        out.cores = sum(tally.cores.values())
    elif tally.siblings:
        out.sockets = len(tally.siblings)
    if processors and processors < sum(tally.siblings.values()):
        # fewer processor blocks than the packages shown have CPUs: a part was pasted, other packages may be missing
        out.threads = out.cores = out.sockets = None


def _x86_cut_and_arch(out: CpuText) -> None:
    """Drop a cut last word; the architecture from long mode: a CPU without "lm" runs only 32-bit kernels."""
    flags = out.flags or []
    if ends_mid_word(flags):
        flags.pop()
        out.flags_complete = False
    if stops_before_baseline(flags):
        out.flags_complete = False
    long_mode = flag_present("lm", set(flags), out.flags_complete)
    if long_mode:
        out.arch = "x86_64"
    elif long_mode is False:
        out.arch = "i686" if "cmov" in flags else "i586"


def _model_name_run(block: list[Entry]) -> int:
    """The longest run of consecutive "model name" entries: grep's one line a processor (two or more, or none)."""
    longest = run = 0
    for entry in block:
        run = run + 1 if entry.key == "model name" else 0
        longest = max(longest, run)
    return longest if longest > 1 else 0


def _ends_at_a_prompt(text: str) -> tuple[bool, bool]:
    """(the last `key: value` line is followed by a shell prompt, a run of 2+ "model name" lines is): the output
    of `cat /proc/cpuinfo` or `grep "model name" ...` ended there, nothing of it was cut."""
    closed = grep_closed = entries_since = False
    run = 0
    for raw_line in bounded_lines(text):
        line = unfenced(_QUOTE.sub("", raw_line).rstrip("\r"))
        if line is None or not line.strip():
            continue
        if _SHELL_PROMPT.match(line.strip()):
            closed = closed or entries_since
            grep_closed = grep_closed or run > 1
            run, entries_since = 0, False
        elif _key_end(line) > 0:
            closed, entries_since = False, True
            run = run + 1 if line.lower().startswith("model name") else 0
    return closed, grep_closed


def _end_visible(text: str, blocks: list[list[Entry]], tally: _CpuinfoTally) -> bool:
    # the kernel's trailer after the last processor ("Hardware", "Revision", "Model" on 32-bit ARM kernels and
    # Raspberry Pi boards) is printed once, at the file's end
    trailer = bool(blocks) and not any(e.key in ("processor", "model name") for e in blocks[-1]) and tally.processors
    processor_blocks = [b for b in blocks if any(e.key == "processor" for e in b)]
    # a processor block shorter than the first was cut (`head`, a forum's limit) even if a prompt follows it
    cut_block = len(processor_blocks) > 1 and len(processor_blocks[-1]) < len(processor_blocks[0])
    closed, grep_closed = _ends_at_a_prompt(text)
    whole_blocks = closed and tally.processors > 0 and not cut_block
    return bool(trailer) or whole_blocks or (grep_closed and tally.listed > tally.processors)


def parse_cpuinfo(text: str, whole_file: bool = False) -> CpuText:
    """/proc/cpuinfo (x86 `flags` or ARM `Features`), all processors or a pasted part of them. `whole_file`: the
    machine's own file read whole (live, or a `rigfit capture`), not a paste."""
    out = CpuText()
    blocks = entries(text, CPUINFO_KEYS)
    tally = _CpuinfoTally()
    for block in blocks:
        values = {e.key: e for e in block}
        tally.processors += sum(e.key == "processor" for e in block)
        tally.listed = max(tally.listed, _model_name_run(block))
        _cpuinfo_identity(values, out, tally)
        _cpuinfo_topology(values, tally)
        _cpuinfo_flags(block, values, block is blocks[-1], out, tally)
    tally.end_visible = whole_file or _end_visible(text, blocks, tally)
    _cpuinfo_totals(blocks, out, tally)
    return out


# the BSDs' name for x86_64 (OpenBSD's lscpu clone prints "Architecture: amd64")
_ARCH_ALIASES = {"amd64": "x86_64"}


def _lscpu_model(arch: str | None, get: Callable[[str], str | None]) -> str | None:
    """ "Model name"; where it is "-", the firmware's "BIOS Model name", or on ARM a "Model" that is a name ("Rockchip
    RK3588"), not the variant number it usually is ("Model: 0", "Model: 0x1"). Elsewhere "Model" is a number, or
    POWER's "2.2 (pvr 004e 1202)": never a name."""
    soc = get("model") if (arch or "").lower().startswith(("aarch64", "arm")) else None
    if soc and re.fullmatch(r"(0x)?[0-9a-f]+", soc, re.I):
        soc = None
    model = get("model name") or get("bios model name") or soc
    return model_name(model) if model else None


@record
class _CoreType:
    """One "Model name" sub-block of lscpu: ARM big.LITTLE chips list each core type with its own counts."""

    name: str
    counts: dict[str, int | None] = field(default_factory=dict)


def _core_types(listed: list[Entry], out: CpuText) -> None:
    """Where lscpu lists several core types (Cortex-A510 x4, Cortex-A710 x3, ...), the model names them all and the
    cores are their sum; a paste cut before the last type shows fewer threads than "CPU(s)": cores stay unknown."""
    types: list[_CoreType] = []
    for entry in listed:
        if entry.key == "model name":
            types.append(_CoreType(model_name(entry.value) or entry.value))
        elif types and entry.key in _TYPE_COUNTS:
            types[-1].counts.setdefault(_TYPE_COUNTS[entry.key], _int(entry.value))
    if len(types) < 2:
        return
    names = [t.name for t in types if t.name not in ("", "-")]
    if len(names) == len(types):
        out.model = " + ".join(dict.fromkeys(names))
    sockets = {t.counts.get("sockets") for t in types}
    out.sockets = sockets.pop() if len(sockets) == 1 else None
    cores = [(t.counts.get("per_socket") or 0) * (t.counts.get("sockets") or 0) for t in types]
    threads = sum(c * (t.counts.get("per_core") or 0) for c, t in zip(cores, types, strict=True))
    out.cores = sum(cores) if all(cores) and threads == out.threads else None


# the counts of one core type; ARM lscpu may say "cluster" where x86 says "socket"
_TYPE_COUNTS = {
    "core(s) per socket": "per_socket",
    "core(s) per cluster": "per_socket",
    "socket(s)": "sockets",
    "cluster(s)": "sockets",
    "thread(s) per core": "per_core",
}


def parse_lscpu(text: str) -> CpuText:
    """`lscpu` output (old flat layout or the newer indented one, possibly wrapped; labels in English or in a
    language of lscpu_labels.yaml)."""
    out = CpuText()
    values: dict[str, Entry] = {}
    listed = [entry for block in entries(text, LSCPU_KEYS, translated_lscpu_labels()) for entry in block]
    for entry in listed:
        values.setdefault(entry.key, entry)

    def get(key: str) -> str | None:
        entry = values.get(key)
        return entry.value if entry and entry.value not in ("", "-") else None

    architecture = get("architecture")
    out.arch = _ARCH_ALIASES.get((architecture or "").lower(), architecture)
    vendor = get("vendor id")
    if vendor:
        out.vendor = X86_VENDORS.get(vendor.lower(), ARM_IMPLEMENTERS.get(vendor.lower(), vendor.lower()))
    out.model = _lscpu_model(out.arch, get)
    out.threads = _int(get("cpu(s)"))
    out.sockets = _int(get("socket(s)"))
    per_socket = _int(get("core(s) per socket"))
    if per_socket and out.sockets:
        out.cores = per_socket * out.sockets
    _core_types(listed, out)
    flags = values.get("flags")
    if flags is not None:
        out.flags = flag_tokens(flags.value)
        out.flags_complete = not flags.truncated
        arch = (out.arch or "").lower()
        if arch in ("x86_64", "i686", "i386", "amd64") or "sse2" in out.flags:
            out.isa = "x86"
        elif not arch or arch.startswith(("aarch64", "arm")):
            out.isa = "arm"
        if out.isa == "x86" and ends_mid_word(out.flags):  # x86 names only: ARM's "fp" and s390's "vx" are whole
            out.flags.pop()
            out.flags_complete = False
        if out.isa == "x86" and stops_before_baseline(out.flags):
            out.flags_complete = False
    return out


def flag_present(flag: str, have: set[str], complete: bool) -> bool | None:
    """True when listed; False when a complete list lacks it, or a cut list goes on past where it would be."""
    if flag in have:
        return True
    if complete:
        return False
    where = KERNEL_ORDER.get(flag)
    if where is not None and any(KERNEL_ORDER.get(f, (-1, -1)) > where for f in have):
        return False
    return None


def x86_64_level(flags: list[str] | None, complete: bool = True) -> int | None:
    """Highest x86-64-vN whose every feature is listed; None when unknown (no flags, or a cut list)."""
    if not flags:
        return None
    have = set(flags)
    level = 0
    for n in sorted(X86_64_LEVELS):
        states = [flag_present(f, have, complete) for f in X86_64_LEVELS[n]]
        if all(states):
            level = n
            continue
        if None in states and False not in states:
            return None  # the next level may be there: the list stops before it could say
        break
    return level or None


def flag_states(flags: list[str] | None, complete: bool) -> tuple[dict[str, bool | None], list[str]]:
    """Each tracked flag: True (listed), False (known absent), None (unknown); plus what looked wrong."""
    if flags is None:
        return dict.fromkeys(TRACKED_FLAGS), []
    have = set(flags)
    states = {f: flag_present(f, have, complete) for f in TRACKED_FLAGS}
    problems = []
    # Linux clears AVX and what builds on it when XSAVE is off (arch/x86/kernel/cpu/cpuid-deps.c): a VM's CPU model
    # or `noxsave` leaves f16c without avx, a true absence and no damage
    no_xsave = flag_present("xsave", have, complete) is False
    for key, implied in IMPLIED.items():
        for name in implied:
            if key in have and name not in have and not (name == "avx" and no_xsave):
                states[name] = None
                problems.append(f"the CPU flag list has {key} but not {name} (no real CPU does): the list was damaged")
    for _ in IMPLIED:  # what needs an absent flag is absent too, though the cut list stops before it (avx -> avx2)
        for key, implied in IMPLIED.items():
            if key in states and states[key] is None and any(states.get(n) is False for n in implied):
                states[key] = False
    return states, problems
