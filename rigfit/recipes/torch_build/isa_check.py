"""Prove a build does not use what the target CPU lacks: disassemble its ELF files (objdump -d) and name every
function outside the dispatch copies that executes an instruction of a missing extension.

Dispatch copies are the functions a CPU check selects at run time (ATen's `at::native::AVX2::` kernels, XNNPACK's
`..._avx2` micro-kernels, GCC's `.avx2` clones): AVX there is expected and harmless. AVX anywhere else runs on every
CPU, which is how source builds have died of SIGILL before (pytorch#43300, #37577).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from rigfit.records import field, record

ELF_MAGIC = b"\x7fELF"
# function names that mark a copy compiled for one instruction set and chosen by a CPU check at run time
DISPATCH_NAME = re.compile(
    r"::AVX2?::|::AVX512\w*::|::VSX::|::ZVECTOR::|CPU_CAPABILITY_"  # ATen capability namespaces
    r"|avx(?:2|512|10|_?vnni|_?ne_?convert)?(?![a-z])|_fma3?(?![a-z])|f16c|haswell|skylake|zen\d?\b|icelake|cooperlake"
    r"|sapphirerapids|alderlake|cascadelake|\.arch_|\.avx|\.fma",
    re.IGNORECASE,
)
CLONE_SUFFIX = re.compile(r"(?: \[clone [^\]]*\])+$|(?:\.(?:isra|constprop|part|cold|lto_priv)\.\d+)+$")
STATIC_INIT = re.compile(r"^(?:_GLOBAL__sub_I_|__cxx_global_var_init|_sub_I_)")
# a function header, or an instruction whose mnemonic may need an extension (the classification is exact later)
CANDIDATE = re.compile(
    r"\n(?:[0-9a-f]+ <(?P<function>.+)>:"
    r"|[ 0-9a-f]+:\t(?P<mnemonic>(?:v|k|p(?!ush|op)|popcnt|crc32|andn|bextr|bls|bzhi|mulx|rorx|sarx|shlx|shrx|movbe"
    r"|ad[co]x|aes|blend|round|dpp|insertps|extractps|movntdqa|mpsadbw)[a-z0-9]*)(?P<operands>[^\n]*))"
)
# instructions that are not VEX-encoded although their mnemonic starts with "v" (virtualization, verify segment)
NOT_VEX = frozenset(
    [
        "verr",
        "verw",
        "vmcall",
        "vmlaunch",
        "vmresume",
        "vmxoff",
        "vmxon",
        "vmread",
        "vmwrite",
        "vmptrld",
        "vmptrst",
        "vmclear",
        "vmfunc",
        "vmrun",
        "vmload",
        "vmsave",
        "vmmcall",
    ]
)
AVX512_ONLY = re.compile(
    r"^(?:vpternlog|vpermt2|vpermi2|vpcompress|vpexpand|vcompress|vexpand|vpmov[a-z]*2m|vpmovm2|"
    r"vfixupimm|vgetexp|vgetmant|vrange|vreduce|vrndscale|vscalef|vrcp14|vrsqrt14|vdbpsadbw|"
    r"vpconflict|vplzcnt|vpro[lr]|vpsrav[wq]|vpsllvw|vpsrlvw|vcvtt?[ps][sd]2u|vcvtu|vinsert[fi](?:32|64)x|"
    r"vextract[fi](?:32|64)x|vshuf[fi](?:32|64)x|vbroadcast[fi](?:32|64)x|valign|vpdpbusd|vdpbf16|vcvtne2ps2bf16)"
)
AVX2_ONLY = re.compile(
    r"^(?:vpbroadcast|vperm2i128|vpermd|vpermq|vperms|vpermpd|vinserti128|vextracti128|vpgather|"
    r"vgather|vpmaskmov|vpsllv|vpsrlv|vpsrav|vpblendd|vbroadcasti128)"
)
SCALAR = {
    "popcnt": "popcnt",
    "crc32": "sse4_2",
    "pcmpestri": "sse4_2", "pcmpestrm": "sse4_2", "pcmpistri": "sse4_2", "pcmpistrm": "sse4_2", "pcmpgtq": "sse4_2",
    "andn": "bmi1", "bextr": "bmi1", "blsi": "bmi1", "blsmsk": "bmi1", "blsr": "bmi1",
    "bzhi": "bmi2", "mulx": "bmi2", "pdep": "bmi2", "pext": "bmi2", "rorx": "bmi2", "sarx": "bmi2", "shlx": "bmi2",
    "shrx": "bmi2",
    "movbe": "movbe", "adcx": "adx", "adox": "adx",
    "aesenc": "aes", "aesenclast": "aes", "aesdec": "aes", "aesdeclast": "aes", "aesimc": "aes",
    "aeskeygenassist": "aes", "pclmulqdq": "pclmulqdq",
}  # fmt: skip
SSE41 = re.compile(
    r"^(?:pblendvb|blendvp[sd]|blendp[sd]|pblendw|ptest|round[ps][sd]|pmulld|pmuldq|pminsb|pminsd|"
    r"pminu[wd]|pmaxsb|pmaxsd|pmaxu[wd]|pmovsx|pmovzx|pextr[bdq]|pinsr[bdq]|packusdw|pcmpeqq|"
    r"phminposuw|mpsadbw|dpp[sd]|insertps|extractps|movntdqa)$"
)
SSSE3 = re.compile(r"^(?:pshufb|palignr|pmaddubsw|pmulhrsw|phadd[wd]|phaddsw|phsub[wd]|phsubsw|psign[bwd]|pabs[bwd])$")


VEX = "vex"  # class of a VEX/EVEX mnemonic: the extension depends on the operands


def _mnemonic_class(mnemonic: str) -> str | None:
    """What a mnemonic alone says: an extension, VEX (look at the operands), or None (baseline x86-64/SSE3)."""
    if mnemonic.startswith("v") and mnemonic not in NOT_VEX:
        if AVX512_ONLY.match(mnemonic):
            return "avx512f"
        if mnemonic.startswith(("vfmadd", "vfmsub", "vfnmadd", "vfnmsub")):
            return "fma"
        if mnemonic in ("vcvtph2ps", "vcvtps2ph"):
            return "f16c"
        if AVX2_ONLY.match(mnemonic):
            return "avx2"
        return VEX
    if re.match(r"^k(?:mov|and|or|xor|not|shift|unpck|test|add)", mnemonic):
        return "avx512f"
    if found := SCALAR.get(mnemonic):
        return found
    if SSE41.match(mnemonic):
        return "sse4_1"
    if SSSE3.match(mnemonic):
        return "ssse3"
    return None


_CLASSES: dict[str, str | None] = {}


def extension_of(mnemonic: str, operands: str) -> str | None:
    """The instruction-set extension (/proc/cpuinfo name) an instruction needs beyond x86-64 + SSE3, or None."""
    kind = _CLASSES.get(mnemonic, "?")
    if kind == "?":
        kind = _CLASSES[mnemonic] = _mnemonic_class(mnemonic)
    if mnemonic[:1] == "v" and kind is not None and ("zmm" in operands or "{%k" in operands):
        return "avx512f"  # EVEX: any VEX mnemonic on zmm registers or with a mask
    if kind == VEX:
        return "avx2" if mnemonic.startswith("vp") and "ymm" in operands else "avx"
    return kind


@record
class Offender:
    """A function outside the dispatch copies that uses extensions the target lacks."""

    file: str
    function: str
    extensions: dict[str, int] = field(default_factory=dict)  # extension -> instruction count
    example: str = ""  # first offending instruction, as objdump printed it

    def describe(self) -> str:
        needs = ", ".join(f"{ext} x{n}" for ext, n in sorted(self.extensions.items()))
        return f"{self.file}: {self.function}: {needs} (e.g. `{self.example}`)"


@record
class ScanResult:
    files: list[str] = field(default_factory=list)
    offenders: list[Offender] = field(default_factory=list)
    dispatch_functions: int = 0  # functions skipped as dispatch copies that do use missing extensions
    errors: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.offenders and not self.errors


def group_key(function: str) -> str:
    """The name twins share: GCC's clone suffixes differ between the copies of one function in different files."""
    return CLONE_SUFFIX.sub("", function)


