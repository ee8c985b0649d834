"""Package-manager failures: resolver conflicts (the two requirements and who asked for each), no matching
distribution (Python/platform vs the versions that exist), torch replaced by an install, builds that failed, and
options an older pip or uv does not know."""

from __future__ import annotations

import re

from rigfit.explain.analyzers.base import Finding, every, first, last, ver
from rigfit.explain.analyzers.context import Context, max_python_for_torch, modules
from rigfit.explain.scan import LogLine
from rigfit.kb.fixes import fix_text
from rigfit.kb.torch_published import (
    CUDA_VARIANT,
    PLATFORM_WORDS,
    cuda_variants,
    ended_advice,
    has_python,
    line_of,
    lowest_listed_cuda,
    newest_python,
    platforms_ended_at,
    pythons_ended_at,
)
from rigfit.kb.xformers import xformers_for_torch
from rigfit.plan.knowledge import wheel_lines
from rigfit.probe.gpu.pip_output import pip_torch_faults, pip_torch_fix

# "found existing installation" alone is in every pip upgrade: a signal only when torch is replaced, a KEYWORD else
# the ids of the findings this module returns (rigfit.explain.analyzers.class_ids)
IDS = (
    "pip-build-failed",
    "pip-dependency-unavailable",
    "pip-import-name-not-package",
    "pip-installed-incompatible",
    "pip-no-matching-distribution",
    "pip-resolver-conflict",
    "tool-option-unknown",
    "torch-replaced-by-install",
    "uv-resolver-conflict",
)

SIGNALS = (
    "no such option", "unexpected argument", "invalid value '", "conflict is caused by", "no solution found",
    "found existing installation: torch", "but you have", "failed to build", "failed building", "resolutionimpossible",
    "which is not installed",
)  # fmt: skip
KEYWORDS = (
    "conflict is caused by", "user requested", "but you have", "which is incompatible", "no matching distribution",
    "could not find a version", "no solution found", "found existing installation", "successfully uninstalled",
    "no such option", "unexpected argument", "unrecognized arguments", "resolutionimpossible",
    "failed building wheel", "failed to build", "failed to download and build", "did not run successfully",
    "subprocess-exited-with-error", "which is not installed", "metadata-generation-failed",
    "generating package metadata", "preparing metadata",
)  # fmt: skip
CONTEXT = (
    "depends on", "because", "and because", "successfully installed", "attempting uninstall", "collecting",
    "fatal error:", "fatal error c1083", "python.h", "install pytorch first", "requires pytorch", "requires-python",
    "requires a different python", "error: command", "not found", "can't find rust", "no module named", "apple m",
    "macos", "darwin", "macosx_", "users", "looking in indexes", "looking in links", "was found on", "using cached",
    "downloading", "a similar value exists", "uv pip", "uv sync", "uv.exe",
)  # fmt: skip

PIP_SOURCE = "https://pip.pypa.io/en/latest/topics/dependency-resolution/#dealing-with-dependency-conflicts"
UV_SOURCE = "https://docs.astral.sh/uv/reference/troubleshooting/"
USER_REQUESTED = re.compile(r"The user requested (?P<req>\S+)")
DEPENDS = re.compile(r"^\s*(?P<who>[\w.-]+) (?P<ver>[\w.+!-]+) depends on (?P<req>[\w.-]+\S*)")
REQUIRES_BUT = re.compile(
    r"(?P<who>[\w.-]+) (?P<ver>[\w.+-]+) requires (?P<req>[\w.\[\]-]+[^\s,]*(?:,[^\s,]+)*), "
    r"but you have (?P<have>[\w.-]+ [\w.+-]+)"
)  # a specifier may hold commas: numpy<2.1,>=1.22
REQUIRES_MISSING = re.compile(
    r"(?P<who>[\w.-]+) (?P<ver>[\w.+-]+) requires (?P<req>[\w.\[\]-]+[^\s,]*(?:,[^\s,]+)*), which is not installed"
)
NO_VERSION = re.compile(
    r"Could not find a version that satisfies the requirement (?P<req>\S+)(?: \(from (?!versions)(?P<via>[^)]*)\))?"
    r"(?:.*\(from versions: (?P<versions>[^)]*)\)?)?"  # a pasted line may be cut before its ")"
)
NO_MATCH = re.compile(r"No matching distribution found for (?P<req>\S+)")
# The failure is not the package's own: uv's cache or pip's metadata check (known issues explain them).
NOT_THE_PACKAGE = re.compile(r"Failed to deserialize cache entry|since it has invalid metadata", re.I)
LOOKING_IN = re.compile(r"Looking in (?:indexes|links): (?P<urls>.+)")
TORCH_PACKAGES = ("torch", "torchvision", "torchaudio")
PYTORCH_INDEX = re.compile(r"https?://download\.pytorch\.org/whl/(?:nightly/|test/)?(?P<variant>[^/\s,]+)")
# PyTorch's index variants are cu + digits (cu118, cu124), rocm + version (rocm6.2.4), cpu, xpu
PYTORCH_VARIANT = re.compile(
    r"^(?:cu\d{2,3}|rocm\d+(?:\.\d+){1,2}|cpu(?:-cxx11-abi)?|xpu|torch|simple|lts|nightly|test|torch_stable\.html)$"
)
UV_FIRST_INDEX = re.compile(
    r"`(?P<pkg>[\w.-]+)` was found on (?P<index>\S+?),? but not at the requested version \((?P<req>[^)]+)\)"
)
UV_NO_SOLUTION = re.compile(r"No solution found when resolving")
UV_BECAUSE = re.compile(r"(?:Because|And because) (?P<why>.+)")
UV_ONLY_VERSIONS = re.compile(r"only (?P<pkg>[\w.-]+)\S* (?:==|<=|>=|<|>)?\S* (?:is|are) available")
REQUIRES_PYTHON = re.compile(
    r"Requires-Python (?P<spec>[^;:\s]+(?:,[^;:\s]+)*)|requires a different Python: (?P<have>[\d.]+) not in "
    r"'(?P<spec2>[^']+)'"
)
FOUND_EXISTING = re.compile(r"Found existing installation: (?P<pkg>torch|torchvision|torchaudio) (?P<ver>\S+)")
INSTALLED = re.compile(r"Successfully installed .*\btorch-(?P<ver>\d[\w.+]*)")
UNINSTALLED_TORCH = re.compile(r"Successfully uninstalled torch-\d")
COLLECTING_TORCH = re.compile(r"Collecting torch\S*(?: [^(]*)?\((?:from )?(?P<who>[\w.-]+)")
NO_OPTION = re.compile(
    r"no such option: (?P<opt>-[\w-]+)|unexpected argument '(?P<uvopt>-[\w-]+)'|unrecognized arguments: "
    r"(?P<argopt>-[\w-]+)|"
    # clap (uv, ruff...): a value of an option this release does not list
    r"invalid value '(?P<value>[^']*)' for '(?P<valopt>--?[\w-]+)"
)
UV_CHANGELOG = "https://github.com/astral-sh/uv/blob/main/CHANGELOG.md"
UV_PYTORCH = "https://docs.astral.sh/uv/guides/integration/pytorch/"
CLAP_SIMILAR = re.compile(r"tip: a similar value exists: '(?P<similar>[^']+)'")
MENTIONS_UV = re.compile(r"(?:^|[\s/\\\"'`])uv(?:\.exe)?\s+(?:pip|sync|add|lock|run|venv|tool|self)\b")
BUILD_FAILED = re.compile(
    r"Failed building wheel for (?P<pkg>[\w.-]+)|Failed to build (?:installable wheels for some pyproject\.toml based "
    r"projects \()?(?P<pkg2>[\w.-]+)|Building wheel for (?P<pkg3>[\w.-]+) \(\w+(?:\.\w+)?\) did not run successfully|"
    r"Failed to (?:download and build|build):? `(?P<pkg4>[\w.-]+)"  # not "(?:download and )?": "failed to " is common
)
BUILD_REASON = re.compile(
    r"fatal error: (?P<header>[\w./]+\.h): No such file|"
    r"fatal error C1083: [^\n]*?(?P<msvc_header>[\w./]+\.h)\W*: No such|"
    r"error: command '(?P<cmd>[^']+)' failed|"
    r"(?P<nocc>(?:gcc|g\+\+|cc|c\+\+|cmake|nvcc)[:'\"]? (?:command )?not found)|(?P<rust>can't find Rust compiler)|"
    r"(?P<msvc>Microsoft Visual C\+\+ 14\.0 or greater is required)|"
    r"(?P<notorch>No module named '?torch'?$|install PyTorch first|requires PyTorch.*being installed)"
)


