"""Classes found by the held-out round heldd18 (issue 10): real pastes of 2024-2026 SD UI / trainer help threads,
each given whole to `rigfit doctor --from FILE`, no capture, no slot (tests/fixtures/doctor/pasted/, SOURCES.md).

- Python's platform string ("Linux-6.8.0-39-generic-x86_64-with-glibc2.39") in A1111/Forge sysinfo, collect_env
  and diffusers env: the kernel and the architecture; the distribution their "os" / "OS:" describes; a report's
  torch version with its build tag (sysinfo's "torch_version"), all line facts;
- sysinfo's "CPU" counts and "RAM" total (its "model" is platform.processor(), never a model name);
- a value cut by the paste's end ("is_cuda_available": "Tr) is unknown, never False;
- SD.Next's installer agent list ("ROCm agents detected: ['gfx1030']") is the GPU agents;
- recognition: the ROCm HIP runtime's AMD_LOG_LEVEL log, nvidia-smi cut after its date line and top border;
- an unknown says the paste holds no line rigfit reads for it, never that the paste does not hold it."""

from __future__ import annotations

import json

import pytest

from rigfit.cli import app
from rigfit.kb.pasted_tools import pasted_tools
from rigfit.probe.gather import findings_for
from rigfit.probe.gpu.torch_reports import parse_torch_report
from rigfit.probe.paste_source import line_facts, recognised_tools
from rigfit.probe.sysinfo_host import parse_sysinfo_host
from tests.cli_runner import CliRunner
from tests.conftest import FIXTURES
from tests.doctor_paste_helpers import pasted_profile

PASTED = FIXTURES / "doctor" / "pasted"
runner = CliRunner()
GIB = 2**30
FORGE = "forge-sysinfo-json-mint20.3-torch2.1.2cu121-cut-at-is-cuda-available.txt"
OPENVINO = "openvino-a1111-sysinfo-json-ubuntu24.04-torch2.1.0cu121-cuda-false-driver-null-cut.txt"
A1111_CPU_RAM = "a1111-sysinfo-json-cut-lscpu-vuln-cpu-model-empty-16-threads-ram-31gb-rocm5.7-command.txt"


def _tools(name: str) -> set[str]:
    return {t.id for t in recognised_tools((PASTED / name).read_text(encoding="utf-8"))}


@pytest.mark.parametrize(
    ("name", "kernel", "distribution", "torch", "cuda"),
    [
        (FORGE, "5.4.0-169-generic", "Linux Mint 20.3", "2.1.2+cu121", "12.1"),
        (OPENVINO, "6.8.0-39-generic", "Ubuntu 24.04 LTS", "2.1.0+cu121", "12.1"),
    ],
)
def test_sysinfo_platform_os_and_torch_version_are_read(
    name: str, kernel: str, distribution: str, torch: str, cuda: str
) -> None:
    profile = pasted_profile(name)
    assert (profile.os.system, profile.os.kernel, profile.cpu.arch) == ("Linux", kernel, "x86_64")
    assert profile.os.pretty_name == distribution and profile.os.distro_id is None  # described, no os-release ID
    assert profile.torch is not None and (profile.torch.version, profile.torch.cuda) == (torch, cuda)
    assert profile.gpus == []  # both are cut before any GPU field: nothing is claimed about one


def test_python_platform_string_forms_all_give_kernel_and_arch() -> None:
    """The same platform.platform() value as collect_env (pytorch#92965), vLLM's collect_env (vllm-omni#7931) and
    diffusers env (ShivamShrirao/diffusers#78, diffusers#7403) print it, a WSL2 kernel among them."""
    for text, kernel in [
        ("Python platform: Linux-5.15.0-58-generic-x86_64-with-glibc2.35", "5.15.0-58-generic"),
        ("Python platform              : Linux-6.8.0-1052-aws-x86_64-with-glibc2.35", "6.8.0-1052-aws"),
        (
            "- Platform: Linux-5.10.102.1-microsoft-standard-WSL2-x86_64-with-glibc2.31",
            "5.10.102.1-microsoft-standard-WSL2",
        ),
        ("- Platform: Ubuntu 24.04 LTS - Linux-6.8.0-31-generic-x86_64-with-glibc2.39", "6.8.0-31-generic"),
    ]:
        assert line_facts(text, list(pasted_tools())) == {"uname": f"Linux {kernel}", "uname-m": "x86_64"}, text
    # Windows' platform string and SD.Next's "Platform: arch=AMD64 ... system=Windows" name no Linux kernel
    assert line_facts('    "Platform": "Windows-10-10.0.19045-SP0",', list(pasted_tools())) == {}


def test_sysinfo_cpu_counts_and_ram_total_but_never_its_model() -> None:
    profile = pasted_profile(A1111_CPU_RAM)
    assert (profile.cpu.model, profile.cpu.cores, profile.cpu.threads) == (None, 8, 16)  # "model": "" is no model
    assert profile.memory.total_bytes == 31 * GIB  # "31GB": pretty_bytes' whole GiB
    assert profile.gpus == [] and profile.torch is None  # the TORCH_COMMAND is a setting, not an installed torch


