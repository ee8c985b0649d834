"""Classes found by the held-out round heldd19 (issue 10): real pastes of 2024-2026 SD UI / trainer help threads,
each given whole to `rigfit doctor --from FILE`, no capture, no slot (tests/fixtures/doctor/pasted/heldd19-*,
SOURCES.md).

- a ROCm queue abort during a kernel launch (rocdevice.cpp "aborting with error : HSA_STATUS_ERROR_INVALID_ISA") is
  a kernel built for another ISA, by a runtime that was running: never "the runtime could not start, no GPU"; the
  paste's `export HSA_OVERRIDE_GFX_VERSION=...` is the override in effect, and the fix is explain's for that line;
- torch's out-of-memory message: "GPU 0 has a total capacity of X GiB" is that GPU's memory (its model unknown), and
  "Process N has X GiB memory in use" names other processes on the GPU: freeing them is the first fix;
- torch's device start-up errors, alone or beside a UI's launch check: a CUDA build finding no NVIDIA driver, a ROCm
  build whose HIP runtime lists no GPU (findings with explain's fix for the line), a HIP runtime error (its cause
  not in the paste: said so, with how to find it);
- torch's "Unexpected error from cudaGetDeviceCount()" cut before its number: the CUDA check failed, the cause is
  not in the paste (never a guessed code), with how to get it; it says why ComfyUI's device call failed;
- `modinfo -n`'s module path (/lib/modules/<release>/...) is the running kernel's release."""

from __future__ import annotations

import json

import pytest

from rigfit.cli import app
from rigfit.kb.pasted_tools import pasted_tools
from rigfit.probe.gather import findings_for, probe_machine
from rigfit.probe.paste_source import line_facts, recognised_tools
from rigfit.probe.profile import Finding
from rigfit.probe.source import open_source
from tests.cli_runner import CliRunner
from tests.conftest import FIXTURES
from tests.doctor_paste_helpers import pasted_profile

PASTED = FIXTURES / "doctor" / "pasted"
runner = CliRunner()
OOM = "heldd19-03-ai-toolkit-runpod-cuda-oom-gpu0-47.53gib-traceback-cut.txt"
INVALID_ISA = "heldd19-08-comfyui-hsa-override-11.0.0-run-log-hsa-status-error-invalid-isa-abort.txt"


def _findings(name: str) -> dict[str, Finding]:
    return {f.id: f for f in findings_for(pasted_profile(name))}


def test_invalid_isa_abort_is_a_kernel_for_another_isa_not_a_runtime_that_did_not_start() -> None:
    profile = pasted_profile(INVALID_ISA)
    assert profile.rocm.hsa_override == "11.0.0"  # the paste's `export HSA_OVERRIDE_GFX_VERSION=11.0.0`
    assert profile.rocm.error is None  # rocminfo did not stop: no runtime start-up failure
    assert profile.gpus == []  # the GPU is prose only ("Radeon 8060S"): never called gfx1100
    findings = _findings(INVALID_ISA)
    assert "rocm.runtime_failed" not in findings
    isa = findings["rocm.invalid_isa"]
    assert isa.severity == "warning" and "could not start" not in isa.message and "see no GPU" not in isa.message
    assert "HSA_OVERRIDE_GFX_VERSION=11.0.0 is set" in isa.message and "gfx1100" in isa.message
    # one fact, one answer: the fix is explain's known issue for the same line (rigfit/kb/issues/amd.yaml)
    assert "unset HSA_OVERRIDE_GFX_VERSION" in isa.fix and "nvidia" not in isa.fix.lower()
    assert {t.id for t in recognised_tools((PASTED / INVALID_ISA).read_text())} == {
        "hip-runtime-log",
        "hsa-override-set",
    }


def test_invalid_isa_without_override_names_none_and_other_aborts_are_no_start_failure(tmp_path) -> None:
    line = (
        ":0:rocdevice.cpp            :2994: 3461243762 us: Callback: Queue 0x7501ba000000 aborting with error : "
        "HSA_STATUS_ERROR_{}: The instruction set architecture is invalid. code: 0x100f\n"
    )
    paste = tmp_path / "abort.txt"
    paste.write_text(line.format("INVALID_ISA"))
    findings = {f.id: f for f in findings_for(probe_machine(open_source(str(paste)), torch_check=False))}
    assert "no HSA_OVERRIDE_GFX_VERSION is set in what was given" in findings["rocm.invalid_isa"].message
    paste.write_text(line.format("MEMORY_APERTURE_VIOLATION"))
    ids = {f.id for f in findings_for(probe_machine(open_source(str(paste)), torch_check=False))}
    assert not ids & {"rocm.runtime_failed", "rocm.invalid_isa"}


def test_rocminfo_start_up_failure_is_still_read() -> None:
    """rocminfo's own HSA failure (no queue abort) keeps its reading."""
    name = "../rocminfo-hsa-call-failure--rx580-2048sp.txt"
    assert "rocm.runtime_failed" in _findings(name)


def test_doctor_json_agrees_on_the_abort() -> None:
    result = runner.invoke(app, ["doctor", "--from", str(PASTED / INVALID_ISA), "--json"])
    assert result.exit_code == 0, result.output
    ids = {f["id"] for f in json.loads(result.output)["findings"]}
    assert "rocm.invalid_isa" in ids and "rocm.runtime_failed" not in ids


