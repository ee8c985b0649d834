"""explain on the eighth held-out round of issue 10 (heldx8: what users paste from ComfyUI, SD.Next, InvokeAI and
Fooocus): the class rules and knowledge that round led to, each held to real logs of several tools and to a text just
outside the rule (rows in logs/INDEX.yaml marked heldout, round heldx8)."""

from __future__ import annotations

from tests.explain_helpers import found, ids


def test_a_kernel_stopped_by_the_display_watchdog_is_not_a_crash_or_an_oom() -> None:
    for log in ("cuda-launch-timeout--invokeai-titanx.txt", "cuda-launch-timeout--comfyui-i2vgenxl.txt"):
        first = found(log)[0]
        assert first.id == "cuda-launch-timeout", log
        assert "TdrDelay" in first.fix and "not an out-of-memory" in first.cause
    # a kernel that faulted is another failure, and torch's unspecific "unknown error" stays unexplained
    assert "cuda-launch-timeout" not in ids("RuntimeError: CUDA error: an illegal memory access was encountered")
    assert ids("RuntimeError: CUDA error: unknown error") == []


def test_a_faulted_cuda_kernel_sends_the_user_to_the_xid_in_the_kernel_log() -> None:
    for log in ("cuda-kernel-fault--invokeai-krea2-2080ti.txt", "cuda-kernel-fault--comfyui-i2vgenxl.txt"):
        first = found(log)[0]
        assert first.id == "cuda-kernel-fault", log
        assert "dmesg | grep -i xid" in first.fix and "CUDA_LAUNCH_BLOCKING=1" in first.fix
    assert ids("RuntimeError: CUDA error: an illegal memory access was encountered")[:1] == ["cuda-kernel-fault"]


def test_an_unreadable_uv_cache_is_cleaned_not_blamed_on_the_package_build() -> None:
    for log, package in (
        ("uv-cache--invoke-installer-pyperclip.txt", "pyperclip"),
        ("uv-cache--uv-0125-avro.txt", "avro"),  # uv 0.1's "Caused by:" layout
        ("uv-cache--uv-0518-docx2txt.txt", "docx2txt"),
    ):
        explanations = found(log)
        assert [e.id for e in explanations] == ["uv-cache-unreadable"], log
        assert f"uv cache clean {package}" in explanations[0].fix


def test_a_file_windows_keeps_loaded_is_not_a_permission_problem() -> None:
    for log, name in (
        ("pip-file-in-use--fooocus-cffi-backend.txt", "_cffi_backend.cp310-win_amd64.pyd"),
        ("pip-file-in-use--invokeai-pip-exe.txt", "pip.exe"),
        ("pip-file-in-use--a1111-faceswaplab-cv2-pyd.txt", "cv2.pyd"),
    ):
        first = found(log)[0]
        assert first.id == "pip-file-in-use-windows" and name in first.cause, log
        assert "-m pip" in first.fix and "--user" in first.cause
    assert found("pip-file-in-use--winerror32-in-process.txt")[0].id == "pip-file-in-use-windows"
    # WinError 5 on a dist-info file of a Python installed for all users is a real permission problem
    all_users = (
        "Could not install packages due to an EnvironmentError: [WinError 5] Access is denied: 'c:\\\\program files "
        "(x86)\\\\python37-32\\\\lib\\\\site-packages\\\\pip-19.0.3.dist-info\\\\entry_points.txt'\n"
        "Consider using the `--user` option or check the permissions."
    )
    assert "pip-file-in-use-windows" not in ids(all_users)


def test_pip_241_rejecting_old_metadata_names_the_release_and_both_ways_out() -> None:
    for log, package, version in (
        ("pip-invalid-metadata--fooocus-sm-torchsde025.txt", "torchsde", "0.2.5"),
        ("pip-invalid-metadata--binderhub-kubernetes.txt", "binderhub", "0.1.0"),
        ("pip-invalid-metadata--pipenv-mlflow.txt", "mlflow", "1.27.0"),  # pipenv's logger prefix
    ):
        explanations = found(log)
        assert [e.id for e in explanations] == ["pip-rejects-invalid-metadata"], log
        assert f"{package} {version}" in explanations[0].cause and '"pip<24.1"' in explanations[0].fix