# a package's metadata step (setup.py egg_info, the backend's prepare_metadata hook) failed: pip names no package
# there, the sdist it was building is the last one it fetched
METADATA_FAILED = re.compile(
    r"Preparing metadata \([\w.]+\): finished with status 'error'|egg_info did not run successfully|"
    r"metadata-generation-failed|Encountered error while generating package metadata|"
    r"Getting requirements to build (?:wheel|editable) did not run successfully"
)
SDIST = re.compile(
    r"(?:Using cached|Downloading|Collecting) (?P<pkg>[A-Za-z][\w.-]*?)-(?P<ver>\d[\w.+!]*?)\.(?:tar\.gz|zip)\b"
)
BUILD_MISSING_MODULE = re.compile(r"No module named '?(?P<module>[\w.]+)'?")
BUILD_OUTPUT_SPAN = 40  # lines of a build's output shown before pip's failure summary
CANNOT_INSTALL = re.compile(
    r"Cannot install (?P<reqs>.+?) because these package versions have conflicting dependencies", re.I
)
IMPORT_NAME = re.compile(r"cannot import name ['\"]?(?P<name>\w+)['\"]? from ['\"]?(?P<module>[\w.]+)")


def analyze(ctx: Context) -> list[Finding]:
    found = [_pip_conflict(ctx) or _unnamed_conflict(ctx), _requires_but(ctx), _uv_conflict(ctx),
             _no_distribution(ctx), _torch_replaced(ctx), _build_failed(ctx) or _metadata_failed(ctx),
             _unknown_option(ctx)]  # fmt: skip
    return [f for f in found if f is not None]


def _unnamed_conflict(ctx: Context) -> Finding | None:
    """pip's "Cannot install A, B and C because these package versions have conflicting dependencies" without its
    "The conflict is caused by" block: the clash is among those requirements; an ImportError of one of them later in
    the log comes from the release the failed install left in place."""
    hit = first(ctx.lines, CANNOT_INSTALL)
    if hit is None:
        return None
    line, m = hit
    items = [r.strip() for r in re.split(r",\s*|\s+and\s+", m.group("reqs")) if r.strip()]
    reqs = [r for r in items if not r.startswith("-")] or items
    files = [r.removeprefix("-r").strip() for r in items if r.startswith("-r")]
    pinned = [r for r in reqs if "==" in r]
    facts = {"requirements": ", ".join(reqs)}
    cause = (
        f"pip could not find releases of {', '.join(reqs)}{' and ' + files[0] if files else ''} that fit together, "
        'so it installed none of them; the log does not show which dependency clashes (pip prints it under "The '
        'conflict is caused by").'
    )
    evidence = [line]
    supersedes: tuple[str, ...] = ()
    names = {_name(r) for r in reqs}
    later = next((h for h in every(ctx.lines, IMPORT_NAME) if h[0].number > line.number), None)
    if later and _name(later[1].group("module").split(".")[0]) in names:
        pkg = later[1].group("module").split(".")[0]
        facts.update(package=pkg, name=later[1].group("name"))
        cause += (
            f" The {pkg} already in the environment stayed, and it has no `{later[1].group('name')}`: the import "
            "error after it is a consequence of the failed install, not a second problem."
        )
        evidence.append(later[0])
        supersedes = ("python-name-version-mismatch",)
    loosen = " and ".join(f"`{r}`" for r in pinned) or "the exact pins"
    unpinned = " ".join(f'"{_name(r)}"' for r in reqs)
    fix = (
        f"Loosen the exact pins ({loosen}) in the requirements file that names them, one at a time, and let pip "
        f"choose the rest: e.g. `{ctx.pip()} install {unpinned}` shows "
        'which releases fit; to see the clashing dependency, rerun the failed install and read "The conflict is '
        'caused by".'
    )
    return Finding(
        "pip-resolver-conflict", f"pip: {', '.join(reqs)} cannot be installed together", cause, fix, evidence, facts,
        [PIP_SOURCE], supersedes=supersedes,
    )  # fmt: skip


def _pip_conflict(ctx: Context) -> Finding | None:
    depends = every(ctx.lines, DEPENDS)
    requested = every(ctx.lines, USER_REQUESTED)
    if (
        not depends
        or not (requested or len(depends) > 1)
        or not first(ctx.lines, re.compile("conflict is caused by|ResolutionImpossible|conflicting dependencies", re.I))
    ):
        return None
    wants = [("your command or requirements file", m.group("req"), line) for line, m in requested]
    wants += [(f"{m.group('who')} {m.group('ver')}", m.group("req"), line) for line, m in depends]
    target = _most_named(wants)
    on_target = [w for w in wants if _name(w[1]) == target]
    a, b = _disagreeing(on_target)
    if len({_name(w[1]) for w in on_target} | {w[1].strip() for w in on_target}) == 1:
        return _dependency_unavailable(ctx, target, on_target)
    facts = {"package": target, "requirement_a": a[1], "asked_by_a": a[0], "requirement_b": b[1], "asked_by_b": b[0]}
    cause = (
        f"The resolver cannot satisfy both requirements on {target}: {a[0]} asks for {a[1]}, while {b[0]} asks "
        f"for {b[1]}; no version of {target} fits both."
    )
    fix = _agree_fix(ctx, a, b) + " " + _pair_hint(target, a[1], b[1])
    return Finding(
        "pip-resolver-conflict",
        f"pip: conflicting requirements on {target}",
        cause,
        fix.strip(),
        [line for _, _, line in (a, b)],
        facts,
        [PIP_SOURCE],
    )


