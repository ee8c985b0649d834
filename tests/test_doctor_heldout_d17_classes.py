"""Classes found by the held-out round heldd17 (issue 10), fed the way a user does it: each real paste given whole to
`rigfit doctor --from FILE` (tests/fixtures/doctor/pasted/, SOURCES.md round heldd17). Each rule is tested on its
class (other versions, other layouts), and a fact the paste does not show stays unknown:

- pip finding no torch of the version asked on the index it searched: pip is a recognised tool, the finding names
  the torch asked, the index and what it offers, with the fix;
- kohya_ss's setup lines without their timestamp (gui.sh), and v25's "VRAM 7867MB Arch 8.6" form;
- a printed torch one-liner (labelled, or the bare "2.6.0+cu124 12.4 False" where the build and CUDA agree);
- doctor's Python section for a paste says only what the paste shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rigfit.cli import app
from rigfit.probe.gather import findings_for
from rigfit.probe.gpu.installer_swap import torch_swap_faults
from rigfit.probe.gpu.pip_output import pip_torch_faults
from rigfit.probe.gpu.torch_cuda_init import torch_cuda_init
from rigfit.probe.paste_source import recognised_tools
from rigfit.probe.report import facts_by_section
from tests.cli_runner import CliRunner
from tests.doctor_paste_helpers import PASTED, pasted_profile

runner = CliRunner()


def doctor_json(tmp_path: Path, text: str) -> dict[str, Any]:
    """`rigfit doctor --from PASTE --json` on this text saved as a file: what it prints (it must exit 0)."""
    paste = tmp_path / "paste.txt"
    paste.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["doctor", "--from", str(paste), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


PIP = "pip-rocm5.6-index-no-matching-torch-2.4.1--no-device.txt"
KOHYA_BARE = "kohya-gui-sh-no-timestamps-rocm-rx7800xt-16368-then-reinstalls-cu118.txt"
KOHYA_V25 = "kohya-v25-fedora-rtx3060ti-7867mb-arch-8.6-missing-rocm-requirements.txt"
ONE_LINER = "invokeai-rocm-docker-torch-one-liner-2.6.0-cu124-cuda-false.txt"


def _recognised(text: str) -> set[str]:
    return {t.id for t in recognised_tools(text)}


# 1. pip ----------------------------------------------------------------------------------------------------------


def test_pip_finding_no_torch_on_its_index_is_a_finding_with_its_fix() -> None:
    profile = pasted_profile(PIP)
    found = {f.id: f for f in findings_for(profile)}["torch.no_matching_build"]
    assert "torch==2.4.1" in found.message
    assert "whl/rocm5.6" in found.fix and "2.2.2+rocm5.6" in found.fix
    assert "previous-versions" in found.fix
    # nothing else is claimed: no GPU, no Python, no installed torch
    assert profile.gpus == [] and profile.torch is None and profile.python.version is None


@pytest.mark.parametrize(
    ("text", "facts"),
    [
        # a CUDA build asked with its tag, the index named only by its local tag on every offered version
        (
            "ERROR: Could not find a version that satisfies the requirement torch==2.1.0+cu117 (from versions: "
            "2.0.0+cu117, 2.0.1+cu117)\nERROR: No matching distribution found for torch==2.1.0+cu117\n",
            {"version": "2.1.0", "build": "cu117", "index": "cu117", "offered": "2.0.0+cu117, 2.0.1+cu117"},
        ),
        # the index from the command's --index-url; pip offered nothing ("none") for this Python
        (
            "$ pip install torch==2.0.1 --index-url https://download.pytorch.org/whl/cu118\n"
            "ERROR: Could not find a version that satisfies the requirement torch==2.0.1 (from versions: none)\n",
            {"version": "2.0.1", "index": "cu118"},
        ),
    ],
)
def test_pip_class_other_versions_and_layouts(text: str, facts: dict[str, str]) -> None:
    assert "pip" in _recognised(text)
    [fault] = pip_torch_faults(text)
    assert {k: fault.facts.get(k) for k in facts} == facts
    assert "offered" in fault.facts or "offered" not in facts


def test_pip_about_another_package_is_not_torch_class() -> None:
    text = "ERROR: No matching distribution found for torchvision==0.99.0\n"
    assert pip_torch_faults(text) == []


# 2. kohya_ss -----------------------------------------------------------------------------------------------------


def test_kohya_gui_sh_without_timestamps_is_read() -> None:
    assert "ui-console" in _recognised((PASTED / KOHYA_BARE).read_text(encoding="utf-8"))
    profile = pasted_profile(KOHYA_BARE)
    [gpu] = profile.gpus
    assert (gpu.vendor, gpu.name, gpu.vram_bytes) == ("amd", "AMD Radeon RX 7800 XT", 16368 * 2**20)
    assert profile.torch is not None and (profile.torch.version, profile.torch.hip) == ("2.1.2+rocm5.6", "5.6")
    assert profile.python.version == "3.11.8"


def test_kohya_v25_glued_vram_and_dotted_arch() -> None:
    profile = pasted_profile(KOHYA_V25)
    [gpu] = profile.gpus
    assert (gpu.name, gpu.vram_bytes, gpu.compute_capability) == ("NVIDIA GeForce RTX 3060 Ti", 7867 * 2**20, "8.6")
    assert profile.torch is not None and (profile.torch.version, profile.torch.cuda) == ("2.7.0+cu128", "12.8")
    assert profile.nvidia_driver is None  # not in the paste


@pytest.mark.parametrize(
    ("line", "name", "mib", "cc"),
    [
        (
            "INFO     Torch detected GPU: NVIDIA GeForce RTX 4090 VRAM 24079MB Arch 8.9 Cores 128",
            "RTX 4090",
            24079,
            "8.9",
        ),
        (
            "12:00:01-000001 INFO     Torch detected GPU: NVIDIA A100-SXM4-80GB VRAM 81051 MB Arch 8.0",
            "A100",
            81051,
            "8.0",
        ),
        (
            "INFO     Torch detected GPU: NVIDIA GeForce GTX 1080 VRAM 8192 Arch (6, 1) Cores 20",
            "GTX 1080",
            8192,
            "6.1",
        ),
    ],
)
def test_kohya_device_line_class(tmp_path, line: str, name: str, mib: int, cc: str) -> None:
    doc = doctor_json(tmp_path, f"INFO     Kohya_ss GUI version: v25.1.0\nINFO     Torch 2.6.0+cu124\n{line}\n")
    [gpu] = doc["profile"]["gpus"]
    assert name in gpu["name"] and "VRAM" not in gpu["name"]
    assert (gpu["vram_bytes"], gpu["compute_capability"]) == (mib * 2**20, cc)


def test_kohya_torch_line_without_a_device_line_is_still_the_torch() -> None:
    profile = pasted_profile("kohya-runpod-torch-2.1.2-cu118-cuda-driver-initialization-failed.txt")
    assert profile.torch is not None and (profile.torch.version, profile.torch.cuda) == ("2.1.2+cu118", "11.8")
    assert profile.gpus == []


# 3. a printed torch one-liner ------------------------------------------------------------------------------------


def test_labelled_one_liner_gives_torch_build_and_no_gpu_seen() -> None:
    profile = pasted_profile(ONE_LINER)
    assert "torch-printed" in _recognised((PASTED / ONE_LINER).read_text(encoding="utf-8"))
    torch = profile.torch
    assert torch is not None
    assert (torch.version, torch.cuda, torch.hip, torch.gpu_available) == ("2.6.0+cu124", "12.4", None, False)
    assert profile.gpus == [] and profile.nvidia_driver is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2.6.0+cu124 12.4 False\n", ("2.6.0+cu124", "12.4", None, False)),
        ("2.5.1+rocm6.2 None True\n", ("2.5.1+rocm6.2", None, "6.2", True)),
        ("2.3.1+cu121 12.1 None True\n", ("2.3.1+cu121", "12.1", None, True)),
    ],
)
def test_bare_one_liner_where_build_and_cuda_agree(tmp_path, text: str, expected: tuple[object, ...]) -> None:
    doc = doctor_json(tmp_path, text)
    torch = doc["profile"]["torch"]
    assert (torch["version"], torch["cuda"], torch["hip"], torch["gpu_available"]) == expected


def test_bare_line_whose_build_and_cuda_disagree_is_no_torch(tmp_path) -> None:
    # cu124 printed beside 11.8: not the one-liner's shape, nothing is read from it
    doc = doctor_json(tmp_path, "Python 3.10.12\n2.6.0+cu124 11.8 False\n")
    assert doc["profile"]["torch"] is None


# 5. the Python section of a paste --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "first"),
    [(KOHYA_V25, "Python 3.10.9"), (PIP, "Python: not in what was given")],
)
def test_a_paste_python_section_says_only_what_the_paste_shows(name: str, first: str) -> None:
    lines = facts_by_section(pasted_profile(name))["python"]
    assert lines[0] == first
    assert not any("?" in line or "unknown" in line for line in lines), lines


# 4. nvtop, Forge's Python banner, InvokeAI's dependency JSON, a bare `uname -r` ----------------------------------


def test_nvtop_two_column_screen_is_four_gpus_with_their_memory() -> None:
    profile = pasted_profile("comfyui-nvtop-4x-rtx4090-plus-startup-cut-at-platform--4x-23.988gi.txt")
    assert [g.name for g in profile.gpus] == ["NVIDIA GeForce RTX 4090"] * 4
    assert {g.vram_bytes for g in profile.gpus} == {round(23.988 * 1024) * 2**20}
    assert profile.nvidia_driver is None and profile.torch is None  # nvtop shows neither
    assert not {f.id for f in findings_for(profile)} & {"torch.ui_runs_on_cpu", "torch.out_of_memory"}


def test_nvtop_one_column_in_mi_units(tmp_path) -> None:
    doc = doctor_json(
        tmp_path,
        " Device 0 [AMD Radeon RX 6600] Integrated GPU RX: 0.000 KiB/s TX: 0.000 KiB/s\n"
        " GPU 0MHz MEM 96MHz TEMP 40°C FAN N/A POW 5 W\n"
        " GPU[ 0%] MEM[|    512Mi/8176Mi]\n",
    )
    [gpu] = doc["profile"]["gpus"]
    assert (gpu["name"], gpu["vram_bytes"]) == ("AMD Radeon RX 6600", 8176 * 2**20)


@pytest.mark.parametrize(
    ("text", "python"),
    [
        ("INCOMPATIBLE PYTHON VERSION\n\nThis program is tested with 3.10.6 Python, but you have 3.12.7.\n", "3.12.7"),
        ("This program is tested with 3.10 Python, but you have 3.13.1.\n", "3.13.1"),
    ],
)
def test_forge_banner_gives_the_uis_python(tmp_path, text: str, python: str) -> None:
    doc = doctor_json(tmp_path, text)
    assert doc["profile"]["python"]["version"] == python


def test_invokeai_dependency_json_gives_torch_and_python_not_the_form_gpu() -> None:
    profile = pasted_profile("invokeai-issue-form-amd-rx6800-python-deps-torch-2.4.1-cu121.txt")
    assert profile.torch is not None and (profile.torch.version, profile.torch.cuda) == ("2.4.1+cu121", "12.1")
    assert profile.python.version == "3.11.11"
    assert profile.gpus == []  # the form's "GPU model" field is prose, not a tool's output


def test_a_json_torch_member_alone_is_no_dependency_list(tmp_path) -> None:
    doc = doctor_json(tmp_path, 'Python 3.10.6\n{\n  "torch": "2.4.1+cu121",\n  "name": "x"\n}\n')
    assert doc["profile"]["torch"] is None


@pytest.mark.parametrize(
    ("text", "kernel"),
    [
        ("$ uname -r\n6.8.0-45-generic\n", "6.8.0-45-generic"),
        ("6.12.10-arch1-1\n", "6.12.10-arch1-1"),
        ("5.15.153.1-microsoft-standard-WSL2\n", "5.15.153.1-microsoft-standard-WSL2"),
    ],
)
def test_a_bare_uname_r_line_is_the_kernel(tmp_path, text: str, kernel: str) -> None:
    doc = doctor_json(tmp_path, text)
    assert doc["profile"]["os"]["kernel"] == kernel


def test_a_program_version_alone_is_no_kernel(tmp_path) -> None:
    paste = tmp_path / "versions.txt"
    paste.write_text("Python 3.10.6\n2.4.1\n", encoding="utf-8")
    result = runner.invoke(app, ["doctor", "--from", str(paste), "--json"])
    assert json.loads(result.output)["profile"]["os"]["kernel"] is None


# found on the way: the driver's placeholder name is no model --------------------------------------------------


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("a1111-pr-comment-graphics-device-sm120-not-compatible-cut.txt", None),
        ("workbench-sdxl-rtx5060ti-sm120-not-compatible.txt", "NVIDIA GeForce RTX 5060 Ti"),
    ],
)
def test_nvidia_graphics_device_is_an_nvidia_gpu_of_unknown_model(name: str, model: str | None) -> None:
    [gpu] = pasted_profile(name).gpus
    assert (gpu.vendor, gpu.name, gpu.compute_capability) == ("nvidia", model, "12.0")
    assert gpu.vram_bytes is None  # torch's warning does not say


# found on the way: torch's CUDA-init warning names the status (rigfit/kb/gpu_errors.yaml, as explain) ------------


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("invokeai-nixos-torch-error-803-using-cpu--no-device.txt", "libcuda"),
        ("kohya-runpod-torch-2.1.2-cu118-cuda-driver-initialization-failed.txt", "/dev/nvidia*"),
    ],
)
def test_torch_cuda_init_warning_is_a_finding_with_the_kb_status(name: str, said: str) -> None:
    found = {f.id: f for f in findings_for(pasted_profile(name))}
    assert said in found["torch.cuda_init_failed"].message and found["torch.cuda_init_failed"].fix
    assert "torch.ui_runs_on_cpu" not in found  # the cause says more than "runs on the CPU"
    assert pasted_profile(name).gpus == []  # no GPU model or driver is claimed


def test_torch_cuda_init_class_other_status_and_unknown_wording() -> None:
    other = (
        "/venv/lib/python3.11/site-packages/torch/cuda/__init__.py:129: UserWarning: CUDA initialization: Unexpected "
        "error from cudaGetDeviceCount(). Error 804: forward compatibility was attempted on non supported HW "
        "(Triggered internally at /pytorch/c10/cuda/CUDAFunctions.cpp:109.)\n"
    )
    failure = torch_cuda_init(other.strip())
    assert failure is not None
    assert failure.evidence.endswith("Error 804: forward compatibility was attempted on non supported HW")
    assert "forward-compatibility" in failure.status.meaning
    assert torch_cuda_init("UserWarning: CUDA initialization: something no KB entry prints") is None


# found on the way: a UI stopped at start because torch has no GPU ------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "forge-neo-linux-pytorch-not-able-to-access-gpu-traceback.txt",
        "comfyui-docker-rocm-traceback-cut-in-torch-cuda--python-3.11.7.txt",
    ],
)
def test_a_ui_stopped_because_torch_has_no_gpu_is_a_finding_naming_no_cause(name: str) -> None:
    profile = pasted_profile(name)
    found = {f.id: f for f in findings_for(profile)}
    assert found["torch.ui_runs_on_cpu"].fix
    assert profile.gpus == [] and profile.torch is None and profile.nvidia_driver is None


def test_a1111_launch_check_wording_is_the_same_class(tmp_path) -> None:
    doc = doctor_json(
        tmp_path,
        "Traceback (most recent call last):\n"
        '  File "/home/u/stable-diffusion-webui/modules/launch_utils.py", line 386, in prepare_environment\n'
        "    raise RuntimeError(\n"
        "RuntimeError: Torch is not able to use GPU; add --skip-torch-cuda-test to COMMANDLINE_ARGS variable to "
        "disable this check\n",
    )
    assert "torch.ui_runs_on_cpu" in {f["id"] for f in doc["findings"]}


# found on the way: an installer replacing torch with a build for another kind of GPU --------------------------


def test_installer_swapping_a_rocm_torch_for_a_cuda_one_is_a_finding() -> None:
    profile = pasted_profile(KOHYA_BARE)
    found = {f.id: f for f in findings_for(profile)}["torch.build_swapped"]
    assert "2.1.2+rocm5.6" in found.fix and "2.1.2+cu118" in found.fix


@pytest.mark.parametrize(
    ("line", "swapped"),
    [
        ("12:00:00-000001 WARNING  Package wrong version: torch 2.3.1+cu121 required 2.3.1+rocm6.0", True),
        ("WARNING  Package wrong version: torch 2.4.0+cu124 required 2.5.1+cpu", True),
        # a newer version or another CUDA line of the same kind is an ordinary upgrade
        ("WARNING  Package wrong version: torch 2.1.2+cu118 required 2.3.1+cu121", False),
        ("WARNING  Package wrong version: torch 2.1.2 required 2.3.1+cu121", False),
    ],
)
def test_installer_swap_class(line: str, swapped: bool) -> None:
    assert bool(torch_swap_faults(line + "\n")) is swapped
