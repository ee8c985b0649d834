"""doctor on what launchers and runtimes list (leftover12, issue 10): a Windows torch collect_env's CPU section
(Win32_Processor's "Name:" form), an iGPU only `sycl-ls` lists (Level Zero / OpenCL), and ComfyUI's DirectML device
line. Real pastes fed as `doctor --from` reads a capture (tests/test_doctor_heldout_d.assembled)."""

from __future__ import annotations

from pathlib import Path

from rigfit.probe.gpu.app_devices import parse_app_devices
from rigfit.probe.gpu.paste import clean_lines
from rigfit.probe.gpu.renderers import parse_named_gpus
from tests.conftest import FIXTURES
from tests.test_doctor_heldout_d import assembled

ROCM_WINDOWS = "collect-env-windows-rocm-wmi-cpu--rx9070xt-gfx1201-ryzen5-9600x.txt"
CPU_ONLY_WINDOWS = "collect-env-windows-cpu-only-no-cuda--i7-1270p-cut.txt"  # heldd11, cut inside the CPU section
SYCL_LS = "sycl-ls-opencl-only--uhd750-i7-11700k.txt"


def test_windows_collect_env_cpu_section_is_read(tmp_path: Path) -> None:
    profile = assembled(tmp_path, {"nvidia-smi": ROCM_WINDOWS})
    assert (profile.cpu.model, profile.cpu.vendor, profile.cpu.arch) == (
        "AMD Ryzen 5 9600X 6-Core Processor", "amd", "x86_64"
    )  # fmt: skip
    assert profile.cpu.threads is None and profile.cpu.avx2 is None  # WMI's section names neither: unknown
    assert [(g.name, g.gfx) for g in profile.gpus] == [("AMD Radeon RX 9070 XT", "gfx1201")]


def test_a_cut_windows_cpu_section_keeps_what_it_shows(tmp_path: Path) -> None:
    """Cut at "ProcessorT": the name, vendor and architecture lines above the cut are read."""
    profile = assembled(tmp_path / "cut", {"nvidia-smi": CPU_ONLY_WINDOWS})
    assert (profile.cpu.model, profile.cpu.vendor, profile.cpu.arch) == (
        "12th Gen Intel(R) Core(TM) i7-1270P", "intel", "x86_64"
    )  # fmt: skip


def test_an_igpu_only_sycl_ls_lists_is_a_gpu(tmp_path: Path) -> None:
    """No Level Zero driver: only the OpenCL backend lists the UHD 750; the CPU line is no GPU."""
    profile = assembled(tmp_path, {"lspci": SYCL_LS})
    assert [(g.vendor, g.name) for g in profile.gpus] == [("intel", "Intel UHD Graphics 750")]


def test_sycl_ls_lists_one_gpu_per_name_across_backends() -> None:
    """The same card under level_zero and opencl is one GPU (output shape of the UHD 750 paste's two forms)."""
    text = (FIXTURES / "doctor" / SYCL_LS).read_text(encoding="utf-8")
    gpu_line = next(ln for ln in text.splitlines() if ln.startswith("[opencl:gpu]"))
    level_zero = (
        "[ext_oneapi_level_zero:gpu][level_zero:0] Intel(R) Level-Zero, Intel(R) UHD Graphics 750 1.3 [1.3.27642]"
    )
    assert [g.name for g in parse_named_gpus(f"{level_zero}\n{gpu_line}")] == ["Intel UHD Graphics 750"]


def test_comfyui_directml_line_names_a_device_only_when_it_prints_one() -> None:
    """ComfyUI prints torch_directml.device_name(index): empty for the default index (every real log in the
    fixtures), the card's name with --directml N (model_management.py's format)."""
    for name in ("comfyui-directml-startup-cut-before-device--windows.txt",):
        lines = clean_lines((FIXTURES / "doctor" / name).read_text(encoding="utf-8"))
        assert any("Using directml with device:" in ln for ln in lines)
        assert parse_app_devices(lines).devices == []
    named = parse_app_devices(["Using directml with device: AMD Radeon(TM) Graphics", "Total VRAM 1024 MB"])
    assert [(d.index, d.name) for d in named.devices] == [(None, "AMD Radeon(TM) Graphics")]
