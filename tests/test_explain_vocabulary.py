"""The error vocabularies: every GPU runtime/library status (kb/gpu_errors.yaml) and OS error number (kb/os_errors.yaml)
is read the way tools print it, answered below the specific rules, and not answered where another rule already does.
The real logs of both classes are rows of tests/fixtures/logs/INDEX.yaml (round xvocab)."""

from __future__ import annotations

import re

import pytest

from rigfit.explain.analyzers import gpu_status, os_errors
from rigfit.explain.literals import required_literals
from rigfit.explain.match import catalogue, explain_text
from rigfit.kb.error_codes import GpuError, OsError
from rigfit.kb.loader import load_entries

GPU = load_entries("gpu_errors.yaml", GpuError)
OS = load_entries("os_errors.yaml", OsError)
CLASS_FINDINGS = {"gpu-out-of-memory", "cuda-driver-too-old", "rocm-gfx-missing", "pip-file-in-use-windows"}


def answer(text: str, prefix: str) -> list:
    return [e for e in explain_text(text).explanations if e.id.startswith(prefix)]


def test_every_kind_and_answering_rule_exists() -> None:
    kinds = set(gpu_status.kinds())
    assert {e.kind for e in GPU} <= kinds
    known = {issue.entry.id for issue in catalogue()} | CLASS_FINDINGS
    named = {
        part.strip()
        for e in (*GPU, *OS)
        if e.answered_by
        for part in re.split(r",| and ", e.answered_by)
        if part.strip()
    }
    assert named <= known, named - known


@pytest.mark.parametrize("entry", [e for e in GPU if e.text and not e.start_only], ids=lambda e: e.id)
def test_every_cuda_message_is_read_or_left_to_its_rule(entry: GpuError) -> None:
    found = answer(
        f"RuntimeError: CUDA error: {entry.text}\nCUDA kernel errors might be asynchronously reported", "gpu-status-"
    )
    if entry.answered_by and not entry.answered_when:
        assert found == []
        return
    if entry.answered_when and any(re.search(p, f"CUDA error: {entry.text}", re.I) for p in entry.answered_when):
        assert found == []
        return
    assert found and found[0].facts["status"] == entry.id
    assert found[0].kind == "class" and found[0].source
    if entry.kind == "kernel-fault":
        assert "CUDA_LAUNCH_BLOCKING=1" in found[0].fix


@pytest.mark.parametrize(
    "entry", [e for e in GPU if (not e.answered_by or e.answered_when) and not e.start_only], ids=lambda e: e.id
)
def test_every_status_name_is_read_unless_its_rule_reads_that_form(entry: GpuError) -> None:
    for name in (entry.id, *entry.names):
        line = f"RuntimeError: {name}"
        found = answer(line, "gpu-status-")
        if any(re.search(p, line, re.I) for p in entry.answered_when):
            assert found == [], name
            continue
        assert found and found[0].facts["status"] == name, name
        assert found[0].id == f"gpu-status-{entry.kind}"


@pytest.mark.parametrize("entry", [e for e in GPU if e.start_only], ids=lambda e: e.id)
def test_a_status_of_torchs_start_up_check_only_says_nothing_elsewhere(entry: GpuError) -> None:
    assert answer(f"RuntimeError: CUDA error: {entry.text}\nRuntimeError: {entry.id}", "gpu-status-") == []


def test_a_cudnn9_sub_code_is_read_as_its_status() -> None:
    found = answer("RuntimeError: cuDNN error: CUDNN_STATUS_NOT_SUPPORTED_SHAPE", "gpu-status-")
    assert found[0].facts["status"] == "CUDNN_STATUS_NOT_SUPPORTED_SHAPE"
    assert "CUDNN_STATUS_NOT_SUPPORTED" in found[0].cause


def test_the_first_status_is_the_cause_and_the_op_is_named() -> None:
    log = (
        "RuntimeError: CUDA error: misaligned address\n"
        "RuntimeError: CUDA error: CUBLAS_STATUS_EXECUTION_FAILED when calling `cublasGemmEx( handle, opa)`\n"
    )
    assert answer(log, "gpu-status-")[0].facts["status"] == "cudaErrorMisalignedAddress"
    cublas = answer(log.splitlines()[1], "gpu-status-")[0]
    assert cublas.facts["op"] == "cublasGemmEx"


