"""torch's CUDA start-up check failing (cudaGetDeviceCount: Error 802/803/804, torch's own "CUDA driver
initialization failed" and "CUDA unknown error") is one answer, from its rigfit/kb/gpu_errors.yaml entry, in explain
and in doctor on a pasted start-up (rounds heldd17 02 and 08); and a load the program announces it works around
(comfy-aimdo's fallback to the legacy ModelPatcher, heldx20 03) is no failure."""

from __future__ import annotations

import json

import pytest

from rigfit.cli import app
from rigfit.explain.match import explain_text
from rigfit.probe.gpu.torch_cuda_init import init_status_fix, torch_cuda_init
from tests.cli_runner import CliRunner
from tests.conftest import FIXTURES

PASTED = FIXTURES / "doctor" / "pasted"
HELD_803 = PASTED / "invokeai-nixos-torch-error-803-using-cpu--no-device.txt"
HELD_INIT = PASTED / "kohya-runpod-torch-2.1.2-cu118-cuda-driver-initialization-failed.txt"
LOGS = FIXTURES / "logs"


def _doctor_findings(path) -> list[dict]:
    result = CliRunner().invoke(app, ["doctor", "--from", str(path), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["findings"]


@pytest.mark.parametrize(
    ("name", "status", "entry"),
    [
        ("torch-cuda-init--easydiffusion-error-803-cpu.txt", "803", "cudaErrorSystemDriverMismatch"),
        ("torch-cuda-init--lisa-nd96asr-error-802-fabric.txt", "802", "cudaErrorSystemNotReady"),
        ("torch-cuda-init--video-llava-3090-error-804-compat.txt", "804", "cudaErrorCompatNotSupportedOnDevice"),
        ("torch-cuda-init--debian-after-suspend-unknown-error.txt", None, "cudaErrorUnknown"),
    ],
)
def test_each_status_of_the_start_up_check_is_read_from_the_table(name: str, status: str | None, entry: str) -> None:
    line = (LOGS / name).read_text(encoding="utf-8").splitlines()[0]
    found = torch_cuda_init(line)
    assert found is not None and found.code == status and found.status.id == entry
    assert found.evidence.startswith(("UserWarning: CUDA initialization:", "CUDA initialization:"))


def test_the_drivers_too_old_warning_stays_with_its_own_known_issue() -> None:
    line = (LOGS / "nvidia-driver-too-old--container-11000-warning.txt").read_text(encoding="utf-8").splitlines()[0]
    assert torch_cuda_init(line) is None


def test_error_803_says_mismatch_reboot_and_the_cpu_fallback_not_a_gpu() -> None:
    top = explain_text(HELD_803.read_text(encoding="utf-8")).explanations[0]
    assert top.id == "torch-cuda-init-failed"
    assert top.facts["status"] == "Error 803" and top.facts["fell_back"] == "cpu"
    assert "different versions" in top.cause and "Reboot" in top.fix and "/run/opengl-driver/lib" in top.fix
    assert "gpu" not in top.facts  # the log names no GPU


def test_driver_initialization_failed_points_at_the_pod_not_an_old_driver() -> None:
    explanations = explain_text(HELD_INIT.read_text(encoding="utf-8")).explanations
    assert [e.id for e in explanations] == ["torch-cuda-init-failed"]
    assert "--gpus all" in explanations[0].fix and "too old" not in explanations[0].fix


@pytest.mark.parametrize("path", [HELD_803, HELD_INIT], ids=["803", "init-failed"])
def test_doctor_on_the_pasted_start_up_gives_the_same_fix_as_explain(path) -> None:
    findings = _doctor_findings(path)
    assert [f["id"] for f in findings] == ["torch.cuda_init_failed"]  # the CPU fallback line says no more than it
    init = torch_cuda_init(next(line for line in path.read_text(encoding="utf-8").splitlines() if "CUDA init" in line))
    assert init is not None
    assert findings[0]["fix"] == init_status_fix(init.status.id)
    assert explain_text(path.read_text(encoding="utf-8")).explanations[0].fix.startswith(findings[0]["fix"])


def test_generic_unknown_error_is_still_not_answered() -> None:
    """cudaErrorUnknown is in the table for the start-up check only: elsewhere "unknown error" says nothing."""
    assert explain_text("RuntimeError: CUDA error: unknown error\n").explanations == []


def test_a_load_the_program_works_around_is_no_failure_and_a_real_error_still_is() -> None:
    text = (LOGS / "harmless-fallback--comfyui-aimdo-undefined-symbol-g-cuda-py314.txt").read_text(encoding="utf-8")
    assert explain_text(text).explanations == []
    with_error = (
        text + "\n" + (LOGS / "torch-cuda-init--video-llava-3090-error-804-compat.txt").read_text(encoding="utf-8")
    )
    assert [e.id for e in explain_text(with_error).explanations] == ["torch-cuda-init-failed"]


def test_a_uis_own_words_for_a_caught_oom_are_the_oom_class() -> None:
    """Forge Neo prints "Encountered Out of Memory during Sampling; Unloading all Models..." for the OOM it caught
    (heldx20 05): the GPU OOM class, naming no backend the log does not name."""
    top = explain_text((LOGS / "oom--forge-neo-out-of-memory-during-sampling.txt").read_text(encoding="utf-8"))
    assert top.explanations[0].id == "gpu-out-of-memory"
    assert top.explanations[0].facts["device"] == "GPU" and "CUDA" not in top.explanations[0].title