def is_dispatch_copy(function: str) -> bool:
    """Named as a copy for one instruction set; static initializers never are (they run at load, pytorch#37577)."""
    return not STATIC_INIT.match(function) and DISPATCH_NAME.search(function) is not None


@record
class _FileScan:
    """One file's functions: those that use a missing extension (by group key) and the keys seen clean."""

    label: str
    lacks: frozenset[str]
    using: dict[str, Offender] = field(default_factory=dict)
    copies: dict[str, int] = field(default_factory=dict)
    clean: set[int] = field(default_factory=set)  # hashes of group keys with a copy that uses nothing missing

    def close(self, function: str, found: Offender | None) -> None:
        if not function:
            return
        key = group_key(function)
        if found is None:
            self.clean.add(hash(key))
            return
        self.copies[key] = self.copies.get(key, 0) + 1
        known = self.using.setdefault(key, Offender(self.label, function, example=found.example))
        if known is not found:
            for ext, count in found.extensions.items():
                known.extensions[ext] = known.extensions.get(ext, 0) + count

    def resolve(self, result: ScanResult) -> None:
        """Dispatch copies: named so, or with a twin of the same name that runs on the target (ATen compiles each
        CPU kernel once per capability into file-local functions of one name). The rest runs on every CPU."""
        for key, offender in self.using.items():
            if is_dispatch_copy(offender.function) or (hash(key) in self.clean and not STATIC_INIT.match(key)):
                result.dispatch_functions += self.copies[key]
            else:
                result.offenders.append(offender)


