"""A process killed by SIGILL: an instruction the CPU does not have, executed by a native library. The library
comes from the kernel's trap line ("trap invalid opcode ... in libX.so") or the crash report; what it needs, from
native_libs.yaml; what the CPU has, from the profile."""

from __future__ import annotations

import re

from rigfit.explain.analyzers.base import Finding, every, last
from rigfit.explain.analyzers.context import Context, native_lib, ui_log_prefixes
from rigfit.explain.scan import LogLine
from rigfit.kb.diagnosis import NativeLibrary

# the ids of the findings this module returns (rigfit.explain.analyzers.class_ids)
IDS = (
    "sigill-native-library",
    "sigill-plugin",
    "sigill-python-interpreter",
)

SIGNALS = (
    "illegal instruction", "illegal hardware instruction", "sigill", "invalid opcode", "exit code 132",
    "maschinenbefehl", "ilegal", "instruction ill",
)  # fmt: skip
KEYWORDS = (
    "illegal instruction", "sigill", "invalid opcode", "illegal hardware instruction", "signal 4", "exit code 132",
    "maschinenbefehl", "ilegal", "instruction ill",
)  # fmt: skip
CONTEXT = (
    "core dumped", "import", "--version", "libtorch", "libc10", "libcaffe2", "libmkldnn", "libdnnl", "onnxruntime",
    "librocblas", "libllama", "libggml", "libctranslate2", "_multiarray_umath", "libbitsandbytes", "libopenblas",
    "loading", "custom_nodes", "extensions", "from /", "=> 0x",
)  # fmt: skip

# also the shell's message in a localized system (de, es, pt, fr) and the single-l spelling of a translation back
SIGILL = re.compile(
    r"Illegal instruction|SIGILL|illegal hardware instruction|signal 4\b|exit code 132|-4\)|"
    r"Ungültiger Maschinenbefehl|instrucci[oó]n ilegal|instru[cç][aã]o ilegal|instruction ill[ée]gale|"
    r"\bilegal instruction",
    re.I,
)
TRAP = re.compile(r"trap invalid opcode .*? in (?P<lib>[\w.+-]+)\[", re.I)
GDB_FRAME = re.compile(r"(?:^#0\s.*|received signal SIGILL.*|^0x[0-9a-f]+ in .*) from (?P<lib>\S+\.so[\w.]*)")
# gdb prints a long frame's library on the next line: "   from /path/to/libX.so"
GDB_FROM = re.compile(r"^\s*from (?P<lib>/\S+\.so[\w.]*)\s*$")
# the faulting instruction in gdb's disassembly ("=> 0x...: ldaddal w2, w2, [x3]") or x/i output
GDB_FAULT = re.compile(r"^=>\s*0x[0-9a-f]+(?: <[^>]*>)?:\s*(?P<insn>[a-z][\w.]*)", re.I)
IMPORT = re.compile(r"^\s*(?:>>>\s*)?(?:import (?P<mod>\w+)|from (?P<mod2>\w+)[\w.]* import)")
# what was starting when the process died: a plugin's own log prefix ("[H3 Prompt Writer] Loading model...", after
# a container's "name | " prefix) or a ComfyUI custom node / A1111 extension folder in a path
COMPONENT = re.compile(
    r"^(?:[\w.-]+\s+\|\s+)?\[(?P<name>[^\]\[]{3,40})\]\s+(?:Load|Initiali[sz]|Import|Start)|"
    r"(?P<kind>custom_nodes|extensions)[\\/](?P<dir>[\w.-]+)",
    re.I,
)
FRAME = re.compile(r"(?P<lib>lib[\w.+-]+\.so[\w.]*|[\w.-]+\.cpython-\d+[\w-]*\.so)")


def analyze(ctx: Context) -> list[Finding]:
    hit = last(ctx.lines, SIGILL)
    trap = last(ctx.lines, TRAP)
    if hit is None and trap is None:
        return []
    evidence = [h[0] for h in (trap, hit) if h]
    if trap is None and (bare := _bare_interpreter(ctx)) is not None:
        return [_interpreter_sigill(*bare)]
    facts, entry = _culprit(ctx, trap, hit)
    lib = facts.get("library")
    agrees = _profile_agrees(ctx)
    if lib is None and hit is not None and (started := _component_before(ctx, hit[0].number)) is not None:
        return [_component_sigill(ctx, facts, started, hit[0])]
    arm = _on_arm(ctx, facts)
    return [
        Finding(
            "sigill-native-library",
            f"SIGILL in {lib or 'a native library'}",
            _cause(ctx, facts, entry, agrees),
            entry.fix if entry else NO_LIBRARY_FIX,
            evidence,
            facts,
            entry.sources if entry else ["https://man7.org/linux/man-pages/man7/signal.7.html"],
            confidence=0.9 if arm else {True: 0.8, False: 0.35, None: 0.7}[agrees],
            profile_agrees=agrees,
            supersedes=("sigill-cpu-features",) if arm else (),  # its text is about x86 extensions
        )
    ]