def test_oom_message_gives_the_gpu_total_and_the_other_processes_as_first_fix() -> None:
    profile = pasted_profile(OOM)
    [gpu] = profile.gpus
    assert (gpu.vendor, gpu.name, gpu.pci_id) == ("nvidia", None, None)  # a CUDA build's GPU: its model is unknown
    assert gpu.vram_bytes == round(47.53 * 1024) * 2**20
    oom = _findings(OOM)["torch.out_of_memory"]
    assert "PID 654925 5.68 GiB, PID 706098 7.62 GiB" in oom.message
    assert oom.fix.startswith("First free what the other processes hold on that GPU (PID 654925 5.68 GiB, PID 706098")


def test_oom_totals_of_both_message_forms_and_backends(tmp_path) -> None:
    """torch >= 2.1 ("GPU 0 has a total capacity of"), older torch ("(GPU 0; 2.00 GiB total capacity;"), ROCm's HIP
    wording (an AMD GPU); a message without other processes keeps the generic fix."""
    for name, vendor, mib in [
        ("../../logs/cuda-out-of-memory--a1111-2gb.txt", "nvidia", 2048),
        ("../../logs/hip-out-of-memory--comfyui-rx6600-8gb.txt", "amd", round(7.98 * 1024)),
        ("fooocus-ubuntu-cuda-oom-gpu0-11.17gib.txt", "nvidia", round(11.17 * 1024)),
    ]:
        [gpu] = pasted_profile(name).gpus
        assert (gpu.vendor, gpu.name, gpu.vram_bytes) == (vendor, None, mib * 2**20), name
    assert _findings("fooocus-ubuntu-cuda-oom-gpu0-11.17gib.txt")["torch.out_of_memory"].fix.startswith("Free GPU")


@pytest.mark.parametrize(
    ("name", "finding", "fix_has", "fix_lacks"),
    [
        ("heldd19-06-swarmui-comfyui-backend-rocm-no-hip-gpus-traceback-cut.txt", "torch.rocm_no_gpu", "render,video",
         "nvidia"),
        ("heldd19-09-forge-amd-linux-two-runtime-errors-torch-not-able-found-no-nvidia-driver.txt",
         "torch.cuda_no_driver", "On an AMD or Intel GPU this is the wrong torch", "--skip-torch-cuda-test"),
        ("heldd19-11-stabilitymatrix-fooocus-hip-error-operation-cannot-be-performed-egpu-cut.txt", "torch.hip_error",
         "AMD_SERIALIZE_KERNEL=3", "nvidia"),
    ],
)  # fmt: skip
def test_torch_device_errors_are_findings_with_their_backend_fix(
    name: str, finding: str, fix_has: str, fix_lacks: str
) -> None:
    found = _findings(name)
    assert finding in found and "torch.ui_runs_on_cpu" not in found  # the error says why: not the launch check's guess
    assert fix_has in found[finding].fix and fix_lacks not in found[finding].fix.lower()
    assert pasted_profile(name).gpus == []  # the GPU (AMD, 6900 XT) is prose only
    if finding == "torch.hip_error":  # its cause is not in the paste: said so, never guessed
        assert "which call failed, and why, is not in this line" in found[finding].message


def test_a_hip_error_explain_knows_gets_explains_fix(tmp_path) -> None:
    paste = tmp_path / "hip.txt"
    paste.write_text("RuntimeError: HIP error: invalid device function\n")
    [fault] = [
        f for f in findings_for(probe_machine(open_source(str(paste)), torch_check=False)) if f.id == "torch.hip_error"
    ]
    assert "HSA_OVERRIDE_GFX_VERSION=10.3.0" in fault.fix  # issues/amd.yaml hip-invalid-device-function


def test_modinfo_module_path_gives_the_kernel_release() -> None:
    profile = pasted_profile("heldd19-12-modinfo-lsmod-lspci-nnk-amdgpu-1002-1114-strix-point-kernel-7.0.txt")
    assert profile.os.kernel == "7.0.0-31-generic"
    [gpu] = profile.gpus
    assert (gpu.pci_id, gpu.gfx, gpu.driver, gpu.vram_bytes) == ("1002:1114", "gfx1152", "amdgpu", None)
    # modinfo's "filename:" line and the module trees distributions use (/usr/lib/modules, compressed or not)
    for line, release in [
        ("filename:       /lib/modules/6.8.0-90-generic/updates/dkms/nvidia.ko", "6.8.0-90-generic"),
        ("/usr/lib/modules/6.12.10-arch1-1/kernel/drivers/gpu/drm/amd/amdgpu/amdgpu.ko.xz", "6.12.10-arch1-1"),
    ]:
        assert line_facts(line, list(pasted_tools()))["uname"] == release


def test_cut_cuda_init_error_is_the_failure_with_its_cause_unknown() -> None:
    found = _findings("heldd19-14-comfyui-framepack-autodl-old-pytorch-warning-cudagetdevicecount-traceback-cut.txt")
    init = found["torch.cuda_init_failed"]
    assert "cuts torch's message before the error's number" in init.message
    assert "torch.cuda.init()" in init.fix and "rigfit explain" in init.fix
    assert "torch.ui_runs_on_cpu" not in found  # ComfyUI's device call: said by the CUDA check's finding