def scan_disassembly(chunks: Iterable[str], label: str, lacks: frozenset[str], result: ScanResult) -> None:
    """Read `objdump -d -C --no-show-raw-insn` output of one file as chunks in which every line starts with its
    newline (`read_chunks`; a few GB for libtorch, never kept whole). One regex finds the function headers and the
    only instructions that can need an extension; most lines (mov, add, call, push...) never reach Python."""
    scan = _FileScan(label, lacks)
    function, current = "", None
    for chunk in chunks:
        for match in CANDIDATE.finditer(chunk):
            if (name := match.group("function")) is not None:
                scan.close(function, current)
                function, current = name, None
                continue
            ext = extension_of(match.group("mnemonic"), match.group("operands"))
            if ext is None or ext not in lacks:
                continue
            if current is None:
                example = f"{match.group('mnemonic')}{match.group('operands')}".strip()
                current = Offender(label, function, example=example)
            current.extensions[ext] = current.extensions.get(ext, 0) + 1
    scan.close(function, current)
    scan.resolve(result)


def read_chunks(stream: IO[str], size: int = 1 << 22) -> Iterator[str]:
    """A text stream as chunks in which each line is preceded by its newline ("\\nline\\nline")."""
    rest = "\n"
    while block := stream.read(size):
        block = rest + block
        cut = block.rfind("\n")
        rest = block[cut:]
        if cut > 0:
            yield block[:cut]
    if rest != "\n":
        yield rest


def elf_files(root: Path) -> Iterator[Path]:
    """ELF shared libraries and executables under root (or root itself)."""
    candidates = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    for path in candidates:
        try:
            with open(path, "rb") as fh:
                if fh.read(4) == ELF_MAGIC:
                    yield path
        except OSError:
            continue


def scan_file(path: Path, label: str, lacks: frozenset[str], result: ScanResult, timeout: float = 3600) -> None:
    objdump = shutil.which("objdump")
    if objdump is None:
        result.errors.append("objdump is not installed: `sudo apt install binutils`")
        return
    result.files.append(label)
    proc = subprocess.Popen(
        [objdump, "-d", "-C", "--no-show-raw-insn", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        scan_disassembly(read_chunks(proc.stdout), label, lacks, result)
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        result.errors.append(f"{label}: objdump failed (exit {proc.returncode})")


def scan_path(target: Path, lacks: frozenset[str]) -> ScanResult:
    """Scan a directory, an ELF file, or a wheel (its ELF members, unpacked to a temporary directory)."""
    result = ScanResult()
    if target.suffix == ".whl":
        with tempfile.TemporaryDirectory(prefix="rigfit-check-") as tmp:
            with zipfile.ZipFile(target) as wheel:
                members = [m for m in wheel.namelist() if re.search(r"\.so(\.\d+)*$", m)]
                for member in members:
                    wheel.extract(member, tmp)
            for path in elf_files(Path(tmp)):
                scan_file(path, f"{target.name}:{path.relative_to(tmp)}", lacks, result)
        return result
    for path in elf_files(target):
        label = str(path.relative_to(target)) if target.is_dir() else path.name
        scan_file(path, label, lacks, result)
    return result


__all__ = ["Offender", "ScanResult", "elf_files", "extension_of", "scan_disassembly", "scan_path"]