def test_a_plugins_own_package_is_reinstalled_with_the_plugin_never_pip_installed() -> None:
    for log, plugin in (
        ("plugin-incomplete--comfyui-impact-config.txt", "comfyui_impact-pack"),
        ("plugin-incomplete--comfyui-impact-subpack-nodes.txt", "ComfyUI-Impact-Pack"),
        ("plugin-incomplete--comfyui-impact-special-samplers.txt", "ComfyUI-Impact-Pack"),
    ):
        first = found(log)[0]
        assert first.id == "python-plugin-incomplete", log
        assert f"custom_nodes/{plugin}" in first.fix and "ComfyUI-Manager" in first.fix
        assert "Do not `pip install impact`" in first.fix
    # a plugin named after the PyPI library it wraps: the traceback shows the library installed, so a missing
    # submodule of it is a release mismatch of that library, not the plugin's files
    wrapped = (
        '  File "C:\\ComfyUI\\custom_nodes\\ComfyUI-Ollama\\__init__.py", line 1, in <module>\n'
        '  File "C:\\ComfyUI\\python_embeded\\Lib\\site-packages\\ollama\\__init__.py", line 1, in <module>\n'
        "ModuleNotFoundError: No module named 'ollama._client'"
    )
    assert ids(wrapped)[:1] == ["python-module-version-mismatch"]
    # a module the plugin's name does not carry is a missing requirement, as before
    pytube = found("module-not-found--comfyui-komojini-pytube.txt")[0]
    assert pytube.id == "python-module-not-found" and "pip install pytube" in pytube.fix


def test_an_import_name_given_to_pip_names_the_package_that_provides_it() -> None:
    first = found("import-name--comfyui-fizznodes-dateutil.txt")[0]
    assert first.id == "pip-import-name-not-package"
    assert r"python_embeded\python.exe -m pip install python-dateutil" in first.fix
    assert "custom_nodes/ComfyUI_FizzNodes/requirements.txt" in first.fix  # pytz comes with it
    assert "Defaulting to user installation" in first.cause
    cv2 = found("import-name--comfyui-virtuoso-cv2.txt")[0]
    assert cv2.id == "pip-import-name-not-package" and "install opencv-python" in cv2.fix
    # a real distribution with no file for this Python keeps the no-matching-distribution reading
    torch = (
        "ERROR: Could not find a version that satisfies the requirement torch==2.1.0 (from versions: none)\n"
        "ERROR: No matching distribution found for torch==2.1.0"
    )
    assert ids(torch)[:1] == ["pip-no-matching-distribution"]


def test_numpy_abi_names_the_compiled_package_and_does_not_guess_the_direction() -> None:
    first = found("numpy-abi--defooocus-cupy-multiarray.txt")[0]
    assert first.id == "python-numpy-abi" and first.facts["compiled_package"] == "cupy"
    assert "does not say which side is newer" in first.cause and "built for NumPy 1" in first.fix
    # the message that says the direction keeps the known issue's numpy<2
    quoted = found("numpy-abi--invokeai-numpy212-quoted.txt")[0]
    assert quoted.id == "numpy-abi-1x-vs-2x" and '"numpy<2"' in quoted.fix


def test_rocblas_tensile_on_the_windows_hip_sdk_with_or_without_a_gfx_in_the_line() -> None:
    bare = found("tensile--sdnext-zluda-hipsdk61-no-gfx.txt")[0]
    assert bare.id == "rocm-gfx-missing" and "gfx" not in bare.facts
    assert "Windows HIP SDK" in bare.cause and "hipInfo" in bare.cause and "ROCmLibs" in bare.fix
    lazy = found("tensile--a1111-zluda-gfx1103-lazy.txt")[0]  # the gfx inside TensileLibrary_lazy_gfx1103.dat
    assert lazy.facts["gfx"] == "gfx1103" and "integrated GPU" in lazy.cause
    # on Linux the same missing file points at rocminfo and the override, not at the HIP SDK
    linux = found_text("rocBLAS error: Cannot read /opt/rocm/lib/rocblas/library/TensileLibrary.dat: No such file")
    assert linux.id == "rocm-gfx-missing" and "rocminfo" in linux.fix and "HIP SDK" not in linux.cause


def test_the_rounds_unknowns_stay_unexplained() -> None:
    for log in (
        "unrelated/invokeai-launcher-startup-gtx1060.txt",
        "unrelated/comfyui-desktop-flux2-klein-valueerror.txt",
        "unrelated/comfyui-error-report-validation.txt",
        "unrelated/sdnext-startup-header-rx6700xt.txt",
    ):
        assert found(log) == [], log


def found_text(text: str):
    from rigfit.explain.match import explain_text

    return explain_text(text).explanations[0]
