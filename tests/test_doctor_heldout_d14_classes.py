"""Round heldd14's classes (issue 10), each on real outputs beyond the held-out pastes:

- the device lines local LLM runtimes print (ollama's "inference compute", llama.cpp's ggml_cuda_init "Device N:"
  and --list-devices lines, ggml's Vulkan device lines); every real fixture is swept: only those lines name a device;
- nvidia-smi's "Compute M." Prohibited: no CUDA context allowed, a blocker with its fix (E. Process is no fault);
- the NVIDIA driver's version from nvidia-modeset's "Loading" line when the log has no NVRM one;
- the CPU model a pasted rocminfo's CPU agent names when nothing else says it;
- lspci's "Vendor Chip [Name]" line without its bus address (a desktop's system summary)."""

from __future__ import annotations

from pathlib import Path

from rigfit.plan.device import assess_gpus
from rigfit.probe.gather import findings_for
from rigfit.probe.gpu.llm_devices import LlmDevice, parse_llm_devices
from rigfit.probe.gpu.paste import clean_lines
from rigfit.probe.gpu.runtimes import nvidia_module_loaded
from tests.conftest import FIXTURES
from tests.doctor_helpers import pasted, read

# fixture -> (name, vendor id, compute capability, gfx, MiB, integrated) of each device, and ollama's CUDA level
LLM_DEVICES: dict[str, tuple[list[tuple[object, ...]], str | None]] = {
    "doctor/ggml-vulkan-found-1-device--rtx3060-laptop.txt": (
        [("NVIDIA GeForce RTX 3060 Laptop GPU", None, None, None, None, False)],
        None,
    ),
    "doctor/llama-bench-ggml-opencl-vulkan-lines--uhd730-quoted.txt": (
        [("Intel(R) UHD Graphics 730 (ADL-S GT1)", None, None, None, None, True)],
        None,
    ),
    "doctor/llama-cli-list-devices-vulkan--radv-gfx1151-uma.txt": (
        [("AMD Radeon Graphics", None, None, "gfx1151", None, True)],
        None,
    ),
    "doctor/llama-cpp-ggml-cuda-init--rtx-a6000-cc8.6.txt": (
        [("NVIDIA RTX A6000", "10de", "8.6", None, None, None)],
        None,
    ),
    "doctor/ollama-inference-compute-a10g-cc8.6-22gib.txt": (
        [("NVIDIA A10G", "10de", "8.6", None, 22528, None)],
        "12.2",
    ),
    "doctor/ollama-inference-compute-inline--rtx4090-23.6gib.txt": (
        [("NVIDIA GeForce RTX 4090", "10de", "8.9", None, 24166, None)],
        "12.5",
    ),
    "doctor/ollama-inference-compute-windows--rtx2080ti-11gib.txt": (
        [("NVIDIA GeForce RTX 2080 Ti", "10de", "7.5", None, 11264, None)],
        "12.1",
    ),
    "doctor/ollama-runner-devices-and-cuda-init--quadro-p4000-8107mib.txt": (
        [("Quadro P4000", "10de", "6.1", None, 8107, None)],
        None,
    ),
    "logs/gpu-status--powerinfer-a100-ptx-222.txt": ([("A100-SXM4-40GB", "10de", "8.0", None, None, None)], None),
}


def _tuple(d: LlmDevice) -> tuple[object, ...]:
    return (d.name, d.vendor_id, d.compute_capability, d.gfx, d.memory_total_mib, d.integrated)


def test_only_llm_runtime_device_lines_name_a_device_across_every_real_fixture() -> None:
    seen = {}
    for path in sorted([*FIXTURES.glob("logs/*.txt"), *FIXTURES.glob("doctor/*.txt")]):
        found = parse_llm_devices(clean_lines(path.read_text(encoding="utf-8", errors="replace")))
        if found.devices or found.cuda_version:
            seen[str(path.relative_to(FIXTURES))] = ([_tuple(d) for d in found.devices], found.cuda_version)
    assert seen == LLM_DEVICES


def test_ollama_device_line_gives_the_gpu_its_memory_and_the_drivers_cuda_level(tmp_path: Path) -> None:
    profile = pasted(tmp_path, "nvidia-smi", read("ollama-inference-compute-inline--rtx4090-23.6gib.txt"))
    (gpu,) = profile.gpus
    assert (gpu.name, gpu.compute_capability, gpu.vram_bytes) == ("NVIDIA GeForce RTX 4090", "8.9", 24166 * 2**20)
    assert (profile.nvidia_driver, profile.cuda_driver_version) == (None, "12.5")  # "driver=12.5" is a CUDA level


