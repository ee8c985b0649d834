"""Classes found by the held-out round heldd16 (issue 10), fed the way a user does it: each real paste given whole to
`rigfit doctor --from FILE` (tests/fixtures/doctor/pasted/, SOURCES.md round heldd16).

- InvokeAI's list form of its torch devices, "Using torch device: [A (cuda:0), B (cuda:1)]": two GPUs, never one
  GPU named by the list;
- a UI's start-up saying torch runs on the CPU ("Using torch device: CPU", "Device: cpu") or is not installed
  ("Could not load torch: No module named 'torch'"): a finding with its fix, unless the run asked for the CPU;
- torch's "CUDA out of memory. Tried to allocate ..." is a finding (the GPU works, the job needs less);
- recognition: ComfyUI's 2026 start-up (comfy_kitchen) and a ComfyUI traceback through its own files."""

from __future__ import annotations

import json

import pytest

from rigfit.cli import app
from rigfit.probe.gather import findings_for
from rigfit.probe.gpu.faults import ui_torch_faults
from rigfit.probe.paste_source import recognised_tools
from tests.cli_runner import CliRunner
from tests.doctor_paste_helpers import PASTED
from tests.doctor_paste_helpers import pasted_profile as _profile

runner = CliRunner()


def _finding_ids(name: str) -> set[str]:
    return {f.id for f in findings_for(_profile(name))}


def test_invokeai_device_list_is_two_gpus_not_one_named_by_the_list() -> None:
    profile = _profile("invokeai-rocm-docker-no-rocminfo--torch-device-rx7900xtx-plus-760m.txt")
    assert [g.name for g in profile.gpus] == ["AMD Radeon RX 7900 XTX", "AMD Radeon 760M Graphics"]
    assert all("[" not in (g.name or "") and "cuda:" not in (g.name or "") for g in profile.gpus)
    # rocminfo missing inside the container is no fault of the GPU
    assert not {"torch.ui_runs_on_cpu", "gpu.runtime_no_device"} & _finding_ids(
        "invokeai-rocm-docker-no-rocminfo--torch-device-rx7900xtx-plus-760m.txt"
    )


@pytest.mark.parametrize(
    ("name", "finding"),
    [
        ("invokeai-rocm-container-issue-form-2-amd-gpus--torch-device-cpu.txt", "torch.ui_runs_on_cpu"),
        ("fooocus-linux-amd-device-cpu--vram-equals-ram-15912.txt", "torch.ui_runs_on_cpu"),
        ("kohya-gui-linux-root-could-not-load-torch--no-torch.txt", "torch.ui_torch_missing"),
        ("ai-toolkit-torch-oom-line-gpu0-31.36gib.txt", "torch.out_of_memory"),
    ],
)
def test_a_ui_saying_torch_has_no_gpu_is_a_finding_with_its_fix(name: str, finding: str) -> None:
    found = {f.id: f for f in findings_for(_profile(name))}
    assert finding in found and found[finding].fix
    # nothing is claimed about a GPU the paste does not show (Fooocus's "Total VRAM" on a CPU device is RAM); torch's
    # out-of-memory message shows one: its total capacity, never its model (heldd19)
    gpus = _profile(name).gpus
    if finding == "torch.out_of_memory":
        assert [(g.name, g.vram_bytes) for g in gpus] == [(None, round(31.36 * 1024) * 2**20)]
    else:
        assert gpus == []


@pytest.mark.parametrize(
    "text",
    [
        "Launching Web UI with arguments: --always-cpu\nDevice: cpu\n",
        "python main.py --cpu\nTotal VRAM 15912 MB, total RAM 15912 MB\nDevice: cpu\n",
        "Device: cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync\n",
        "[InvokeAI]::INFO --> Using torch device: NVIDIA GeForce RTX 4090\n",
    ],
)
def test_a_run_that_asked_for_the_cpu_or_has_a_gpu_is_no_fault(text: str) -> None:
    assert ui_torch_faults(text) == []


def test_hip_out_of_memory_is_the_same_class() -> None:
    faults = ui_torch_faults("torch.OutOfMemoryError: HIP out of memory. Tried to allocate 2.00 GiB. GPU 0 has ...")
    assert [(f.kind, f.detail) for f in faults] == [("torch_oom", "HIP")]


@pytest.mark.parametrize(
    "name",
    [
        "stableswarmui-comfyui-backend-traceback-ec2-cut-at-comfy-sd.txt",
        "nix-run-comfyui-failed-create-input-dir-search-paths-cut.txt",
        "sdnext-webui-sh-use-rocm-hsa-override-12.0.1-cut-at-python-line.txt",
    ],
)
def test_recognised_with_nothing_to_know_claims_nothing(name: str) -> None:
    assert "ui-console" in {t.id for t in recognised_tools((PASTED / name).read_text(encoding="utf-8"))}
    profile = _profile(name)
    assert profile.gpus == [] and profile.torch is None and profile.cpu.model is None
    assert not {f.id for f in findings_for(profile) if f.id.startswith(("torch.", "gpu."))} - {"gpu.none"}


def test_comfy_kitchen_start_up_is_recognised() -> None:
    line = "[INFO] Found comfy_kitchen backend hip: {'available': False, 'disabled': False}\n"
    assert "ui-console" in {t.id for t in recognised_tools(line)}


def test_doctor_json_on_the_invokeai_list_paste() -> None:
    path = PASTED / "invokeai-rocm-docker-no-rocminfo--torch-device-rx7900xtx-plus-760m.txt"
    result = runner.invoke(app, ["doctor", "--from", str(path), "--json"])
    assert result.exit_code == 0, result.output
    gpus = json.loads(result.output)["profile"]["gpus"]
    assert [g["name"] for g in gpus] == ["AMD Radeon RX 7900 XTX", "AMD Radeon 760M Graphics"]
