"""GPU code the torch build does not have: an NVIDIA compute capability outside the wheel's sm list, an AMD gfx
without kernels (invalid device function, no binary for GPU, HSA invalid ISA, rocBLAS/Tensile files missing).
The fix comes from torch_wheels.yaml (which line has code for the GPU) and rocm.yaml (overrides, last good line)."""

from __future__ import annotations

import re

from rigfit.explain.analyzers.base import Finding, first, last, ver
from rigfit.explain.analyzers.context import Context
from rigfit.explain.scan import LogLine
from rigfit.kb.cuda_support import cuda_lines_for, runs_on_driver
from rigfit.kb.gpus import gfx_family
from rigfit.kb.schemas import WheelLine
from rigfit.plan.knowledge import gfx_targets, newest_first, wheel_lines

# the ids of the findings this module returns (rigfit.explain.analyzers.class_ids)
IDS = (
    "cuda-arch-missing",
    "rocm-gfx-missing",
)

SIGNALS = (
    "not compatible", "too old", "no kernel image", "invalid device function", "hiperror", "hsa_status_error",
    "tensilelibrary", "code object",
    # torch's warning for a card it has no kernels for (torch/cuda/__init__.py _check_capability), in every
    # wording: "... is too old", "Minimum and Maximum cuda capability supported by this version of PyTorch is (7.5) -
    # (12.0)", and torch >= 2.10's "which is of compute capability (CC) 6.1"
    "which is of cuda capability", "which is of compute capability", "minimum and maximum cuda capability",
)  # fmt: skip
KEYWORDS = (
    "capability", "no kernel image", "invalid device function", "hiperrornobinaryforgpu", "no binary for gpu",
    "tensile", "invalid_isa", "not compatible with the current pytorch", "code object", "hsa_status_error",
)  # fmt: skip
CONTEXT = (
    "sm_", "gfx", "rocblas", "too old", "hsa_override_gfx_version",
)  # fmt: skip

SM_DEVICE = re.compile(
    r"(?P<gpu>NVIDIA [\w ]+?|[\w ]+?) with CUDA capability sm_(?P<sm>\d{2,3}) is not compatible", re.I
)
SM_LIST = re.compile(r"supports CUDA capabilities (?P<list>(?:sm_\d+\s*)+)", re.I)
CC_TOO_OLD = re.compile(
    r"Found GPU\d+ (?P<gpu>.+?) which is of (?:cuda|compute) capability (?:\(CC\) )?(?P<cc>\d+\.\d+)\..*?"
    r"(?:minimum cuda capability "
    r"(?:supported by this library is|that we support is) (?P<min>\d+\.\d+))?",
    re.I,
)
NO_KERNEL = re.compile(r"no kernel image is available for execution on the device", re.I)
AMD_NO_CODE = re.compile(
    r"invalid device function|hipErrorNoBinaryForGpu|Unable to find code object for all current devices|"
    r"HSA_STATUS_ERROR_INVALID_ISA|no binary for gpu|(?:Cannot read|Could not load) .*TensileLibrary.*|"
    r"Tensile.*(?:not found|missing)|"
    r"rocBLAS error: Could not initialize Tensile",
    re.I,
)
Hit = tuple[LogLine, re.Match[str]]
GFX = re.compile(r"(?<![a-z0-9])(gfx\d{3,4}[a-z]?)\b", re.I)  # also in TensileLibrary_lazy_gfx1103.dat
CUDA_SOURCE = "https://pytorch.org/get-started/locally/"
HIP_ENV_SOURCE = "https://rocm.docs.amd.com/projects/HIP/en/latest/reference/env_variables.html"
ROCM_SOURCE = "https://rocm.docs.amd.com/projects/install-on-linux/en/latest/reference/system-requirements.html"


def analyze(ctx: Context) -> list[Finding]:
    return [f for f in (_nvidia(ctx), _amd(ctx)) if f]


def _sm_to_cc(sm: str) -> str:
    return f"{sm[:-1]}.{sm[-1]}"