def _dependency_unavailable(ctx: Context, target: str, wants: list[tuple[str, str, LogLine]]) -> Finding:
    """Every candidate asks for the same unversioned dependency: nothing conflicts, the index has no installable one."""
    askers = sorted({w[0].split(" ")[0] for w in wants})
    who = ", ".join(askers)
    indexes = first(ctx.lines, LOOKING_IN)
    facts = {"package": target, "required_by": who}
    if indexes:
        facts["indexes"] = indexes[1].group("urls").strip()
    cause = (
        f"Nothing conflicts: every release of {who} pip tried depends on {target} (without a version limit), and the "
        f"index pip used has no {target} it can install, either because the index (a PyPI mirror, a private index) "
        f"does not carry {target}, or because {target} has no wheel for this Python or platform."
    )
    fix = (
        f"See what the index offers: `{ctx.pip()} download --no-deps {target} -d /tmp/probe` (and `{ctx.pip()} config "
        f"list` for a configured mirror); if the mirror lacks it, install it from PyPI first, `{ctx.pip()} install "
        f"{target} --index-url https://pypi.org/simple`, then rerun the install; if PyPI has no wheel for this Python, "
        f"use a release of {askers[0]} that does not need {target}, or a Python that {target} supports."
    )
    return Finding(
        "pip-dependency-unavailable",
        f"pip: no installable {target} on the index",
        cause,
        fix,
        [w[2] for w in wants[:2]],
        facts,
        [PIP_SOURCE],
    )


def _agree_fix(ctx: Context, a: tuple[str, str, LogLine], b: tuple[str, str, LogLine]) -> str:
    """How to make two requirements agree; a package's pin is changed by picking another release of that package."""
    mine = [w for w in (a, b) if len(w[0].split(" ")) != 2]
    theirs = [w for w in (a, b) if len(w[0].split(" ")) == 2]
    if mine and theirs:
        pkg = theirs[0][0].split(" ")[0]
        return (
            f"Make the two agree: change your requirement to what {theirs[0][0]} needs ({theirs[0][1]}), or use a "
            f"release of {pkg} that accepts {mine[0][1]} (or leave {pkg} out if nothing you run needs it)."
        )
    other = b[0].split(" ")
    together = f'`{ctx.pip()} install "{b[1]}" "{other[0]}=={other[1]}"`' if len(other) == 2 else "one command"
    return (
        f"Make the two agree: either take what {b[0]} needs, {together}, or keep {a[1]} and pick the release of "
        f"{other[0]} made for it."
    )


def _pair_hint(target: str, a: str, b: str) -> str:
    if target in TORCH_PACKAGES:
        return (
            "torch, torchvision and torchaudio come in release triples (torch 2.x.y with torchvision 0.(x+15).y, "
            "torch 1.x with torchvision 0.(x+1)): pin them as one triple, from one index."
        )
    return ""


USER_INSTALL = re.compile(r"Defaulting to user installation because normal site-packages is not writeable")


def _import_name_of(requirement: str) -> str | None:
    """The package that provides `requirement` when `requirement` is an import name (dateutil, cv2, PIL) that no
    package of that name provides: people pip install what the error printed."""
    name = re.split(r"[<>=!~\[ ;(@]", requirement, maxsplit=1)[0]
    known = modules().get(name)
    if known is None or known.kind != "package" or not known.package or _name(known.package) == _name(name):
        return None
    return known.package


def _import_name_asked(ctx: Context, line: LogLine, facts: dict[str, str], package: str) -> Finding:
    module = facts["package"]
    facts.update(module=module, package=package)
    cause = (
        f"`{module}` is the name Python code imports; the package that provides it is `{package}`, and no package "
        f'named {module} exists on the index ("from versions: none").'
    )
    fix = f"`{ctx.pip()} install {package}`"
    if (user := first(ctx.lines, USER_INSTALL)) is not None:
        cause += (
            ' pip also ran outside the UI\'s environment ("Defaulting to user installation"): a package installed '
            "there is not seen by the UI."
        )
        fix += ", with the UI's own Python (a portable ComfyUI: from its folder), not the system pip"
    if (plugin := ctx.plugin(line.number)) and ctx.facts.get("ui") == "comfyui":
        facts["plugin"] = plugin
        fix += f"; `{ctx.pip()} install -r custom_nodes/{plugin}/requirements.txt` installs all that {plugin} needs"
    return Finding(
        "pip-import-name-not-package",
        f"{module} is an import name: the package is {package}",
        cause,
        fix + ", then restart the UI",
        [line] + ([user[0]] if user else []),
        facts,
        [
            modules()[module].sources[0]
            if modules()[module].sources
            else "https://pip.pypa.io/en/stable/cli/pip_install/"
        ],
        confidence=0.85,
        supersedes=("python-module-not-found",),
    )


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;(@]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _most_named(wants: list[tuple[str, str, LogLine]]) -> str:
    counts: dict[str, int] = {}
    for _, req, _ in wants:
        counts[_name(req)] = counts.get(_name(req), 0) + 1
    return max(counts, key=lambda k: counts[k])


def _disagreeing(wants: list[tuple[str, str, LogLine]]) -> tuple[tuple[str, str, LogLine], tuple[str, str, LogLine]]:
    """The two requirements that clash: exact pins first (==, ===, a direct URL), the user's own before others."""
    pinned = [w for w in wants if "==" in w[1] or "(" in w[1] or "@" in w[1]]
    ordered = pinned + [w for w in wants if w not in pinned]
    a = ordered[0]
    b = next((w for w in ordered[1:] if w[1] != a[1]), ordered[-1])
    return a, b


def _requires_missing(ctx: Context) -> Finding | None:
    """pip's post-install check: "X requires Y, which is not installed" (the install left a dependency out)."""
    hit = last(ctx.lines, REQUIRES_MISSING)
    if hit is None:
        return None
    line, m = hit
    req = m.group("req").strip()
    facts = {"package": _name(req), "required_by": f"{m.group('who')} {m.group('ver')}", "requirement": req}
    cause = (
        f"The install finished, but {m.group('who')} {m.group('ver')} needs {req}, which is not in this environment "
        "(removed, or skipped by a --no-deps install or an interrupted one); code importing it fails."
    )
    fix = f'Install it into the same environment: `{ctx.pip()} install "{req}"`, then `{ctx.pip()} check`.'
    return Finding(
        "pip-installed-incompatible",
        f"pip left {facts['package']} missing, which {m.group('who')} requires",
        cause,
        fix,
        [line],
        facts,
        [PIP_SOURCE],
    )