def test_ollamas_cpu_entry_and_rocm_lines_without_names_are_no_gpu(tmp_path: Path) -> None:
    assert (
        pasted(tmp_path / "a", "nvidia-smi", read("ollama-for-amd-gfx1031-unsupported-cpu-inference-compute.txt")).gpus
        == []
    )
    assert pasted(tmp_path / "b", "nvidia-smi", read("ggml-init-cublas-rocm-empty-names--8x-gfx90x.txt")).gpus == []


def test_a_vulkan_uma_device_is_an_integrated_gpu_with_radvs_gfx(tmp_path: Path) -> None:
    (gpu,) = pasted(tmp_path, "nvidia-smi", read("llama-cli-list-devices-vulkan--radv-gfx1151-uma.txt")).gpus
    assert (gpu.vendor, gpu.gfx, gpu.integrated) == ("amd", "gfx1151", True)


def test_a_vulkan_device_the_cuda_lines_name_is_one_gpu() -> None:
    text = read("ggml-vulkan-found-1-device--rtx3060-laptop.txt") + read(
        "llama-cpp-ggml-cuda-init--rtx-a6000-cc8.6.txt"
    )
    text = text.replace("NVIDIA RTX A6000", "NVIDIA GeForce RTX 3060 Laptop GPU")  # the same card in both listings
    assert [d.name for d in parse_llm_devices(clean_lines(text)).devices] == ["NVIDIA GeForce RTX 3060 Laptop GPU"]


def test_compute_mode_prohibited_is_a_blocker_the_plan_obeys(tmp_path: Path) -> None:
    profile = pasted(tmp_path, "nvidia-smi", read("nvidia-smi-windows-vgpu-rtxa6000-48a-538.33.txt"))
    (finding,) = [f for f in findings_for(profile) if f.id == "gpu.nvidia_compute_prohibited"]
    assert finding.severity == "blocker" and "nvidia-smi -i 0 -c DEFAULT" in finding.fix
    (assessment,) = assess_gpus(profile)
    assert [b.blocks for b in assessment.blockers] == ["gpu"]  # the plan leaves the card to the CPU


def test_exclusive_process_is_no_fault_and_one_prohibited_gpu_of_two_is_a_warning(tmp_path: Path) -> None:
    text = read("nvidia-smi-580-plus-header--a100-sxm4-40gb.txt")
    profile = pasted(tmp_path / "a", "nvidia-smi", text)
    assert {f.id for f in findings_for(profile)}.isdisjoint({"gpu.nvidia_compute_prohibited"})
    one = text.replace("E. Process", "Prohibited", 1)  # the same table with its first GPU shut
    (finding,) = [f for f in findings_for(pasted(tmp_path / "b", "nvidia-smi", one)) if "prohibited" in f.id]
    assert finding.severity == "warning" and "GPU 0" in finding.message


def test_nvidia_modeset_names_the_driver_only_without_an_nvrm_line() -> None:
    assert nvidia_module_loaded(read("journal-nvidia-open-570.172.08-modeset-persistenced-01-00.0.txt")) == "570.172.08"
    both = read("dmesg-nvrm-open-530-chipset-error-prime-fence--optimus.txt")
    assert nvidia_module_loaded(both) == "530.41.03"


def test_a_rocminfo_cpu_agent_names_the_cpu_only_when_nothing_else_does(tmp_path: Path) -> None:
    profile = pasted(tmp_path, "rocminfo", read("rocminfo-cut-after-cpu-agent--xeon-e5-2698.txt"))
    assert profile.cpu.model and "E5-2698" in profile.cpu.model
    assert profile.gpus == []


def test_an_lspci_name_line_without_its_address_names_the_gpu(tmp_path: Path) -> None:
    (gpu,) = pasted(tmp_path, "lspci", read("mint-system-info-specs--ga104-rtx3060ti-lhr-ryzen7-7700x.txt")).gpus
    assert (gpu.vendor, gpu.family, gpu.compute_capability) == ("nvidia", "Ampere", "8.6")
    assert pasted(tmp_path / "b", "lspci", "Subsystem: NVIDIA Corporation Device 1467\nNVIDIA Corporation\n").gpus == []