def _nvidia(ctx: Context) -> Finding | None:
    device, too_old, no_kernel = last(ctx.lines, SM_DEVICE), last(ctx.lines, CC_TOO_OLD), last(ctx.lines, NO_KERNEL)
    if device is None and too_old is None and no_kernel is None:
        return None
    facts = _nvidia_facts(ctx, device, too_old)
    evidence = [hit[0] for hit in (device, too_old, no_kernel) if hit]
    if (archs := first(ctx.lines, SM_LIST)) is not None:
        facts["build_archs"] = " ".join(archs[1].group("list").split())
        evidence.append(archs[0])
    cc = facts.get("cc")
    if cc is None:
        cause = (
            "The installed torch has no GPU code for this card's compute capability (its build's sm list does not "
            "include it), or a custom extension was compiled for other GPUs."
        )
        fix = (
            '`python -c "import torch; print(torch.cuda.get_device_capability(), torch.cuda.get_arch_list())"` '
            "shows both; `rigfit plan` picks the torch line whose sm list covers the card. If torch covers it, "
            "rebuild the extension with TORCH_CUDA_ARCH_LIST set to the card's capability."
        )
        return Finding("cuda-arch-missing", "torch has no GPU code for this NVIDIA card", cause, fix, evidence, facts,
                       [CUDA_SOURCE])  # fmt: skip
    build = facts.get("build_archs", "")
    newer = bool(build) and all(ver(_sm_to_cc(s[3:])) < ver(cc) for s in build.split())
    older = bool(build) or (too_old is not None and _says_too_old(ctx, too_old[0]))
    direction = "newer than every" if newer else "older than the oldest" if older else "not among the"
    cause = (
        f"{facts.get('gpu', 'This GPU')} has compute capability {cc} (sm_{cc.replace('.', '')}), {direction} GPU "
        f"architectures the installed torch was built for{' (' + build + ')' if build else ''}, so its kernels "
        "cannot run."
    )
    return Finding(
        "cuda-arch-missing",
        f"torch has no GPU code for compute capability {cc}",
        cause,
        _nvidia_fix(ctx, cc, facts),
        evidence,
        facts,
        [CUDA_SOURCE, "https://developer.nvidia.com/cuda-gpus"],
        supersedes=("no-kernel-image",) if device or too_old else (),
    )


def _says_too_old(ctx: Context, at: LogLine) -> bool:
    """torch's older wording of the warning says which way: "PyTorch no longer supports this GPU because it is too
    old" (the newer ones only list what the build supports)."""
    return any("too old" in line.text.lower() for line in ctx.lines if at.number <= line.number <= at.number + 3)


def _nvidia_facts(ctx: Context, device: Hit | None, too_old: Hit | None) -> dict[str, str]:
    """The GPU and its compute capability: the log's own message first, then the profile."""
    if device:
        return {"gpu": device[1].group("gpu").strip(), "cc": _sm_to_cc(device[1].group("sm"))}
    if too_old:
        return {"gpu": too_old[1].group("gpu").strip(), "cc": too_old[1].group("cc")}
    return {"cc": str(ctx.facts["cc"])} if ctx.facts.get("cc") else {}


def _nvidia_fix(ctx: Context, cc: str, facts: dict[str, str]) -> str:
    """The newest torch_wheels.yaml line with code for `cc`, or the honest answer that none has."""
    lines = cuda_lines_for(cc)
    if not lines:
        return _nvidia_unsupported(cc)
    driver = str(ctx.facts.get("nvidia_driver") or "")
    runs = [w for w in lines if runs_on_driver(w, driver or None)]
    best = (runs or lines)[0]
    facts["fix_wheel"] = f"torch {best.torch}+{best.variant}"
    fix = (
        f"Install a torch build that has code for sm_{cc.replace('.', '')}: {_reinstall(ctx, best)} (needs NVIDIA "
        f"driver >= {best.min_driver}); every package compiled against torch must match it afterwards."
    )
    if driver and not runs:
        return fix + f" This driver ({driver}) is older: update it first."
    older = next(
        (w for w in lines if not driver and w.min_driver and ver(w.min_driver) < ver(best.min_driver or "0")), None
    )
    if older:
        fix += (
            f" With a driver older than {best.min_driver}: {_reinstall(ctx, older)} (its CUDA {older.cuda} needs "
            f"driver >= {older.min_driver})."
        )
    return fix