def _requires_but(ctx: Context) -> Finding | None:
    hits = every(ctx.lines, REQUIRES_BUT)
    if not hits or first(ctx.lines, re.compile("conflict is caused by", re.I)):
        return _requires_missing(ctx) if not hits else None
    # a compiled torch extension pinned to one torch says more than a pure-Python package's range
    line, m = next(((ln, mm) for ln, mm in hits if mm.group("who").lower() == "xformers"), hits[-1])
    have = m.group("have")
    facts = {"package": _name(m.group("req")), "required_by": f"{m.group('who')} {m.group('ver')}",
             "requirement": m.group("req").strip(), "installed": have}  # fmt: skip
    cause = (
        f"The install finished, but left {have} while {m.group('who')} {m.group('ver')} requires "
        f"{m.group('req').strip()}: something installed after it (or a --no-deps install) changed {facts['package']}."
    )
    fix = (
        f"Decide which one the UI needs: install {m.group('req').strip()!s} (`{ctx.pip()} install "
        f'"{m.group("req").strip().replace(" ", "")}"`), or the release of {m.group("who")} made for {have}; if '
        f"{m.group('who')} is unused, the warning is harmless."
    )
    if m.group("who").lower() == "xformers" and (match := xformers_for_torch(have.split()[-1])):
        facts["xformers_match"] = match.id
        fix = (
            f"Keep torch and install the xformers built for it: `{ctx.pip()} install --no-deps "
            f'"xformers=={match.id}"` (xformers {match.id} targets torch {match.torch}), from the same index as torch; '
            "or uninstall xformers and use the UI's PyTorch SDPA attention."
        )
    elif facts["package"] in TORCH_PACKAGES:
        fix += " Install torch, torchvision and torchaudio as one matching triple from one index, in one command."
    return Finding(
        "pip-installed-incompatible",
        f"pip left {facts['package']} at a version {m.group('who')} does not accept",
        cause,
        fix,
        [line],
        facts,
        [PIP_SOURCE],
    )


def _uv_conflict(ctx: Context) -> Finding | None:
    if not first(ctx.lines, UV_NO_SOLUTION):
        return None
    reasons = every(ctx.lines, UV_BECAUSE)
    if not reasons:
        return None
    m = reasons[0][1]
    why = m.group("why").rstrip(".")
    facts = {"reason": why[:300]}
    cause = f"uv found no set of versions that satisfies every requirement: because {why}."
    fix = (
        "Change one of the requirements the reason names so they agree (uv lists them from the root of the conflict): "
        "for torch, pin the torch/torchvision/torchaudio triple and give the index explicitly "
        "(`--index-url https://download.pytorch.org/whl/<variant>` or `--torch-backend`), since other indexes only "
        "have some variants."
    )
    if m2 := UV_ONLY_VERSIONS.search(why):
        facts["package"] = m2.group("pkg")
    sources = [UV_SOURCE]
    if texts := _uv_variant_lacks_release(ctx, why, facts):
        cause, fix = texts
        sources.append("rigfit/kb/torch_published.yaml (CUDA variants per torch line)")
    elif hint := first(ctx.lines, UV_FIRST_INDEX):
        h = hint[1]
        facts.update(package=h.group("pkg"), index=h.group("index"), requirement=h.group("req"))
        cause = (
            f"uv takes each package from the first index that has it: {h.group('pkg')} exists on {h.group('index')}, "
            f"but not as {h.group('req')}, and uv does not look for it on the next index (PyPI), so the requirement "
            "cannot be met."
        )
        fix = (
            f"Let only torch come from {h.group('index')}: in pyproject.toml mark that index `explicit = true` and map "
            "torch/torchvision/torchaudio to it under [tool.uv.sources] (or use `--torch-backend`), or allow every "
            "index for every package with `--index-strategy unsafe-best-match` (UV_INDEX_STRATEGY=unsafe-best-match)."
        )
        reasons = [(hint[0], h), *reasons]
    return Finding(
        "uv-resolver-conflict",
        "uv: no solution for the requirements",
        cause,
        fix,
        [line for line, _ in reasons[:3]],
        facts,
        sources,
    )


UV_ONLY_TAGGED = re.compile(
    r"only (?P<pkg>torch(?:vision|audio)?)\S*?\+(?P<variant>cu\d{3}|rocm[\d.]+) (?:is|are) available", re.I
)
UV_DEPENDS_TORCH = re.compile(r"depends on (?P<pkg>torch(?:vision|audio)?)\s*>=\s*(?P<min>\d+\.\d+(?:\.\d+)?)")


def _uv_variant_lacks_release(ctx: Context, why: str, facts: dict[str, str]) -> tuple[str, str] | None:
    """uv saw only older torch builds on a PyTorch index variant (`only torch<=2.6.0+cu124 is available`) while the
    package needs a newer torch: PyTorch stopped publishing that variant before the release needed, so no resolver
    setting helps; another variant does."""
    only = UV_ONLY_TAGGED.search(why)
    needs = next(
        (m for _, m in every(ctx.lines, UV_DEPENDS_TORCH) if only and m.group("pkg") == only.group("pkg")), None
    )
    if only is None or needs is None or only.group("pkg") != "torch":
        return None
    variant, minimum = only.group("variant").lower(), needs.group("min")
    entry = line_of(minimum)
    if entry is None or not entry.cuda or variant in entry.cuda or not variant.startswith("cu"):
        return None
    newer = [v for v in entry.cuda if int(v[2:]) > int(variant[2:])]
    use = min(newer, key=lambda v: int(v[2:])) if newer else max(entry.cuda, key=lambda v: int(v[2:]))
    facts.update(variant=variant, torch_needed=f">={minimum}", variants_of_line=", ".join(entry.cuda))
    cause = (
        f"The install takes torch from PyTorch's {variant} index, and PyTorch built torch {entry.line} only for "
        f"{', '.join(entry.cuda)}: {variant} stops at an older torch, so torch>={minimum} cannot be found there "
        "whatever the resolver settings (`--prerelease`, `--index-strategy` do not help)."
    )
    fix = (
        f"Use the {use} index instead (`--index-url https://download.pytorch.org/whl/{use}`; in a launcher, pick the "
        f"option that installs {use} or newer); it needs an NVIDIA driver for CUDA {use[2:-1]}.{use[-1]} or newer "
        "(`nvidia-smi` shows the CUDA version the driver supports). Or install the release of the package made for "
        "the torch the old index has."
    )
    return cause, fix


def _no_distribution(ctx: Context) -> Finding | None:
    hit = last(ctx.lines, NO_VERSION) or last(ctx.lines, NO_MATCH)
    if hit is None or first(ctx.lines, NOT_THE_PACKAGE):
        return None
    line, m = hit
    req = m.group("req")
    versions = (m.groupdict().get("versions") or "").strip()
    facts = {"requirement": req, "package": _name(req)}
    if ctx.python:
        facts["python"] = ctx.python
    if versions in ("", "none") and (renamed := _import_name_of(req)):
        return _import_name_asked(ctx, line, facts, renamed)
    pyreq = last(ctx.lines, REQUIRES_PYTHON)
    on = f"Python {ctx.python}" if ctx.python else "this Python version and platform"
    cause, fix = _distribution_texts(ctx, facts, req, versions, on)
    if pyreq is not None and _about(pyreq[0].text, req, versions):
        facts["requires_python"] = pyreq[1].group("spec") or pyreq[1].group("spec2")
        cause += f" Its releases need Python {facts['requires_python']}."
    evidence: list[LogLine] = [line]
    supersedes: tuple[str, ...] = ()
    if missing := _missing_after(ctx, line.number, facts["package"]):
        cause += f" Nothing was installed, so the `No module named '{facts['package']}'` after it follows from this."
        evidence, supersedes = [line, missing], ("python-module-not-found",)
    return Finding(
        "pip-no-matching-distribution",
        f"No installable {facts['package']} " + ("on the index pip was given" if "index" in facts else f"for {on}"),
        cause,
        fix,
        evidence,
        facts,
        [
            "https://pip.pypa.io/en/stable/cli/pip_install/#finding-packages",
            "https://pytorch.org/get-started/previous-versions/",
        ],
        supersedes=supersedes,
    )


