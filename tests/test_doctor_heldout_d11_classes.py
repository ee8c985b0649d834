"""The classes round heldd11 added (issue 10), each checked on real outputs beyond the held-out paste that showed it
missing: nvidia-smi's headerless CSV reader no longer takes any line with a comma for a GPU; torch's collect_env (as
torch, vLLM and A1111's sysinfo print it) and the UI start-up lines that come from the same torch calls (ComfyUI,
Forge, Fooocus) are read for the GPUs, driver, torch and CPU they show; fastfetch's JSON, hwinfo --gfxcard and a cut
rocm-smi JSON name their GPUs."""

from __future__ import annotations

from pathlib import Path

import pytest

from rigfit.probe.gpu.lspci import parse_lspci
from rigfit.probe.gpu.nvidia_smi import parse_nvidia_smi
from rigfit.probe.gpu.renderers import parse_named_gpus
from rigfit.probe.gpu.rocm_smi import parse_rocm_smi
from rigfit.probe.gpu.torch_reports import parse_torch_report
from tests.conftest import FIXTURES
from tests.test_doctor_heldout_d import assembled

DOCTOR = FIXTURES / "doctor"
LOGS = FIXTURES / "logs"
APP_PASTES = [
    "collect-env-windows-cpu-only-no-cuda--i7-1270p-cut.txt",
    "collect-env-rocm63-wsl2--rx7900xtx-gfx1100-cut.txt",
    "collect-env-wsl2-cu121--rtx4070-laptop-551-cut.txt",
    "comfyui-startup-three-lines--24564mb-no-device-line.txt",
    "a1111-sysinfo-json-cut--tesla-t4-530.txt",
    "comfyui-system-information-devices--rtx4090-cudamallocasync.txt",
    "vllm-collect-env-old-format--rtx4090-535-cut.txt",
    "comfyui-directml-startup-cut-before-device--windows.txt",
    "comfyui-startup-windows-portable--rtx4090-24564mb.txt",
    "a1111-console-collect-env--tesla-v100s-515-cut.txt",
]


def _text(name: str, folder: Path = DOCTOR) -> str:
    return (folder / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", APP_PASTES)
def test_a_line_holding_a_comma_is_no_nvidia_smi_csv_row(name: str) -> None:
    """ "Python version: 3.10.12 (main, ...", "Total VRAM 24564 MB, total RAM ...", JSON members: none is a GPU."""
    assert parse_nvidia_smi(_text(name)).gpus == []


def test_real_query_rows_are_still_read_with_and_without_their_header() -> None:
    (noheader,) = parse_nvidia_smi(_text("nvidia-smi-query-csv-noheader--gtx770.txt")).gpus
    assert noheader.name == "GeForce GTX 770"
    with_header = parse_nvidia_smi(_text("titanv-rtx5880-query-csv.txt", FIXTURES / "real" / "nvidia-smi")).gpus
    assert [(g.name, g.compute_capability) for g in with_header] == [
        ("NVIDIA TITAN V", "7.0"),
        ("NVIDIA RTX 5880 Ada Generation", "8.9"),
    ]


def test_collect_env_is_read_in_each_rendering() -> None:
    torch = parse_torch_report(_text("collect-env-wsl2-cu121--rtx4070-laptop-551-cut.txt"))
    assert torch is not None
    assert [(g.index, g.name, g.vendor_id) for g in torch.gpus] == [(0, "NVIDIA GeForce RTX 4070 Laptop GPU", "10de")]
    assert (torch.nvidia_driver, torch.torch_version, torch.cuda_build, torch.wsl) == (
        "551.88",
        "2.4.0+cu121",
        "12.1",
        True,
    )
    assert any(ln.startswith("Model name:") for ln in torch.cpu_lines)

    rocm = parse_torch_report(_text("collect-env-rocm63-wsl2--rx7900xtx-gfx1100-cut.txt"))
    assert rocm is not None and rocm.nvidia_driver is None  # "Could not collect"
    assert [(g.name, g.vendor_id, g.gfx) for g in rocm.gpus] == [("AMD Radeon RX 7900 XTX", "1002", "gfx1100")]
    assert rocm.rocm_build == "6.3.42131-fa1d09cbd" and rocm.hip_runtime == "6.3.42131"

    sysinfo = parse_torch_report(_text("a1111-sysinfo-json-cut--tesla-t4-530.txt"))  # A1111's JSON field names
    assert sysinfo is not None and [g.name for g in sysinfo.gpus] == ["Tesla T4"]
    assert (sysinfo.nvidia_driver, sysinfo.torch_version, sysinfo.cuda_available) == ("530.41.03", "2.1.0", True)

    vllm = parse_torch_report(_text("vllm-collect-env-sectioned--4x-rtx3090-cut-in-gpu3.txt"))  # "Key   : value"
    assert vllm is not None and vllm.torch_version == "2.11.0+cu130"
    # the last GPU line is where the paste ends: "NVIDIA GeForc" is a cut name, an NVIDIA GPU all the same
    assert [g.name for g in vllm.gpus] == ["NVIDIA GeForce RTX 3090"] * 3 + [None]
    assert {g.vendor_id for g in vllm.gpus} == {"10de"}

    cpu_only = parse_torch_report(_text("collect-env-windows-cpu-only-no-cuda--i7-1270p-cut.txt"))
    assert cpu_only is not None and cpu_only.gpus == [] and cpu_only.windows  # "No CUDA" says nothing of the GPU


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("comfyui-cu130-nightly-startup.txt", ("NVIDIA GeForce RTX 3060", "10de", 11901)),
        ("fooocus-startup-exits-gtx1080.txt", ("NVIDIA GeForce GTX 1080", "10de", 8192)),
        ("forge-linux-a10-startup.txt", ("NVIDIA A10", "10de", 22724)),
        ("comfyui-rx7600-override-11-segfault.txt", ("AMD Radeon Graphics", "1002", 8176)),
        ("forge-neo-startup-ok-4060ti.txt", (None, "10de", 16380)),  # no Device line: a CUDA torch's device
    ],
)
def test_ui_start_up_lines_name_the_device_torch_uses(name: str, expected: tuple[str | None, str, int]) -> None:
    """ComfyUI, Forge and Fooocus print the same model_management lines: "Total VRAM N MB", "Device: cuda:0 ..."."""
    report = parse_torch_report(_text(name, LOGS / "unrelated"))
    assert report is not None
    assert [(g.name, g.vendor_id, g.memory_total_mib) for g in report.gpus] == [expected]