def _reinstall(ctx: Context, line: WheelLine) -> str:
    return (
        f"`{ctx.pip()} install --force-reinstall torch=={line.torch} torchvision torchaudio --index-url "
        f"{line.index_url}`"
    )


def _nvidia_unsupported(cc: str) -> str:
    if ver(cc) < ver("3.0"):
        return (
            f"No PyTorch binary release supports compute capability {cc} (Fermi and older), and current CUDA "
            "toolkits cannot compile for it: run Stable Diffusion on the CPU (`rigfit plan --cpu`), or use a newer GPU."
        )
    return (
        f"No current official torch wheel has kernels for compute capability {cc}: build torch 2.7 or older from "
        'source with a CUDA 11.x toolkit, the last that compiles for sm_35 (`export TORCH_CUDA_ARCH_LIST="3.5"`; '
        "sm_30 needs CUDA 10.2), or run Stable Diffusion on the CPU (`rigfit plan --cpu`)."
    )


def _amd(ctx: Context) -> Finding | None:
    hit = last(ctx.lines, AMD_NO_CODE)
    if hit is None:
        return None
    line, m = hit
    gfx_hit = GFX.search(line.text) or next((g for ln in ctx.lines if (g := GFX.search(ln.text))), None)
    gfx = gfx_hit.group(1).lower() if gfx_hit else ctx.facts.get("gfx")
    facts = {"symptom": m.group(0)[:120]}
    if gfx:
        facts["gfx"] = str(gfx)
    target = gfx_targets().get(str(gfx)) if gfx else None
    ships = _rocm_lines(str(gfx)) if gfx else []
    override_on = "HSA_OVERRIDE_GFX_VERSION" in " ".join(ln.text for ln in ctx.lines)
    if ctx.facts.get("log_os") == "windows":
        cause, fix = _amd_windows(str(gfx) if gfx else None)
    elif gfx is None:
        cause = (
            "The installed torch (or rocBLAS) has no kernels for this AMD GPU's ISA (gfx target), or the "
            "HSA_OVERRIDE_GFX_VERSION in effect names an ISA the card cannot run."
        )
        fix = (
            "`rocminfo | grep -m1 -o 'gfx[0-9a-f]*'` shows the gfx; then `rigfit plan` picks the wheel line or "
            "override for it (RDNA2 cards other than gfx1030: HSA_OVERRIDE_GFX_VERSION=10.3.0; RDNA3: 11.0.0)."
        )
    elif ships and not override_on:
        best = ships[0]
        facts["fix_wheel"] = f"torch {best.torch}+{best.variant}"
        cause = (
            f"The installed torch or ROCm library has no kernels for {gfx}, although torch {best.torch}+"
            f"{best.variant} ships them: the env holds another (older, or CUDA/CPU) build."
        )
        fix = (
            f"`{ctx.pip()} install --force-reinstall torch=={best.torch} torchvision torchaudio --index-url "
            f"{best.index_url}`"
        )
    elif target is not None and target.override and not override_on:
        facts["override"] = target.override
        cause, fix = _amd_override(str(gfx), target)
    else:
        cause, fix = _amd_unsupported(str(gfx), target, override_on)
    return Finding(
        "rocm-gfx-missing",
        _amd_title(ctx, gfx),
        cause,
        fix,
        [line],
        facts,
        [ROCM_SOURCE, HIP_ENV_SOURCE] + (list(target.sources[:1]) if target else []),
        # with the card's gfx read, the wheel or override named here says hip-invalid-device-function's generic steps
        supersedes=("hip-invalid-device-function",) if gfx else (),
    )