def _distribution_texts(ctx: Context, facts: dict[str, str], req: str, versions: str, on: str) -> tuple[str, str]:
    """Cause and fix of "no matching distribution", from the most specific reason the log and the KB give."""
    variant = _missing_variant(req, versions)
    if variant is not None:
        cause, fix = _variant_texts(ctx, facts, *variant)
    elif versions and versions != "none" and (newer := _python_too_new(ctx, req, versions)):
        facts["python_above"] = newer
        cause, fix = _python_too_new_texts(ctx, facts, req, versions, newer)
    elif versions and versions != "none" and (ended := _support_ended(ctx, facts, req, versions)):
        cause, fix = ended
    elif versions and versions != "none":
        shown = versions.split(", ")
        facts["available"] = ", ".join(shown[-5:])
        cause = (
            f"No release of {facts['package']} matching {req} has a wheel for {on} on the index pip used; the versions "
            f"it has there are {'... ' if len(shown) > 5 else ''}{facts['available']}."
        )
        fix = _torch_kb_fix(ctx, facts) or (
            f"Use a version that exists ({shown[-1]} is the newest), or a Python the requested version supports (a "
            "venv made with that Python). For torchvision/torchaudio with a CUDA/ROCm suffix, give the index of that "
            "variant (`--index-url https://download.pytorch.org/whl/<variant>`): PyPI has only the default build."
        )
    elif index_texts := _index_texts(ctx, facts):
        cause, fix = index_texts
    elif no_wheel := _no_wheel_for_python(ctx, facts, req):
        cause, fix = no_wheel
    else:
        cause, fix = _nothing_offered_texts(ctx, facts, on)
        fix = _torch_kb_fix(ctx, facts) or fix
    return cause, fix


def _torch_kb_fix(ctx: Context, facts: dict[str, str]) -> str | None:
    """torch's fix when no reason more specific than "not on the index" is known: doctor's, from the KB entry
    (fixes.yaml torch.no_matching_build), with the facts doctor reads from the same lines (the index searched, what
    it offers) and the Python that ran pip; None for another package."""
    if facts["package"] != "torch":
        return None
    faults = pip_torch_faults("\n".join(line.text for line in ctx.lines))
    if not faults:
        return None
    return pip_torch_fix(faults[0].facts | ({"python": ctx.python} if ctx.python else {}))


def _nothing_offered_texts(ctx: Context, facts: dict[str, str], on: str) -> tuple[str, str]:
    cause = (
        f"The index has no file of {facts['package']} at all for {on}: the package has no wheel for this Python "
        "(too new or too old for it), the platform (aarch64, Windows, macOS), or the index URL is wrong or "
        "unreachable (no network, a proxy)."
    )
    fix = (
        f"Check the package's files on its index for a cp{(ctx.python or '3.X').replace('.', '')} wheel of "
        "your platform; if none exists, create the venv with a Python it supports (3.10 or 3.11 for most SD UIs). "
        "If pip printed connection errors before this, fix the network or proxy first."
    )
    return cause, fix


NO_MODULE = re.compile(r"No module named ['\"]?(?P<module>[\w]+)['\"]?\s*$")


def _missing_after(ctx: Context, after: int, package: str) -> LogLine | None:
    """A "No module named X" later in the log for the package whose install just failed: a consequence of it."""
    for line, m in every(ctx.lines, NO_MODULE):
        if line.number > after and _name(m.group("module")) == package:
            return line
    return None


def log_platform(ctx: Context) -> str | None:
    """The wheel platform the log ran on, from its paths (torch_published.yaml's names); None when it does not say."""
    text = "\n".join(line.text for line in ctx.lines)
    match ctx.facts.get("log_os"):
        case "windows":
            return "windows"
        case "macos":
            return "macos-x86_64" if re.search(r"x86_64|\bIntel\b", text) else "macos-arm64"
        case "linux":
            return "linux-aarch64" if "aarch64" in text else "linux-x86_64"
    return None


def _pinned(req: str) -> str | None:
    wanted = re.search(r"==\s*(\d[\w.]*)", req)
    return wanted[1].split("+")[0] if wanted else None


def _python_too_new(ctx: Context, req: str, versions: str) -> str | None:
    """The newest Python the requested torch has wheels for (on the log's platform), when every release the index
    offers is newer than the one asked for: a Python newer than that release is the usual reason (pip lists only
    releases with wheels for the running Python). None when the log names the Python or the package is not torch."""
    wanted = _pinned(req)
    if ctx.python or _name(req) != "torch" or wanted is None:
        return None
    offered = [ver(v.strip()) for v in versions.split(",") if v.strip()]
    if not offered or min(offered) <= ver(wanted):
        return None
    platform = log_platform(ctx)
    if platform is None:  # the Python every platform's wheels reach, so the advice holds wherever the log ran
        reach = [n for p in PLATFORM_WORDS if (n := newest_python(wanted, p))]
        return min(reach, key=ver) if reach else max_python_for_torch(wanted)
    return newest_python(wanted, platform) or max_python_for_torch(wanted)


def _wheels_reach(torch: str, newest: str, platform: str | None) -> str:
    """ "torch 1.13.1's Windows wheels go up to Python 3.10", naming the platform where the platforms differ."""
    if platform:
        where = f"{PLATFORM_WORDS.get(platform, platform)} wheels" if newest_python(torch) != newest else "wheels"
        return f"torch {torch}'s {where} go up to Python {newest}"
    other = [
        f"{n} on {words}" for p, words in PLATFORM_WORDS.items() if (n := newest_python(torch, p)) not in (newest, None)
    ]
    elsewhere = f" ({', '.join(other)})" if other else ""
    return f"torch {torch} wheels go up to Python {newest}{elsewhere}"


def _python_too_new_texts(ctx: Context, facts: dict[str, str], req: str, versions: str, newest: str) -> tuple[str, str]:
    oldest = min((v.strip() for v in versions.split(",") if v.strip()), key=ver)
    platform = log_platform(ctx)
    if platform:
        facts["platform"] = PLATFORM_WORDS.get(platform, platform)
    cause = (
        f"The index has torch only from {oldest} on for this Python, nothing as old as {req}: "
        f"{_wheels_reach(_pinned(req) or req, newest, platform)} at most, so the venv runs a newer Python "
        f"(pip lists only the releases that have a wheel for the running Python)."
    )
    fix = (
        f"Create the venv with Python {newest} or older (3.10 for A1111/Forge/kohya_ss: `python3.10 -m venv venv`, or "
        "python_cmd in webui-user.sh / the launcher's Python setting), delete the old venv, and rerun; or ask for "
        f"torch {oldest} or newer if the UI supports it. `rigfit plan` picks a Python and torch that fit together."
    )
    return cause, fix


