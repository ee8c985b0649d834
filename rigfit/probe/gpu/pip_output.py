"""pip's answer when the index it searched has no torch of the version (or +cuXXX/+rocmX.Y build) asked:
"ERROR: Could not find a version that satisfies the requirement torch==V (from versions: ...)" and "ERROR: No
matching distribution found for torch==V" (pip's resolver, src/pip/_internal/resolution: the same two lines in every
pip since 20.3). Read as the torch asked for, the index variant searched (its "Looking in indexes:" line, the
--index-url of the command, or else the local tag every offered version carries) and what that index offers there.
Pure functions of text; torchvision/torchaudio alone are not this class (their fix is torch's index too, but the
finding names torch)."""

from __future__ import annotations

from rigfit.kb.fixes import fix_text
from rigfit.kb.torch_published import has_python, line_of
from rigfit.lazy_re import later
from rigfit.probe.gpu.paste import clean_lines
from rigfit.probe.profile import GpuFault

_NO_VERSION = later(
    r"Could not find a version that satisfies the requirement (?P<req>torch(?![\w-])\S*)"
    r"(?:.*?\(from versions: (?P<versions>[^)]*)\)?)?"
)
_NO_MATCH = later(r"No matching distribution found for (?P<req>torch(?![\w-])\S*)")
_INDEX = later(
    r"(?:Looking in indexes:|--index-url|--extra-index-url|-i)[ =].*?download\.pytorch\.org/whl/(?P<v>[\w.]+)"
)
_PINNED = later(r"^torch===?(?P<version>\d+(?:\.\d+)*)(?:\+(?P<build>[\w.]+))?$")


def _variant(lines: list[str], versions: list[str]) -> str | None:
    """The PyTorch index variant pip searched: named on its command or "Looking in indexes" line, else the local tag
    every version it offers carries ("2.2.0+rocm5.6, 2.2.1+rocm5.6" -> rocm5.6); None when neither says."""
    for line in lines:
        if named := _INDEX.search(line):
            return named["v"]
    tags = {v.partition("+")[2] for v in versions}
    return tags.pop() if len(tags) == 1 and "" not in tags else None


def pip_torch_faults(text: str | None) -> list[GpuFault]:
    """pip finding no torch of the version asked on the index it searched (one fault, the last such line)."""
    lines = clean_lines(text)
    found: GpuFault | None = None
    for line in lines:
        match = _NO_VERSION.search(line) or _NO_MATCH.search(line)
        if match is None:
            continue
        offered = [v.strip() for v in (match.groupdict().get("versions") or "").split(",") if v.strip()]
        facts = dict(found.facts) if found else {}
        facts["requirement"] = match["req"]
        if offered and offered != ["none"]:
            facts["offered"] = ", ".join(offered)
        if pinned := _PINNED.match(match["req"]):
            facts["version"] = pinned["version"]
            facts |= {"build": pinned["build"]} if pinned["build"] else {}
        if variant := _variant((text or "").splitlines(), offered):  # the command line too (a prompt line)
            facts["index"] = variant
        found = GpuFault(kind="pip_no_torch", evidence=line.strip(), detail=match["req"], facts=facts)
    return [found] if found else []


def pip_torch_fix(facts: dict[str, str]) -> str:
    """The fix of pip finding no torch of the version asked (fixes.yaml torch.no_matching_build): the index it searched
    and what that index has, and what the KB knows of the release (torch_published.yaml: its Pythons and CUDA
    indexes). The one answer to this line: doctor's finding and explain's pip-no-matching-distribution for torch."""
    version = facts.get("version")
    line = line_of(version) if version else None
    python = facts.get("python")  # the Python that ran pip, when the text says it
    outside = (
        f", not for the Python {python} that ran pip" if version and python and not has_python(version, python) else ""
    )
    known = (
        f" (the KB: torch {line.line}.x has wheels for Python {line.python or '?'}{outside}; CUDA indexes "
        f"{', '.join(line.cuda) or 'unknown'})"
        if line
        else ""
    )
    return fix_text(
        "torch.no_matching_build",
        requirement=facts.get("requirement", "torch"),
        index=f" (https://download.pytorch.org/whl/{facts['index']})" if "index" in facts else "",
        offered=f": it offers {facts['offered']}" if "offered" in facts else "",
        version=version or "<version>",
        known=known,
    )