def _amd_title(ctx: Context, gfx: str | None) -> str:
    where = "the Windows HIP SDK's rocBLAS" if ctx.facts.get("log_os") == "windows" else "the installed ROCm build"
    return f"No GPU code for {gfx or 'this AMD GPU'} in {where}"


def _amd_override(gfx: str, target) -> tuple[str, str]:
    cause = (
        f"{gfx} ({target.family}) is not among the ISAs ROCm's torch builds ship kernels for; it can borrow "
        f"the kernels of gfx{target.override.replace('.', '')[:4]} through an override."
    )
    fix = (
        f"`export HSA_OVERRIDE_GFX_VERSION={target.override}` before starting the UI (A1111/Forge: in "
        "webui-user.sh), then check with `rigfit verify`"
        + (f"; {target.override_note}" if target.override_note else ".")
    )
    if _integrated(gfx):
        cause += f" {gfx} is a CPU's integrated GPU: if the machine also has a discrete Radeon, ROCm picked the iGPU."
        fix = (
            "With a discrete Radeon in the machine, hide the iGPU instead: `export HIP_VISIBLE_DEVICES=<the "
            "dGPU's index>` (`rocminfo` lists the agents) or disable the iGPU in the firmware. With the iGPU "
            "alone: " + fix
        )
    return cause, fix


def _integrated(gfx: str) -> bool:
    arch = gfx_family(gfx)
    return bool(arch and arch.apu_only)


def _amd_windows(gfx: str | None) -> tuple[str, str]:
    """A Windows log (HIP SDK, ZLUDA): HSA_OVERRIDE_GFX_VERSION is a Linux ROCm variable; rocBLAS needs its files.
    Without a gfx in the log, hipInfo names it (gcnArchName)."""
    igpu = bool(gfx) and _integrated(str(gfx))
    target = gfx or "this GPU's gfx (`hipInfo` prints it as gcnArchName)"
    cause = (
        f"The Windows HIP SDK's rocBLAS has no kernel library (Tensile) for {target}"
        + (", the CPU's integrated GPU" if igpu else "")
        + "; HSA_OVERRIDE_GFX_VERSION is read by Linux ROCm only, so it cannot borrow another ISA's kernels here."
    )
    fix = (
        (
            "If the machine has a discrete Radeon, hide the iGPU so the HIP runtime uses the dGPU: `set "
            "HIP_VISIBLE_DEVICES=<the dGPU's index>` before starting the UI (hipInfo lists the devices) or disable the "
            "iGPU in the firmware. To run on it anyway: "
            if igpu
            else ""
        )
        + f"replace the HIP SDK's rocblas library folder with one built for {gfx or 'that gfx'} (community ROCmLibs "
        "builds, for the same HIP SDK version), or use a GPU the HIP SDK supports."
    )
    return cause, fix


def _amd_unsupported(gfx: str, target, override_on: bool) -> tuple[str, str]:
    if override_on:
        cause = (
            f"HSA_OVERRIDE_GFX_VERSION is set, and the kernels it borrows do not run on {gfx} (or the value names "
            "an ISA of another generation)."
        )
        fix = (
            f"Unset it or set the value for {gfx}'s generation (RDNA2: 10.3.0, RDNA3: 11.0.0); if the card's own "
            "gfx is in the wheel's list (`rigfit plan`), no override is needed at all."
        )
        return cause, fix
    known = (
        f" The last line known to work is torch {target.known_good_torch} ({target.known_good_variant})."
        if target and target.known_good_torch
        else ""
    )
    cause = (
        f"No current official ROCm build of torch ships kernels for {gfx}, and it has no override that borrows them."
    )
    fix = (
        "This GPU is not supported by any current official torch build: use a community build for it, a source "
        f"build with PYTORCH_ROCM_ARCH={gfx}, or the CPU (`rigfit plan --cpu`).{known}"
    )
    return cause, fix


def _rocm_lines(gfx: str) -> list[WheelLine]:
    return [w for w in newest_first(list(wheel_lines())) if w.kind == "rocm" and gfx in w.rocm_archs]