def _support_ended(ctx: Context, facts: dict[str, str], req: str, versions: str) -> tuple[str, str] | None:
    """Cause and fix when every torch the index offers is older than the one asked for and the newest offered is the
    last release PyTorch published for a platform (2.2.2: macOS on Intel) or for a Python (2.4.1: Python 3.8)."""
    wanted = _pinned(req)
    offered = [v.strip() for v in versions.split(",") if v.strip()]
    if _name(req) != "torch" or wanted is None or not offered:
        return None
    newest = max(offered, key=ver)
    if ver(newest) >= ver(wanted):
        return None
    platform = log_platform(ctx)
    ended = [p for p in platforms_ended_at(newest) if platform is None or p.split("-")[0] == platform.split("-")[0]]
    facts["available"] = ", ".join(offered[-5:])
    pythons = [] if ctx.python and not ended else pythons_ended_at(newest, platform)
    if ctx.python:
        pythons = [p for p in pythons if p == ".".join(ctx.python.split(".")[:2])]
    if ended:
        facts["platform"] = PLATFORM_WORDS[ended[0]]
        facts["last_release"] = newest
        companions = _companions(newest)
        cause = (
            f"The newest torch the index offers this Python is {newest}, PyTorch's last release for "
            f"{PLATFORM_WORDS[ended[0]]}: no later torch (so no {req}) was published for it, whatever the Python "
            "version."
        )
        advice = ended_advice(ended[0])
        fix = (
            f'With this Python the newest is `{ctx.pip()} install "torch=={newest}"{companions}` (code that needs a '
            f"newer torch will not run with it); {req} needs another platform{f': {advice}' if advice else ''}."
        )
        return cause, fix
    if pythons:
        facts["python"] = pythons[0]
        cause = (
            f"The newest torch the index offers is {newest}, the last release with wheels for Python {pythons[0]}: the "
            f"venv runs Python {pythons[0]}, too old for {req} (pip lists only the releases with a wheel for it)."
        )
        need = line_of(wanted)
        spec = need.python_on(platform) if need else None
        fix = (
            f"Create the venv with a newer Python{f' ({spec})' if spec else ''}, delete the old venv and rerun; or ask "
            f"for torch {newest} if the code supports it. `rigfit plan` picks a Python and torch that fit together."
        )
        return cause, fix
    return None


def _companions(torch: str) -> str:
    """' torchvision==0.17.2 torchaudio==2.2.2' for the release line's companions the KB knows."""
    entry = line_of(torch)
    if entry is None or entry.last != torch:
        return ""
    pairs = [
        f'"{name}=={version}"'
        for name, version in (("torchvision", entry.torchvision), ("torchaudio", entry.torchaudio))
        if version
    ]
    return "".join(f" {pair}" for pair in pairs)


def _no_wheel_for_python(ctx: Context, facts: dict[str, str], req: str) -> tuple[str, str] | None:
    """Cause and fix for "(from versions: none)" when the log names the Python and the KB knows the pinned torch
    has no wheel for it on the log's platform."""
    wanted = _pinned(req)
    if _name(req) != "torch" or wanted is None or not ctx.python:
        return None
    python = ".".join(ctx.python.split(".")[:2])
    platform = log_platform(ctx)
    if has_python(wanted, python, platform) is not False:
        return None
    entry = line_of(wanted)
    newest = newest_python(wanted, platform)
    spec = entry.python_on(platform) if entry else None
    facts["torch_python"] = spec or ""
    where = f" on {PLATFORM_WORDS[platform]}" if platform and entry and platform in entry.python_by_platform else ""
    cause = (
        f"torch {wanted} has no wheel for Python {python}{where}: its wheels cover Python {spec}, so no index has a "
        "file pip could install here."
    )
    fix = (
        f"Create the venv with Python {newest} (install it beside the current one; A1111/Forge: python_cmd or the "
        f"PYTHON setting in webui-user, then delete the venv folder), and rerun; or ask for a torch release with "
        f"Python {python} wheels if the UI supports one."
    )
    return cause, fix


def _index_texts(ctx: Context, facts: dict[str, str]) -> tuple[str, str] | None:
    """Cause and fix when the index pip was given explains "(from versions: none)": a PyTorch variant that does not
    exist, or PyTorch's index alone for a package it does not host."""
    if unpublished := _unpublished_cuda_index(ctx):
        return _unpublished_texts(facts, *unpublished)
    if bad_index := _bad_pytorch_index(ctx):
        facts["index"] = bad_index
        cause = (
            f"The index URL {bad_index} is not a PyTorch index: PyTorch's variants are named cu + digits (cu118, "
            "cu124, cu126), rocm + version (rocm6.2.4) or cpu, so pip found no files there, not even for another "
            "version."
        )
        near = re.sub(r"[^a-z0-9]", "", bad_index.rsplit("/", 1)[-1].lower())
        fix = (
            f"Use the index of a variant PyTorch publishes (the name without dots: `--index-url "
            f"https://download.pytorch.org/whl/{near}`), and check that it has your version of {facts['package']}: "
            f"https://download.pytorch.org/whl/{near}/{facts['package']}/ lists the files it has; not every variant "
            "has every release. `rigfit plan` prints the line that fits the machine's driver."
        )
        return cause, fix
    if facts["package"] not in TORCH_PACKAGES and (only := _only_pytorch_index(ctx)):
        facts["index"] = only
        cause = (
            f"pip searched only {only}: --index-url replaced PyPI by PyTorch's index, which hosts torch, "
            f"torchvision, torchaudio and a few of their dependencies, not {facts['package']}."
        )
        fix = (
            f"Install torch from its index in one command (`{ctx.pip()} install torch torchvision torchaudio "
            f"--index-url {only}`), then the rest from PyPI in another (`{ctx.pip()} install -r requirements.txt`, "
            "no --index-url); or keep one command with `--extra-index-url` for the PyTorch index instead of "
            "--index-url."
        )
        return cause, fix
    return None


def _only_pytorch_index(ctx: Context) -> str | None:
    """The PyTorch index URL when it is the only index pip looked in (--index-url, no --extra-index-url)."""
    hit = last(ctx.lines, LOOKING_IN)
    if hit is None or "indexes" not in hit[0].text:
        return None
    urls = [u.strip() for u in hit[1].group("urls").split(",") if u.strip()]
    if urls and all(PYTORCH_INDEX.fullmatch(u) for u in urls):
        return urls[0]
    return None


def _unpublished_cuda_index(ctx: Context) -> tuple[str, str] | None:
    """(URL, variant) of a download.pytorch.org/whl/cuXYZ index pip looked in that PyTorch never published (cu131):
    a CUDA version number in PyTorch's index naming, but no release line was built for it."""
    published = cuda_variants()
    for _, m in every(ctx.lines, LOOKING_IN):
        for index in PYTORCH_INDEX.finditer(m.group("urls")):
            variant = index.group("variant").rstrip("/")
            if CUDA_VARIANT.match(variant) and int(variant[2:]) > lowest_listed_cuda() and variant not in published:
                return index.group(0), variant
    return None


