"""explain on the fourteenth held-out round of issue 10 (heldx14: AMD cards through ROCm, ZLUDA and DirectML, Intel
Arc, old CPUs, Docker): the vocabularies that round led to, each held to a real text and to a text just outside the
rule (rows in logs/INDEX.yaml marked heldout, round heldx14)."""

from __future__ import annotations

from rigfit.explain.match import explain_text
from tests.explain_helpers import found, ids


def test_zluda_that_cannot_be_set_up_is_the_hip_sdk_on_windows_and_the_wrong_route_on_linux() -> None:
    linux = found("zluda-load-failed--linux-cublas-dll.txt")[0]
    assert linux.id == "zluda-load-failed" and "cublas.dll" in linux.cause and "Windows route" in linux.cause
    assert "without --use-zluda" in linux.fix and "ROCm torch" in linux.fix
    windows = explain_text(
        "Using ZLUDA in C:\\SD-Zluda\\stable-diffusion-webui-amdgpu\\.zluda\n"
        "Failed to load ZLUDA: list index out of range\nUsing CPU-only torch\n"
    ).explanations[0]
    assert windows.id == "zluda-load-failed" and "(list index out of range)" in windows.cause
    assert "HIP SDK" in windows.fix and "--use-zluda" in windows.fix and "without --use-zluda" not in windows.fix
    # SD.Next's wording when it found no HIP SDK at all
    assert ids("WARNING  ZLUDA failed to initialize: no HIP SDK found")[0] == "zluda-load-failed"
    # ZLUDA loading fine is no failure
    assert "zluda-load-failed" not in ids(
        "Using ZLUDA in C:\\SD\\.zluda\nZLUDA load: path='C:\\SD\\.zluda' nightly=False"
    )


def test_a_card_that_fails_zludas_first_test_is_the_driver_and_hip_sdk() -> None:
    first = found("zluda-basic-operation-test-failed--7900xt.txt")[0]
    assert first.id == "zluda-basic-operation-test-failed" and "AMD Radeon RX 7900 XT," in first.cause
    assert "Pro/Enterprise" in first.fix and "hipinfo" in first.fix and ".zluda" in first.fix
    # SD.Next and OneTrainer print the same line; a device name without the [ZLUDA] suffix is read whole
    line = "ZLUDA device failed to pass basic operation test: index=0, device_name=AMD Radeon RX 6600"
    top = explain_text(line).explanations[0]
    assert top.id == "zluda-basic-operation-test-failed" and "AMD Radeon RX 6600," in top.cause


def test_torch_without_xpu_is_a_cpu_wheel_on_an_intel_gpu() -> None:
    first = found("torch-not-compiled-with-xpu--sdnext-arc.txt")[0]
    assert first.id == "torch-not-compiled-with-xpu" and "whl/xpu" in first.fix and "--use-ipex" in first.fix
    # the CUDA twin stays the CUDA issue
    assert ids("AssertionError: Torch not compiled with CUDA enabled")[0] == "torch-not-compiled-with-cuda"


def test_float64_on_an_intel_gpu_without_fp64_is_named_in_each_runtimes_words() -> None:
    first = found("intel-gpu-no-fp64--arc-double-type.txt")[0]
    assert first.id == "intel-gpu-no-fp64" and "float32" in first.fix and "IGC_EnableDPEmulation=1" in first.fix
    for text in (
        "RuntimeError: Required aspect fp64 is not supported on the device",
        "RuntimeError: FP64 data type is unsupported on current platform.",
    ):
        assert ids(text)[0] == "intel-gpu-no-fp64", text
    assert "intel-gpu-no-fp64" not in ids("RuntimeError: expected scalar type Double but found Float")


def test_an_abort_of_intels_compute_runtime_is_the_driver_and_runtime_pair() -> None:
    first = found("intel-compute-runtime-abort--wsl-wddm-ipexrun.txt")[0]
    assert first.id == "intel-compute-runtime-abort" and "WSL2" in first.cause
    assert "intel-opencl-icd" in first.fix and "sycl-ls" in first.fix
    # the runtime's debug-break line (an assertion it only prints when asked) is not an abort
    assert "intel-compute-runtime-abort" not in ids("Assert was called at 12 line in file:\n/src/x.cpp")


def test_directml_and_xpu_out_of_memory_are_read_in_their_own_words() -> None:
    dml = found("gpu-out-of-memory--directml-hiresfix.txt")[0]
    assert dml.id == "gpu-out-of-memory" and dml.facts["device"] == "DirectML"
    assert dml.facts["tried_to_allocate"] == "384.00 MiB"
    assert "ZLUDA" in dml.fix and "ALLOC_CONF" not in dml.fix and "--medvram" in dml.fix
    xpu = explain_text(
        "torch.OutOfMemoryError: XPU out of memory. Tried to allocate 20.00 MiB. GPU 0 has a total capacity of "
        "11.93 GiB of which 5.62 MiB is free."
    ).explanations[0]
    assert xpu.facts["device"] == "XPU" and "PYTORCH_CUDA_ALLOC_CONF" not in xpu.fix