def test_a_sysinfo_member_cut_by_the_paste_end_is_not_read() -> None:
    text = '    "CPU": {\n        "model": "",\n        "count logical": 1'
    assert parse_sysinfo_host(text).threads is None
    windows = '    "CPU": {\n        "model": "AMD64 Family 23 Model 96 Stepping 1, AuthenticAMD",\n'
    assert parse_sysinfo_host(windows + '        "count logical": 16,\n    },\n}').threads == 16


def test_a_cut_cuda_available_answer_is_unknown_never_false() -> None:
    text = (PASTED / FORGE).read_text(encoding="utf-8")
    listed = text.replace(
        '"os": "Linux Mint', '"nvidia_gpu_models": "GPU 0: NVIDIA GeForce RTX 3090",\n "os": "Linux Mint'
    )
    report = parse_torch_report(listed)
    assert report is not None and report.torch_version == "2.1.2+cu121"
    assert report.cuda_available is None  # the paste ends at "Tr
    cut_version = listed.replace('"is_cuda_available": "Tr', '"torch_version": "2.1.2+cu1')
    report = parse_torch_report(cut_version)
    assert report is not None and report.torch_version == "2.1.2+cu121"  # the cut repeat does not overwrite it


def test_sdnext_installer_agent_list_is_the_gpu_agents() -> None:
    profile = pasted_profile("sdnext-version-platform-plus-log-rocm6.0-gfx1030-cut.txt")
    assert [(g.vendor, g.gfx) for g in profile.gpus] == [("amd", "gfx1030")]
    assert profile.gpus[0].vram_bytes is None  # VRAM is not in the paste
    assert profile.rocm.gpu_agents == ["gfx1030"]


@pytest.mark.parametrize(
    ("name", "tool"),
    [
        ("cat-webui-user-sh-rocm6.1-plus-amd-log-level-segfault--override-11.0.0.txt", "hip-runtime-log"),
        ("sdnext-debug-plus-hip-trace-cut--no-device.txt", "hip-runtime-log"),
        ("issue-form-os-debian12-plus-nvidia-smi-cut-at-first-border--no-device.txt", "nvidia-smi"),
    ],
)
def test_hip_log_and_a_cut_nvidia_smi_are_recognised_and_claim_nothing(name: str, tool: str) -> None:
    assert tool in _tools(name)
    profile = pasted_profile(name)
    assert profile.gpus == [] and profile.nvidia_driver is None and profile.torch is None
    # HSA_OVERRIDE_GFX_VERSION=11.0.0 on the pasted command line is the user's setting, never the GPU's gfx
    assert not [f for f in findings_for(profile) if f.severity in ("blocker", "warning") and f.group == "gpu"]


def test_an_unknown_never_says_the_paste_lacks_what_it_holds_unread() -> None:
    """SD.Next's 'Torch "2.3.0.dev20240218+rocm6.0"' is no format rigfit reads: the torch is unknown, and the
    report says no line it reads says it (not "not in the paste")."""
    result = runner.invoke(
        app, ["doctor", "--from", str(PASTED / "sdnext-version-platform-plus-log-rocm6.0-gfx1030-cut.txt")]
    )
    assert result.exit_code == 0, result.output
    assert "installed torch unknown: no line of the paste that rigfit reads says it" in result.output
    assert "no GPU in what was given" not in result.output


def test_json_of_a_sysinfo_paste_names_what_it_read() -> None:
    result = runner.invoke(app, ["doctor", "--from", str(PASTED / OPENVINO), "--json"])
    assert result.exit_code == 0, result.output
    profile = json.loads(result.output)["profile"]
    assert profile["os"]["kernel"] == "6.8.0-39-generic" and profile["os"]["pretty_name"] == "Ubuntu 24.04 LTS"
    assert profile["torch"]["version"] == "2.1.0+cu121"


def test_a_kept_cuda_torch_on_a_paste_says_no_gpu_was_read_not_that_the_machine_has_none() -> None:
    """The plan keeps a listed CUDA torch where no NVIDIA GPU shows; on a paste that is "not read", never "not
    visible on this machine" (the paste's GPU is unknown, not absent)."""
    result = runner.invoke(app, ["doctor", "--from", str(PASTED / OPENVINO)])
    assert result.exit_code == 0, result.output
    assert "is installed but no NVIDIA GPU was read from what was given" in result.output
    assert "visible on this machine" not in result.output


def test_sdnext_rocm_version_line_is_the_hip_version() -> None:
    """installer.py prints hipconfig's major.minor as "ROCm version detected: 6.0"."""
    profile = pasted_profile("sdnext-version-platform-plus-log-rocm6.0-gfx1030-cut.txt")
    assert (profile.rocm.hip_version, profile.rocm.version) == ("6.0", None)