def _unpublished_texts(facts: dict[str, str], url: str, variant: str) -> tuple[str, str]:
    facts.update(index=url, variant=variant)
    wanted = _pinned(facts["requirement"])
    entry = line_of(wanted) if wanted else None
    digits = int(variant[2:])
    if entry is not None and entry.cuda:
        below = [v for v in entry.cuda if int(v[2:]) <= digits]
        use = max(below or entry.cuda, key=lambda v: int(v[2:]))
        of = f"torch {entry.line}'s variants are {', '.join(entry.cuda)}"
    else:
        below = [v for v in cuda_variants() if int(v[2:]) <= digits]
        use = max(below, key=lambda v: int(v[2:]))
        of = "the CUDA variants it publishes are " + ", ".join(sorted(cuda_variants(), key=lambda v: int(v[2:]))[-6:])
    cause = (
        f"PyTorch publishes no {variant} index ({url} is empty, so pip found no version at all): {of}. A wheel built "
        f"with CUDA {digits // 10}.{digits % 10} does not need its own index; a driver that runs CUDA "
        f"{digits // 10}.{digits % 10} runs the {use} build."
    )
    fix = (
        f"Use `--index-url https://download.pytorch.org/whl/{use}` (the published variant at or below {variant}) with "
        f"the same torch/torchvision/torchaudio versions; extensions built with the CUDA {digits // 10}.x toolkit "
        f"load with a {use} torch of the same major."
    )
    return cause, fix


def _bad_pytorch_index(ctx: Context) -> str | None:
    """A download.pytorch.org/whl/<variant> URL pip was told to use whose variant is not one PyTorch publishes."""
    for _, m in every(ctx.lines, LOOKING_IN):
        for index in PYTORCH_INDEX.finditer(m.group("urls")):
            if not PYTORCH_VARIANT.match(index.group("variant")):
                return index.group(0)
    return None


LOCAL_VARIANT = re.compile(r"^(?P<pkg>[\w.-]+)==(?P<base>\d[\w.]*)\+(?P<variant>(?:cu|rocm)[\d.]+)$")
MACOS = re.compile(r"\bApple M\d|\bmacOS\b|\bdarwin\b|macosx_\d+|/Users/\w", re.I)


def _missing_variant(req: str, versions: str) -> tuple[str, str, str] | None:
    """(package, version, variant) when the release exists on the index but not as the +cuXXX/+rocmX build asked for."""
    m = LOCAL_VARIANT.match(req)
    if m is None or m.group("base") not in [v.strip() for v in versions.split(",")]:
        return None
    return m.group("pkg"), m.group("base"), m.group("variant")


def _variant_texts(ctx: Context, facts: dict[str, str], package: str, version: str, variant: str) -> tuple[str, str]:
    facts.update(version=version, variant=variant)
    if first(ctx.lines, MACOS):
        facts["platform"] = "macOS"
        cause = (
            f"{package} {version} exists, but no +{variant} build does for macOS: CUDA and ROCm builds of torch are "
            "made for Linux and Windows only, and a Mac runs the plain build (Apple GPUs through MPS)."
        )
        fix = f'`{ctx.pip()} install "{package}=={version}"` (no +{variant} suffix), and run the UI on MPS or the CPU.'
        return cause, fix
    cause = (
        f"{package} {version} exists on the index pip used, but its +{variant} build is not there: local-version "
        "builds live on the PyTorch index of that variant, and old ones leave the find-links page."
    )
    fix = (
        f'`{ctx.pip()} install "{package}=={version}" --index-url https://download.pytorch.org/whl/{variant}` (without '
        "-f/--find-links); with torch, install torchvision and torchaudio from the same index in the same command."
    )
    return cause, fix


def _about(ignored_line: str, req: str, versions: str) -> bool:
    """pip's 'Ignored the following versions' line may be about another package: it is about this one when it names
    the requested version, or when the index has no version of it at all."""
    pinned = re.search(r"==\s*(\d[\w.]*)", req)
    if pinned and re.search(rf"(?<![\w.]){re.escape(pinned[1].split('+')[0])}(?![\w.])", ignored_line):
        return True
    return not versions or versions == "none"


def _torch_replaced(ctx: Context) -> Finding | None:
    old = first(ctx.lines, FOUND_EXISTING)
    new = last(ctx.lines, INSTALLED)
    if old is None or old[1].group("pkg") != "torch" or (new is None and not first(ctx.lines, UNINSTALLED_TORCH)):
        return None
    before, after = old[1].group("ver"), new[1].group("ver") if new else "another release"
    if before == after:
        return None
    who = first(ctx.lines, COLLECTING_TORCH)
    facts = {"torch_before": before}
    if new:
        facts["torch_after"] = after
    if who:
        facts["asked_by"] = who[1].group("who")
    variant_lost = "+" in before and "+" not in after
    cause = (
        f"An install replaced torch {before} by torch {after}"
        + (f" because {facts['asked_by']} requires another torch" if "asked_by" in facts else "")
        + (
            f": the new one is PyPI's default build, not the {before.split('+')[1]} build the GPU needs."
            if variant_lost
            else "."
        )
    )
    fix = (
        f"Put torch back in one command from its index: `{ctx.pip()} install --force-reinstall torch=={before} "
        f"torchvision torchaudio{_index_of(before)}`"
        " (torchvision/torchaudio of the same release), then install the package that pulled torch in with --no-deps, "
        "or a release of it made for your torch. `rigfit install` protects torch from such replacements."
    )
    return Finding(
        "torch-replaced-by-install",
        "An install replaced torch",
        cause,
        fix,
        [old[0]] + [hit[0] for hit in (new, who) if hit],
        facts,
        [PIP_SOURCE],
    )


def _index_of(torch: str) -> str:
    """The --index-url that has this torch build: its +variant's index, or PyPI's default for a plain version."""
    return f" --index-url https://download.pytorch.org/whl/{torch.split('+')[1]}" if "+" in torch else ""


def _build_failed(ctx: Context) -> Finding | None:
    hit = last(ctx.lines, BUILD_FAILED)
    if hit is None or first(ctx.lines, NOT_THE_PACKAGE):
        return None
    line, m = hit
    pkg = next(g for g in m.groups() if g)
    reason = first(ctx.lines, BUILD_REASON)
    facts = {"package": pkg}
    fix = (
        f"Prefer a release of {pkg} that has a wheel for your Python (`pip download {pkg} --only-binary :all:` shows "
        "if one exists), or a Python it ships wheels for."
    )
    if reason is None:
        cause = (
            f"pip had no wheel of {pkg} for this Python/platform and compiling it from source failed (the compiler "
            "error is above the 'Failed building wheel' line)."
        )
    else:
        r = reason[1]
        if header := r.group("header") or r.group("msvc_header"):
            facts["missing"] = header
            cause = f"Building {pkg} from source needs the header {header}, which is not installed."
            headers = (
                "python3-dev (Debian/Ubuntu: sudo apt install python3-dev, or python3.X-dev for the venv Python)"
                if "Python.h" in header
                else f"the -dev package that provides {header}"
            )
            if r.group("msvc_header") and "Python.h" in header:
                cause += " The compiler ran; the Python it builds for has no include folder (an embedded/portable one)."
                headers = "copy the include and libs folders of the same Python version from a full install"
            fix = f"Install the headers: {headers}; or {fix[0].lower() + fix[1:]}"
        elif r.group("rust"):
            cause = f"Building {pkg} from source needs a Rust compiler: no wheel fits this Python/platform."
            fix = f"Use a Python that {pkg} ships wheels for, or install Rust (https://rustup.rs) and retry."
        elif r.group("notorch"):
            facts["missing"] = "torch"
            cause = (
                f"{pkg} compiles against torch, but pip/uv build it in an isolated environment that has no torch "
                "(build isolation), so its setup cannot import torch."
            )
            fix = (
                f"Install torch first, then build {pkg} against it without isolation: `pip install "
                f"--no-build-isolation {pkg}` (uv: `uv pip install --no-build-isolation {pkg}`, with setuptools and "
                "wheel installed in the env); or use a prebuilt wheel of it made for your torch."
            )
        elif r.group("msvc"):
            cause = f"Building {pkg} from source on Windows needs the Microsoft C++ Build Tools."
            fix = "Install Microsoft C++ Build Tools 14+, or use a Python version the package has wheels for."
        else:
            facts["missing"] = r.group(0)
            cause = f"Building {pkg} from source failed: {r.group(0)} (no compiler or build tool)."
            fix = (
                "Install a compiler toolchain (Debian/Ubuntu: sudo apt install build-essential python3-dev cmake), "
                f"then retry; or {fix[0].lower() + fix[1:]}"
            )
        line = reason[0]
    return Finding(
        "pip-build-failed",
        f"pip could not build {pkg} from source",
        cause,
        fix,
        [line],
        facts,
        ["https://packaging.python.org/en/latest/tutorials/installing-packages/#source-distributions-vs-wheels"],
        confidence=0.75 if reason else 0.7,
    )


