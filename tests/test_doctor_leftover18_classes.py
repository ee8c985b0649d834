"""Round leftover18 (held-out heldx24's doctor partials): the OS family a UI's own platform line names."""

from __future__ import annotations

import pytest

from rigfit.probe.gather import findings_for
from rigfit.probe.report import _given_python_lines, _torch_lines
from tests.conftest import FIXTURES
from tests.doctor_paste_helpers import pasted_profile

DOCTOR = FIXTURES / "doctor"


@pytest.mark.parametrize(
    ("path", "family"),
    [
        # held-out heldx24 texts: ComfyUI-Manager's "** Platform: Linux"; SD.Next's "platform=Windows", "system=Windows"
        ("pasted/heldx24-14-comfyui-easy-install-linux-startup-header-uses-cpu.txt", "Linux"),
        ("pasted/heldx24-10-sdnext-windows-zluda-rocm-no-agent-found.txt", "Windows"),
        # other real start-ups: ComfyUI-Manager on Windows portable, SD.Next on Windows
        ("comfyui-startup-windows-portable--rtx4090-24564mb.txt", "Windows"),
        ("sdnext-device-line-rtx5090-cap-12-0-cuda12.6-arch-sm90--576.02.txt", "Windows"),
        ("../logs/unrelated/sdnext-zluda-startup-head-2024-12.txt", "Windows"),
    ],
)
def test_a_uis_platform_line_gives_the_os_family_and_nothing_more(path: str, family: str) -> None:
    profile = pasted_profile(str(DOCTOR / path))
    assert profile.os.system == family
    assert (profile.os.pretty_name, profile.os.kernel, profile.os.distro_version) == (None, None, None)
    shown = _given_python_lines(profile.python, profile.os)[1]
    assert shown == f"{family} (release unknown)"
    assert ("system.not_linux" in {f.id for f in findings_for(profile)}) == (family != "Linux")


def test_a_release_the_platform_line_prints_still_wins_over_the_family() -> None:
    # SD.Next's Linux line names the kernel too: "system=Linux release=6.8.0-49-generic"
    profile = pasted_profile("sdnext-startup-linux-cut-at-packages--no-gpu-line.txt")
    assert (profile.os.system, profile.os.kernel) == ("Linux", "6.8.0-49-generic")
    assert _given_python_lines(profile.python, profile.os)[1] == "Linux, kernel 6.8.0-49-generic"


def test_a_paste_without_a_platform_line_keeps_the_os_unknown() -> None:
    profile = pasted_profile("kohya-kaggle-startup--2x-tesla-t4-15102.txt")
    assert profile.os.system is None
    assert _given_python_lines(profile.python, profile.os)[1] == "OS and kernel: not in what was given"


@pytest.mark.parametrize(
    "name",
    [
        "heldx24-10-sdnext-windows-zluda-rocm-no-agent-found.txt",  # held-out heldx24's 10
        "sdnext-zluda-windows-rocm-no-agent-rocm6.2--another-run.txt",
    ],
)
def test_sdnexts_rocm_no_agent_line_is_the_runtime_listing_no_gpu(name: str) -> None:
    profile = pasted_profile(name)
    assert [(f.kind, f.evidence.endswith("ROCm: no agent was found")) for f in profile.gpu_faults] == [
        ("ui_rocm_no_agent", True)
    ]
    found = {f.id: f for f in findings_for(profile)}
    finding = found["gpu.runtime_no_device"]
    assert finding.severity == "warning"
    assert finding.message.startswith("The UI's installer says")
    assert "hipInfo" in finding.fix and "rocminfo" in finding.fix
    assert profile.gpus == []  # no GPU is named: none is made up


def test_a_sdnext_start_up_with_rocm_agents_has_no_such_finding() -> None:
    # SD.Next naming its agents ("ROCm agents detected: ['gfx1030']"): ROCm found the GPU
    profile = pasted_profile("sdnext-version-platform-plus-log-rocm6.0-gfx1030-cut.txt")
    assert "ui_rocm_no_agent" not in {f.kind for f in profile.gpu_faults}


@pytest.mark.parametrize(
    ("name", "cuda_below", "not_rocm", "sees_gpu"),
    [
        # held-out heldx24's 12: ComfyUI's cu130 warning, comfy_kitchen's cuda backend available (disabled by ComfyUI)
        ("heldx24-12-comfyui-windows-venv-cu130-warning-comfy-kitchen-backends-cut.txt", "13.0", False, True),
        # held-out heldx24's 13: comfy_kitchen's hip backend, "PyTorch ROCm/HIP runtime not available"
        ("heldx24-13-comfyui-not-loading-comfy-kitchen-hip-unavailable-cut.txt", None, True, None),
        # ComfyUI #12588: the cuda backend "CUDA not available on this system" (torch.cuda.is_available() False)
        ("comfyui-comfy-kitchen-cuda-not-available-cudaerrornotsupported.txt", None, False, False),
    ],
)
def test_comfy_kitchens_lines_are_facts_of_a_torch_of_unknown_version(
    name: str, cuda_below: str | None, not_rocm: bool, sees_gpu: bool | None
) -> None:
    torch = pasted_profile(name).torch
    assert torch is not None
    assert (torch.version, torch.cuda, torch.hip, torch.import_status) == (None, None, None, None)  # never guessed
    assert (torch.cuda_below, torch.not_rocm, torch.gpu_available) == (cuda_below, not_rocm, sees_gpu)
    shown = _torch_lines(torch)[0]
    assert shown.startswith("a torch of unknown version: ")
    assert ("older than 13.0" in shown) == bool(cuda_below)
    assert ("not a ROCm build" in shown) == not_rocm


def test_a_comfyui_start_up_naming_its_torch_keeps_the_named_build() -> None:
    # "pytorch version: 2.7.0+cu128" beside no comfy_kitchen line: the named build, as before
    torch = pasted_profile(str(DOCTOR / "comfyui-startup-windows-portable--rtx4090-24564mb.txt")).torch
    assert torch is not None and (torch.version, torch.cuda, torch.cuda_below) == ("2.7.0+cu128", "12.8", None)