def test_sigill_in_a_localized_shell_is_still_sigill() -> None:
    for name in ("sigill-cpu-features--spanish-a6-3620-esxi.txt", "sigill-cpu-features--esx-host-privategpt.txt"):
        assert found(name)[0].id == "sigill-cpu-features", name
    german = '/usr/share/playonlinux/bash/find_python: Zeile 58:  9558 Ungültiger Maschinenbefehl   "$POL_PYTHON"'
    assert ids(german)[0] == "sigill-cpu-features"
    assert ids("Instrucción ilegal (`core' generado)")[0] == "sigill-cpu-features"
    # the Spanish word in other prose is no crash
    assert ids("el acceso ilegal a la memoria fue bloqueado") == []


def test_the_launchers_gpu_check_is_read_when_the_paste_cuts_its_message() -> None:
    first = found("torch-not-able-to-use-gpu--directml-fork-message-cut.txt")[0]
    assert first.id == "torch-not-able-to-use-gpu" and "Torch is not a" in first.evidence[0].text
    assert "torch-not-able-to-use-gpu" not in ids("RuntimeError: Torch is not available in this build")


def test_the_launchers_gpu_check_is_answered_for_the_route_the_log_shows() -> None:
    # the DirectML fork's folder in the paths: the venv and --use-directml, not a ROCm or CUDA wheel
    directml = found("torch-not-able-to-use-gpu--directml-fork-message-cut.txt")[0]
    assert "DirectML" in directml.cause and "--use-directml" in directml.fix and "venv" in directml.fix
    check = "RuntimeError: Torch is not able to use GPU; add --skip-torch-cuda-test to COMMANDLINE_ARGS"
    zluda = explain_text(f"Launching Web UI with arguments: --use-zluda\n{check}\n").explanations[0]
    assert "ZLUDA" in zluda.cause and "HIP SDK" in zluda.fix
    intel = explain_text(f"Launching Web UI with arguments: --use-ipex\n{check}\n").explanations[0]
    assert "Intel GPU" in intel.cause and "whl/xpu" in intel.fix
    # a plain CUDA launch names no route: the generic reading stays
    plain = explain_text(f"Launching Web UI with arguments: --xformers\n{check}\n").explanations[0]
    assert "DirectML" not in plain.cause and "ZLUDA" not in plain.cause and "rigfit doctor" in plain.fix


def test_a_missing_open_mpi_library_names_open_mpi() -> None:
    first = found("shared-library-missing--openmpi-libmpi-cxx-gfx803-torch.txt")[0]
    assert first.facts["package"] == "Open MPI" and "libopenmpi" in first.fix
    top = explain_text("ImportError: libopen-pal.so.80: cannot open shared object file: No such file or directory")
    assert top.explanations[0].facts["package"] == "Open MPI"


def test_intel_runtimes_out_of_memory_and_the_4gb_block_limit() -> None:
    block = found("xpu-allocation-over-4gb--forge-arc-a770-batch4.txt")[0]
    assert block.id == "xpu-allocation-over-4gb" and block.facts["tried_to_allocate"] == "4.50 GiB"
    assert "one block larger than 4 GB" in block.cause and "tiled VAE" in block.fix and "--medvram" not in block.fix
    for text in (
        "RuntimeError: Native API failed. Native API returns: -5 (PI_ERROR_OUT_OF_RESOURCES)",
        "RuntimeError: level_zero backend failed with error: 39 (UR_RESULT_ERROR_OUT_OF_DEVICE_MEMORY)",
    ):
        top = explain_text(text).explanations[0]
        assert top.id == "gpu-out-of-memory" and top.facts["device"] == "XPU", text
        assert "ALLOC_CONF" not in top.fix
    # another Unified Runtime status is not memory
    assert "gpu-out-of-memory" not in ids("RuntimeError: UR_RESULT_ERROR_DEVICE_LOST")


def test_a_cpu_pasted_with_the_log_answers_for_that_cpu() -> None:
    first = found("sigill-cpu-features--lscpu-qemu-cpu-pasted-gdb.txt")[0]
    assert first.id == "sigill-cpu-features" and first.profile_agrees is True
    assert "QEMU Virtual CPU version 1.5.3" in first.cause and "SSE4.2" in first.cause
    # /proc/cpuinfo's layout, a CPU with SSE4.2 but no AVX
    cpuinfo = (
        "model name\t: Intel(R) Core(TM)2 Quad CPU    Q9650  @ 3.00GHz\n"
        "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr "
        "sse sse2 ss ht tm pbe syscall nx lm constant_tsc pni monitor ssse3 cx16 sse4_1 sse4_2 popcnt lahf_lm\n"
        "Illegal instruction (core dumped)\n"
    )
    top = explain_text(cpuinfo).explanations[0]
    assert top.id == "sigill-cpu-features" and top.profile_agrees is True and "Q9650" in top.cause
    # a "flags:" line that is not a CPU's says nothing of the CPU
    other = explain_text("flags: ['--no-half', '--medvram']\nIllegal instruction (core dumped)\n").explanations[0]
    assert other.id == "sigill-cpu-features" and other.profile_agrees is None
