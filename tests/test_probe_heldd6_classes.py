"""The classes round heldd6 (issue 10) fixed, each checked on real outputs beyond the held-out pastes where one was
found: NVML's "Unable to determine the device handle", NVRM's "not supported" reports in their wrapped and flat
layouts, amdgpu's init failure, one finding per identical GPU model, the plan preferring a GPU the newest torch line
runs, glxinfo/clinfo/xpu-smi/inxi as GPU sources, WSL's virtual adapter, and cut x86 flag lists."""

from __future__ import annotations

from pathlib import Path

from rigfit.plan.model import PlanOptions
from rigfit.plan.planner import make_plan
from rigfit.probe.cpu_text import parse_lscpu
from rigfit.probe.gather import findings_for
from rigfit.probe.gpu.faults import kernel_faults
from rigfit.probe.gpu.nvidia_smi import parse_nvidia_smi
from rigfit.probe.gpu.renderers import parse_named_gpus
from tests.doctor_helpers import pasted, read


def test_nvml_device_handle_failures_name_the_unreachable_gpu() -> None:
    # https://github.com/cihlab/fics-cluster-guide/issues/53 (title): no space between "GPU" and the address
    out = parse_nvidia_smi("Unable to determine the device handle for GPU0000:20:00.0: Unknown Error\n")
    assert out.error == "gpu_unreachable"
    assert [g.bdf for g in out.gpus] == ["0000:20:00.0"]


def test_a_flat_nvrm_report_is_read_joined() -> None:
    """open-gpu-kernel-modules#696: the same report as the journal's, without indentation or timestamps."""
    text = (
        "NVRM: The NVIDIA GPU 0000:02:00.0 (PCI ID: 10de:1b82)\n"
        "NVRM: installed in this system is not supported by open\n"
        "NVRM: nvidia.ko because it does not include the required GPU\n"
        "NVRM: System Processor (GSP).\n"
    )
    (fault,) = kernel_faults(text)
    assert fault.kind == "nvidia_open_module_unsupported"
    assert fault.detail == "0000:02:00.0 (PCI ID: 10de:1b82)"


def test_an_old_driver_release_report_gives_its_version() -> None:
    """Bumblebee-Project/Bumblebee#810: the 367 driver's wording ("by the 367.57 NVIDIA Linux driver release")."""
    text = (
        "[   73.757880] NVRM: The NVIDIA GPU 0000:01:00.0 (PCI ID: 10de:13b0)\n"
        "               NVRM: installed in this system is not supported by the 367.57\n"
        "               NVRM: NVIDIA Linux driver release.  Please see 'Appendix\n"
    )
    (fault,) = kernel_faults(text)
    assert (fault.kind, fault.detail) == ("nvidia_release_unsupported", "367.57")


def test_an_amdgpu_init_failure_names_the_missing_firmware() -> None:
    """kernelci/kernelci-core#2238: a PSP firmware missing, then the fatal init error."""
    text = (
        "[    3.576634] amdgpu 0000:04:00.0: Direct firmware load for amdgpu/psp_13_0_8_toc.bin failed with error -2\n"
        "[    3.608265] amdgpu 0000:04:00.0: amdgpu: amdgpu_device_ip_init failed\n"
        "[    3.614955] amdgpu 0000:04:00.0: amdgpu: Fatal error during GPU init\n"
    )
    kinds = {f.kind: f.detail for f in kernel_faults(text)}
    assert kinds == {"gpu_firmware_missing": "amdgpu/psp_13_0_8_toc.bin", "gpu_init_failed": "amdgpu"}


def test_a_missing_firmware_that_is_not_fatal_is_only_a_warning(tmp_path: Path) -> None:
    """ROCm/legacy-rocm-build#912: a Radeon VII without its TA firmware still initialises."""
    text = (
        "[    3.353884] amdgpu 0000:19:00.0: Direct firmware load for amdgpu/vega20_ta.bin failed with error -2\n"
        '[    3.353886] amdgpu 0000:19:00.0: psp v11.0: Failed to load firmware "amdgpu/vega20_ta.bin"\n'
    )
    found = {f.id: f for f in findings_for(pasted(tmp_path, "dmesg", text))}
    assert found["gpu.firmware_missing"].severity == "warning"
    assert "gpu.init_failed" not in found


def test_six_identical_gpus_with_one_problem_are_one_finding(tmp_path: Path) -> None:
    profile = pasted(tmp_path, "rocm-smi", read("rocm-smi-did-column--6x-67df-and-0402.txt"))
    dropped = [f for f in findings_for(profile) if f.id == "gpu.rocm_dropped"]
    assert len(dropped) == 1
    assert dropped[0].message.startswith("6x ")