def _metadata_failed(ctx: Context) -> Finding | None:
    """pip could not even read a source distribution's metadata: its setup script failed before any compiling, so no
    wheel fitted and the build is of a package (or a release) that does not build here."""
    hit = last(ctx.lines, METADATA_FAILED)  # pip's summary: the build's own output is above it
    if hit is None:
        return None
    line, m = hit
    sdists = [s for ln in ctx.lines if ln.number <= line.number for s in SDIST.finditer(ln.text[: _upto(ln, line, m)])]
    pkg = f"{sdists[-1].group('pkg')} {sdists[-1].group('ver')}" if sdists else None
    what = f"the source release of {pkg}" if pkg else "a package from its source release"
    facts = {"package": pkg.split()[0], "version": pkg.split()[1]} if pkg else {}
    missing = _build_module(ctx, line)
    if missing:
        facts["missing"] = missing
    why = (
        f": its setup imports `{missing}`, which the isolated build environment does not have"
        if missing
        else " (the reason is in the lines above pip's summary)"
    )
    cause = (
        f"pip found no wheel that fits and fell back to building {what}; the build failed while reading its "
        f"metadata{why}. Nothing was installed."
    )
    if missing:
        cause += f" Installing `{missing}` into the UI's env would not help: the build does not see that env."
    name = facts.get("package")
    fix = (
        f"Install a release of {name or 'that package'} that ships a wheel for this Python/platform (`pip download "
        f"{name or '<package>'} --only-binary :all:` lists them), pinned so pip does not backtrack to a source release"
    )
    if name == "xformers":
        fix += " (the xformers wheel built for your torch, from the same PyTorch index as torch)"
    elif missing == "torch":
        fix += f"; or install torch first and build it with `pip install --no-build-isolation {name}`"
    fix += "; or leave the package out if the UI only lists it as optional."
    name = name or "a package"
    return Finding("pip-build-failed", f"pip could not build {name} from source (metadata step)", cause, fix, [line],
                   facts, ["https://pip.pypa.io/en/stable/reference/build-system/"])  # fmt: skip


def _upto(ln: LogLine, failed: LogLine, m: re.Match[str]) -> int:
    """How much of a line comes before the failure: all of it, or up to the failure when it is the same line (a log
    pasted from a JSON string keeps pip's whole output on one line)."""
    return m.start() if ln is failed else len(ln.text)


def _build_module(ctx: Context, failed: LogLine) -> str | None:
    """A module the build's own output says is missing, in the lines just above pip's failure summary."""
    for ln in reversed(ctx.lines):
        if ln.number > failed.number:
            continue
        if ln.number < failed.number - BUILD_OUTPUT_SPAN:
            break
        if m := BUILD_MISSING_MODULE.search(ln.text):
            return m.group("module")
    return None


def _unknown_option(ctx: Context) -> Finding | None:
    hit = last(ctx.lines, NO_OPTION)
    if hit is None:
        return None
    line, m = hit
    if m.group("valopt"):
        return _unknown_value(ctx, line, m)
    option = m.group("opt") or m.group("uvopt") or m.group("argopt")
    tool = "uv" if m.group("uvopt") else "pip" if m.group("opt") else "the command"
    facts = {"option": option, "tool": tool}
    cause = (
        f"{tool} does not know the option {option}: it is older than the release that added it (or the option "
        "belongs to another tool)."
    )
    fix = (
        (
            f"Upgrade {tool} in the environment that runs it (`python -m pip install -U pip`, `uv self update` or "
            f"`pip install -U uv`), or drop {option} from the command."
        )
        if tool != "the command"
        else (
            f"Check the command's --help for {option}: it is not one of its options (a guide for another version of "
            "the program)."
        )
    )
    return Finding(
        "tool-option-unknown",
        f"{tool} does not know {option}",
        cause,
        fix,
        [line],
        facts,
        ["https://pip.pypa.io/en/stable/news/", UV_CHANGELOG],
    )


def _unknown_value(ctx: Context, line: LogLine, m: re.Match[str]) -> Finding:
    """clap's "invalid value 'X' for '--opt <OPT>'": the tool lists the values it knows. A value that names a
    PyTorch wheel index (torch_wheels.yaml's variants: cu128, rocm6.4) is one a newer release knows (uv's
    --torch-backend gains each new index), so upgrading the tool or passing the index itself fixes it; any other
    value is a typo or another release's, and the tool's own tip names the closest value it has."""
    value, option = m.group("value"), m.group("valopt")
    similar = next(
        (
            s.group("similar")
            for ln in ctx.lines
            if 0 <= ln.number - line.number <= 6 and (s := CLAP_SIMILAR.search(ln.text))
        ),
        None,
    )
    uv = option == "--torch-backend" or any(MENTIONS_UV.search(ln.text) for ln in ctx.lines)
    tool = "uv" if uv else "the tool"
    facts = {"option": option, "value": value, "tool": tool}
    index = next((w.index_url for w in wheel_lines() if w.variant == value and w.index_url), None)
    if index:
        facts["index_url"] = index
        cause = (
            f"This release of {tool} does not list {value} among the values of {option}: it is older than the "
            f"PyTorch index {value}, which newer releases accept."
        )
        fix = fix_text("tool-option-unknown", case="newer-index", option=option, value=value, index_url=index)
    else:
        if similar:
            facts["similar"] = similar
        cause = (
            f"'{value}' is not among the values of {option} this release of {tool} lists (a typo, or a value of "
            "another release)."
        )
        fix = (
            fix_text("tool-option-unknown", case="typo", similar=similar, tool=tool, value=value)
            if similar
            else fix_text("tool-option-unknown", case="unlisted", tool=tool, value=value)
        )
    return Finding(
        "tool-option-unknown",
        f"{tool} does not know {value} for {option}",
        cause,
        fix,
        [line],
        facts,
        [UV_PYTORCH if index else "https://docs.astral.sh/uv/reference/cli/", UV_CHANGELOG],
    )