ARM_SIGNS = re.compile(r"aarch64|arm64|libarm_compute|\bArmv8", re.I)


def _on_arm(ctx: Context, facts: dict[str, str]) -> bool:
    """The SIGILL happened on a 64-bit Arm machine (its paths, its library, or the library's entry say so): the x86
    advice (AVX, SSE4.2) does not apply there."""
    if ARM_SIGNS.search(facts.get("library", "") + " " + facts.get("needs", "")):
        return True
    return any(ARM_SIGNS.search(line.text) for line in ctx.lines if "from /" in line.text or "python" in line.text)


NO_LIBRARY_FIX = (
    "Find the library: `sudo dmesg | grep -i 'invalid opcode'` names it (\"in libX.so\"); then install a build of that "
    "package for this CPU or remove it. `rigfit doctor` lists the instruction sets this CPU lacks, and `rigfit plan` "
    "picks a torch that runs on it."
)


# a shell line that runs the interpreter (or pip) without importing anything native: `python3 --version`
BARE_RUN = re.compile(
    r"(?:^|[$#>%]\s)(?P<cmd>\S*(?:python|pip)3?(?:\.\d+)?(?:\.exe)?)\s+(?:--version|-V|-c\s+['\"]?pass\b)"
)
STANDALONE_SOURCE = "https://gregoryszorc.com/docs/python-build-standalone/main/running.html"


def _bare_interpreter(ctx: Context) -> tuple[LogLine, str, LogLine] | None:
    """A SIGILL right after a command line that only starts the interpreter or pip (no torch, no numpy): then the
    interpreter itself holds the instruction. (command line, interpreter, SIGILL line)"""
    by_number = {line.number: line for line in ctx.lines}
    for line, _ in every(ctx.lines, SIGILL):
        run = by_number.get(line.number - 1)
        if run is not None and (m := BARE_RUN.search(run.text)):
            return run, m.group("cmd"), line
    return None


def _interpreter_sigill(line: LogLine, cmd: str, died: LogLine) -> Finding:
    facts = {"interpreter": cmd}
    cause = (
        f"`{cmd}` died of SIGILL while only starting up (no torch, no numpy loaded): the Python interpreter itself "
        "was built for a newer CPU level than this one. Bundled and downloaded Pythons (python-build-standalone, "
        "which uv-managed Pythons and several UI launchers ship) come in x86_64, x86_64_v2, v3 (AVX2) and v4 "
        "(AVX-512) builds, and a v3 build dies on CPUs without AVX2."
    )
    fix = (
        "Use an interpreter built for this CPU: the plain x86_64 (or x86_64_v2) build of the same Python release "
        "in place of the bundled one (in a launcher's download URL, replace x86_64_v3 by x86_64_v2), or the "
        "system's Python (`python3 -m venv venv`); `grep -o -w -E 'avx2|avx512f' /proc/cpuinfo | sort -u` shows "
        "which levels the CPU has."
    )
    return Finding(
        "sigill-python-interpreter",
        f"The Python interpreter {cmd} was built for a newer CPU",
        cause,
        fix,
        [line, died],
        facts,
        [STANDALONE_SOURCE],
        confidence=0.9,
        supersedes=("sigill-cpu-features", "sigill-native-library"),
    )


def _component_before(ctx: Context, number: int) -> tuple[LogLine, str] | None:
    """The plugin (custom node, extension) the log shows starting in the last lines before the crash; a UI's own
    bracketed line ("[Fooocus] Loading models ...", ui_log_prefixes.yaml) is no plugin."""
    before = [line for line in ctx.lines if number - 3 <= line.number < number]
    for line in reversed(before):
        if not (m := COMPONENT.search(line.text)):
            continue
        if m.group("name") and m.group("name").strip().lower() in ui_log_prefixes():
            return None  # the UI's own step was running, not a plugin's
        return line, (m.group("name") or m.group("dir")).strip()
    return None