def test_amd_statuses_get_amd_steps_and_names() -> None:
    hip = answer("torch.AcceleratorError: HIP error: an illegal memory access was encountered", "gpu-status-")[0]
    assert hip.facts["status"] == "hipErrorIllegalAddress" and hip.facts["vendor"] == "amd"
    assert "AMD_SERIALIZE_KERNEL=3" in hip.fix and "CUDA_LAUNCH_BLOCKING=1" not in hip.fix
    cuda = answer("RuntimeError: CUDA error: misaligned address", "gpu-status-")[0]
    assert "CUDA_LAUNCH_BLOCKING=1" in cuda.fix and "xid" in cuda.fix.lower()


def test_warnings_unknown_errors_and_specific_rules_get_no_status_answer() -> None:
    warning = (
        "UserWarning: Plan failed with a cudnnException: CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR: cudnnFinalize "
        "Descriptor Failed cudnn_status: CUDNN_STATUS_NOT_SUPPORTED (Triggered internally at Conv_v8.cpp:919.)"
    )
    assert explain_text(warning).explanations == []
    assert explain_text("RuntimeError: CUDA error: unknown error").explanations == []
    oom = explain_text(
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB\n"
        "RuntimeError: CUDA error: out of memory"
    ).explanations
    assert oom and not any(e.id.startswith("gpu-status-") for e in oom)


@pytest.mark.parametrize("entry", OS, ids=lambda e: e.id)
def test_every_os_error_is_read_with_its_path_or_left_to_its_rule(entry: OsError) -> None:
    if entry.platform == "windows":
        line = f"OSError: [WinError {entry.codes[0]}] {entry.texts[0].capitalize()}: 'C:\\\\sd\\\\venv\\\\x.bin'"
        path = "C:\\sd\\venv\\x.bin"
    else:
        line = f"OSError: [Errno {entry.codes[0]}] {entry.texts[0].capitalize()}: '/home/u/sd/models/x.bin'"
        path = "/home/u/sd/models/x.bin"
    found = answer(line, "os-error")
    if entry.answered_by and not entry.answered_when:
        assert found == []
        return
    if entry.empty_path_only:
        # a named path the program got wrong says nothing new; the EMPTY path is the answer (heldx22)
        assert found == []
        empty = answer(line.replace(path.replace("\\", "\\\\"), ""), "os-error")
        assert empty and empty[0].facts["error"] == entry.id and "EMPTY" in empty[0].cause
        return
    assert found and found[0].facts["error"] == entry.id and found[0].facts["path"] == path
    assert "{" not in found[0].fix and found[0].confidence < 0.7


def test_rust_and_localized_forms() -> None:
    uv = answer(
        "  Caused by: failed to hardlink file from /home/u/.cache/uv/a.py to /mnt/b/venv/a.py: Invalid cross-device "
        "link (os error 18)",
        "os-error",
    )[0]
    assert uv.facts["error"] == "EXDEV" and uv.facts["path"] == "/mnt/b/venv/a.py" and "UV_LINK_MODE=copy" in uv.fix
    german = answer(
        r"OSError: [WinError 32] Der Prozess kann nicht auf die Datei zugreifen: 'C:\\sd\\model.ckpt'", "os"
    )
    assert german[0].facts["error"] == "WinError-32"


def test_errors_other_rules_read_or_nobody_can_get_no_os_answer() -> None:
    assert answer("FileNotFoundError: [Errno 2] No such file or directory: 'input1.png'", "os-error") == []
    assert answer("ConnectionRefusedError: [Errno 111] Connection refused", "os-error") == []
    pip_lock = (
        "ERROR: Could not install packages due to an OSError: [WinError 32] The process cannot access the file "
        "because it is being used by another process: 'C:\\\\sd\\\\venv\\\\Lib\\\\site-packages\\\\cv2\\\\cv2.pyd'"
    )
    assert answer(pip_lock, "os-error") == []
    assert answer("PermissionError: [Errno 13] Permission denied: '/dev/kfd'", "os-error") == []


def test_the_patterns_have_literal_pre_checks() -> None:
    for pattern in (gpu_status.STATUS_NAME, gpu_status.STATUS_TEXT, os_errors.OS_ERROR, gpu_status.WARNING):
        assert required_literals(pattern), pattern.pattern