def test_other_output_is_no_torch_report() -> None:
    for name in ("nvidia-smi-L-prompt--4x-rtx3090.txt", "rocminfo-in-collect-env-thread-cut-in-cpu-agent--7950x3d.txt"):
        assert parse_torch_report(_text(name)) is None
    # a ComfyUI start-up cut before its device: nothing about the GPU
    cut = parse_torch_report(_text("comfyui-directml-startup-cut-before-device--windows.txt"))
    assert cut is None or cut.gpus == []


def test_the_pasted_torch_and_cpu_section_reach_the_profile(tmp_path: Path) -> None:
    profile = assembled(tmp_path, {"nvidia-smi": "collect-env-wsl2-cu121--rtx4070-laptop-551-cut.txt"})
    assert profile.torch is not None
    assert (profile.torch.version, profile.torch.cuda, profile.torch.gpu_available) == ("2.4.0+cu121", "12.1", True)
    assert (profile.cpu.model, profile.cpu.threads, profile.cpu.flags) == (
        "13th Gen Intel(R) Core(TM) i9-13950HX",
        32,
        None,
    )


def test_fastfetch_json_names_the_gpu_and_not_its_bus_code_as_an_id() -> None:
    (gpu,) = parse_named_gpus(_text("fastfetch-json-gpu-module-cut--rx7700xt.txt"))
    # "deviceId": 119288 is fastfetch's bus encoding; "dedicated" "total": null stays unknown
    assert (gpu.name, gpu.vendor_id, gpu.device_id, gpu.memory_total_mib) == (
        "AMD Radeon RX 7700 XT",
        "1002",
        None,
        None,
    )


def test_hwinfo_gfxcard_gives_the_gpu_and_leaves_an_unprinted_driver_unknown() -> None:
    (device,) = parse_lspci(_text("hwinfo-gfxcard-oc-logs--intel-56c1-no-driver.txt"))
    assert (device.slot, device.vendor_id, device.device_id, device.driver, device.verbose) == (
        "0000:37:00.0",
        "8086",
        "56c1",
        None,
        False,
    )


def test_a_fenced_cut_rocm_smi_json_is_read_member_by_member() -> None:
    (gpu,) = parse_rocm_smi(_text("rocm-smi-json-cut--780m-phoenix3-1900.txt")).gpus
    assert (gpu.device_id, gpu.card_series, gpu.bdf, gpu.vram_total_bytes) == ("1900", "Phoenix3", "0000:c4:00.0", None)


def test_a_rocm_ui_start_up_gives_the_runtime_gfx_and_a_rocm_torch(tmp_path: Path) -> None:
    """ComfyUI on ROCm prints "AMD arch: gfx1032" and "ROCm version: (7, 2)"; the paste opened an inline-code span on
    its first line ("`Total VRAM ..."). Its torch ("+rocmsdk...") is a ROCm build, never called CPU-only."""
    profile = assembled(tmp_path, {"nvidia-smi": "comfyui-startup-rocm-amd-arch-backtick--rx6600xt-gfx1032.txt"})
    assert [(g.vendor, g.name, g.gfx, g.vram_bytes) for g in profile.gpus] == [
        ("amd", "AMD Radeon RX 6600 XT", "gfx1032", 8176 * 2**20)
    ]
    assert profile.torch is not None and (profile.torch.hip, profile.torch.cuda) == ("7.2", None)


def test_an_early_rocm_collect_env_names_its_gpu_by_device_id(tmp_path: Path) -> None:
    """ROCm 3 builds print "GPU models and configuration: Device 66a1": no name, but the PCI id of the card."""
    profile = assembled(tmp_path, {"nvidia-smi": "collect-env-rocm37-device-66a1-no-name.txt"})
    assert [(g.vendor, g.pci_id) for g in profile.gpus] == [("amd", "1002:66a1")]
    assert profile.gpus[0].gfx is not None and profile.nvidia_driver is None
    assert profile.torch is not None and profile.torch.hip == "3.7.20315-077bcfa0"