def _component_sigill(ctx: Context, facts: dict[str, str], started: tuple[LogLine, str], died: LogLine) -> Finding:
    line, name = started
    facts["component"] = name
    cpu = ctx.facts.get("cpu_model")
    cause = (
        f"The process was killed by SIGILL right after {name} started ({line.text.strip()[:80]}): its native code "
        "(a compiled extension it ships, or a library it loads such as llama.cpp/ggml, onnxruntime or a CUDA "
        f"kernel package) executed a CPU instruction {cpu or 'this CPU'} does not have, typically AVX-512 or AVX2 "
        "in a prebuilt binary. torch and the UI itself got this far, so they are not the culprit."
    )
    if missing := ctx.facts.get("cpu_missing"):
        facts["cpu_lacks"] = str(missing)
        cause += f" This CPU lacks {missing}."
    fix = (
        f"Start without {name} to confirm (ComfyUI: move its folder out of custom_nodes, or start with "
        "--disable-all-custom-nodes; A1111: disable the extension), then install a build of its native backend for "
        "this CPU (compiled on this machine, or a release without AVX-512/AVX2), or tell its maintainers which CPU "
        "it fails on; `grep -o -w -E 'avx2|avx512f' /proc/cpuinfo | sort -u` shows what the CPU has."
    )
    return Finding(
        "sigill-plugin",
        f"SIGILL in {name}'s native code",
        cause,
        fix,
        [line, died],
        facts,
        ["https://man7.org/linux/man-pages/man7/signal.7.html", "Comfy-Org/ComfyUI:comfy/cli_args.py"],
        confidence=0.85,
        supersedes=("sigill-cpu-features", "sigill-native-library"),
    )


def _culprit(ctx: Context, trap, hit) -> tuple[dict[str, str], NativeLibrary | None]:
    """The library (and its native_libs.yaml entry) that executed the instruction, with what it needs."""
    lib = _library(ctx, trap, hit)
    entry = native_lib(lib) if lib else None
    facts: dict[str, str] = {}
    if lib:
        facts["library"] = lib.rsplit("/", 1)[-1]
    if entry is None and hit is not None and (imported := _imported_before(ctx, hit[0].number)):
        facts["package"] = imported
        entry = native_lib(f"lib{imported}") or native_lib(imported)
    if entry:
        facts["package"] = entry.package
        if entry.isa:
            facts["needs"] = entry.isa
    if missing := ctx.facts.get("cpu_missing"):
        facts["cpu_lacks"] = str(missing)
    if hit is not None and (
        fault := next((m for ln, m in every(ctx.lines, GDB_FAULT) if ln.number > hit[0].number), None)
    ):
        facts["instruction"] = fault.group("insn")
    return facts, entry


def _cause(ctx: Context, facts: dict[str, str], entry: NativeLibrary | None, agrees: bool | None) -> str:
    lib, cpu = facts.get("library"), ctx.facts.get("cpu_model")
    who = f"{lib} ({entry.package})" if lib and entry else lib or "a native library (torch, numpy, onnxruntime...)"
    cause = f"The process was killed by SIGILL: {who} executed a CPU instruction this CPU does not have"
    if entry and entry.isa:
        cause += f"; its prebuilt builds need {entry.isa}"
    if insn := facts.get("instruction"):
        cause += f" (gdb shows the instruction: {insn})"
    if "cpu_lacks" in facts:
        cause += f", and {cpu or 'this CPU'} lacks {facts['cpu_lacks']}"
    cause += "."
    if agrees is False:
        cause += (
            f" This CPU ({cpu or 'the profile'}) has SSE4.2, AVX and AVX2, so the instruction is a newer one "
            "(AVX-512, AMX) the build assumed, or the binary is damaged."
        )
    return cause


def _profile_agrees(ctx: Context) -> bool | None:
    """True when the profile's CPU lacks an extension wheels assume, False when it has them all, None unknown."""
    if ctx.facts.get("cpu_missing"):
        return True
    if ctx.facts.get("cpu_avx2") is True and ctx.facts.get("cpu_sse4_2") is True:
        return False
    return None


def _library(ctx: Context, trap, hit) -> str | None:
    """The library that executed the instruction: the kernel's trap line, a gdb frame, or the crash line itself."""
    if trap is not None:
        return str(trap[1].group("lib"))
    if hit is None:
        return None
    for line in ctx.lines:
        if line.number >= hit[0].number and (frame := GDB_FRAME.search(line.text)):
            return frame.group("lib")
        if hit[0].number < line.number <= hit[0].number + 2 and (frame := GDB_FROM.search(line.text)):
            return frame.group("lib")
    frame = FRAME.search(hit[0].text)
    return frame.group("lib") if frame else None


def _imported_before(ctx: Context, number: int) -> str | None:
    """The module an interactive session or script imported last before it died: `>>> import torch`."""
    found = None
    for line in ctx.lines:
        if line.number > number:
            break
        if m := IMPORT.search(line.text):
            found = m.group("mod") or m.group("mod2")
    return found