def test_the_plan_runs_on_the_gpu_the_newest_torch_line_runs(tmp_path: Path) -> None:
    profile = pasted(tmp_path, "nvidia-smi", read("nvidia-smi-L-4x-k80-and-2080ti-blank-uuid.txt"))
    plan = make_plan(profile, PlanOptions())
    assert plan.device.name == "GeForce RTX 2080 Ti"


def test_a_failed_gpu_init_keeps_the_plan_off_that_gpu(tmp_path: Path) -> None:
    profile = pasted(tmp_path, "dmesg", read("dmesg-amdgpu-mc-firmware-missing--wx2100-rpi.txt"))
    assert make_plan(profile, PlanOptions()).device.kind == "cpu"


def test_glxinfo_names_a_gpu_but_never_its_shared_video_memory() -> None:
    (gpu,) = parse_named_gpus(read("glxinfo-extended--gm45-2a42.txt"))
    assert (gpu.vendor_id, gpu.device_id, gpu.memory_total_mib) == ("8086", "2a42", None)
    (wsl,) = parse_named_gpus(read("glxinfo-B-wsl-d3d12--arc-a380.txt"))
    assert (wsl.vendor_id, wsl.device_id, wsl.name) == ("8086", None, "Intel Arc A380 Graphics")


def test_nvidia_s_glxinfo_gives_the_gpu_and_the_driver_version() -> None:
    """nigels-com/glew#279: `glxinfo | grep OpenGL` on an NVIDIA driver."""
    text = (
        "OpenGL vendor string: NVIDIA Corporation\n"
        "OpenGL renderer string: GeForce GTX 1660 SUPER/PCIe/SSE2\n"
        "OpenGL core profile version string: 4.6.0 NVIDIA 455.45.01\n"
    )
    (gpu,) = parse_named_gpus(text)
    assert (gpu.name, gpu.vendor_id, gpu.device_id, gpu.driver_version) == (
        "GeForce GTX 1660 SUPER",
        "10de",
        None,
        "455.45.01",
    )


def test_vulkaninfo_summary_names_each_gpu_by_its_ids() -> None:
    """nix-community/nixGL#153 (Linux, AMDGPU-PRO) and KhronosGroup/Vulkan-Tools#801 (an iGPU and a dGPU)."""
    nixgl = (
        "GPU0:\n\tapiVersion         = 1.3.260\n\tdriverVersion      = 2.0.279\n\tvendorID           = 0x1002\n"
        "\tdeviceID           = 0x73ff\n\tdeviceType         = PHYSICAL_DEVICE_TYPE_DISCRETE_GPU\n"
        "\tdeviceName         = AMD Radeon RX 6600 XT\n\tdriverName         = AMD proprietary driver\n"
    )
    (gpu,) = parse_named_gpus(nixgl)
    assert (gpu.vendor_id, gpu.device_id, gpu.name) == ("1002", "73ff", "AMD Radeon RX 6600 XT")
    two = (
        "GPU0:\n        vendorID           = 0x8086\n        deviceID           = 0x1912\n"
        "        deviceType         = PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU\n"
        "        deviceName         = Intel(R) HD Graphics 530\n"
        "GPU1:\n        vendorID           = 0x1002\n        deviceID           = 0x6939\n"
        "        deviceType         = PHYSICAL_DEVICE_TYPE_DISCRETE_GPU\n"
        "        deviceName         = AMD Radeon (TM) R9 380 Series\n"
    )
    assert [(g.vendor_id, g.device_id) for g in parse_named_gpus(two)] == [("8086", "1912"), ("1002", "6939")]


def test_a_software_renderer_is_no_gpu() -> None:
    # mne-tools/mne-python#11313: the renderer string of a CI machine without a GPU
    assert parse_named_gpus("OpenGL renderer string: Mesa 20.0.8 via llvmpipe (LLVM 10.0.0, 256 bits)\n") == []


def test_xpu_smi_is_never_read_as_nvidia_smi() -> None:
    text = read("xpu-smi-table--arc-b570.txt")
    assert parse_nvidia_smi(text).gpus == []
    (gpu,) = parse_named_gpus(text)
    assert (gpu.name, gpu.bdf, gpu.memory_total_mib) == ("Intel Arc B570 Graphics", "0000:03:00.0", 10172)


def test_wsl_s_virtual_adapter_is_no_gpu(tmp_path: Path) -> None:
    profile = pasted(tmp_path, "lspci", read("lspci-wsl--basic-render-driver.txt"))
    assert profile.gpus == []
    assert any("WSL's virtual GPU adapter" in w for w in profile.warnings)


def test_a_list_ending_on_ssbd_was_cut_and_one_going_on_was_not() -> None:
    cut = parse_lscpu(read("lscpu-flags-cut--n150.txt"))
    assert cut.flags_complete is False
    whole = read("cpuinfo-flags-cut--lunar-lake-268v.txt")
    flags = whole.split("flags\t\t: ", 1)[1].split()
    assert flags.index("ibpb") > flags.index("ssbd")  # the kernel's order the rule relies on
