"""explain on the tenth held-out round of issue 10 (heldx10: what users typically paste from any SD tool, 2025-2026):
the class rules that round led to, each held to a real log and to a text just outside the rule (rows in
logs/INDEX.yaml marked heldout, round heldx10)."""

from __future__ import annotations

from rigfit.explain.match import explain_text
from tests.explain_helpers import found, ids


def test_a_name_missing_from_the_uis_own_module_is_an_extension_mismatch_not_a_pip_package() -> None:
    first = found("ui-name-mismatch--forgeneo-uiux-launch-commit-hash.txt")[0]
    assert first.id == "python-ui-name-mismatch" and first.facts["plugin"] == "sd-webui-ux"
    assert "extensions/sd-webui-ux" in first.fix and 'install "launch==' not in first.fix
    assert "Do not `pip install launch`" in first.fix
    # a ComfyUI custom node asking comfy for a name this ComfyUI lacks: the same class, custom_nodes in the fix
    node = (
        "Traceback (most recent call last):\n"
        '  File "/home/u/ComfyUI/custom_nodes/ComfyUI-Foo/nodes.py", line 12, in <module>\n'
        "    mm.soft_empty_cache_v2()\n"
        "AttributeError: module 'comfy.model_management' has no attribute 'soft_empty_cache_v2'\n"
    )
    top = explain_text(node).explanations[0]
    assert top.id == "python-ui-name-mismatch" and "custom_nodes/ComfyUI-Foo" in top.fix
    # a name missing from a real pip package keeps the package answer
    numpy = "AttributeError: module 'numpy' has no attribute 'float'"
    assert "python-ui-name-mismatch" not in ids(numpy)


def test_the_uis_own_package_unreachable_from_its_own_file_is_the_python_path_not_a_custom_node() -> None:
    own = found("ui-package-unreachable--comfyui-own-embedded-python.txt")[0]
    assert own.id == "python-ui-package-unreachable" and own.facts["importer"] == "main.py"
    assert "._pth" in own.fix and "../ComfyUI" in own.fix and "custom node" not in own.fix
    helper = found("ui-package-unreachable--comfyui-manager-git-helper.txt")[0]
    assert helper.id == "python-ui-package-unreachable" and helper.facts["importer"] == "comfyui_manager"
    assert "git clone" in helper.fix and "._pth" not in helper.fix
    # A1111's own webui.py cannot import its modules package: the same class for another UI
    a1111 = (
        "Traceback (most recent call last):\n"
        '  File "/opt/sd/stable-diffusion-webui/webui.py", line 13, in <module>\n'
        "    from modules import shared\n"
        "ModuleNotFoundError: No module named 'modules'\n"
    )
    top = explain_text(a1111).explanations[0]
    assert top.id == "python-ui-package-unreachable" and top.facts["importer"] == "webui.py"
    # imported by a custom node: the node is newer than ComfyUI, as before
    node = (
        'File "C:\\ComfyUI\\custom_nodes\\ComfyUI-Foo\\__init__.py", line 3, in <module>\n'
        "    from comfy.ldm.flux2 import model\n"
        "ModuleNotFoundError: No module named 'comfy.ldm.flux2'\n"
    )
    assert explain_text(node).explanations[0].id == "python-module-not-provided"


def test_git_dubious_ownership_is_known_with_the_folder_when_git_names_it() -> None:
    first = found("git-dubious-ownership--sdnext-rev-parse.txt")[0]
    assert first.id == "git-dubious-ownership" and "safe.directory" in first.fix
    linux = (
        "fatal: detected dubious ownership in repository at '/opt/ComfyUI/custom_nodes/ComfyUI-Manager'\n"
        "To add an exception for this directory, call:\n"
        "\tgit config --global --add safe.directory /opt/ComfyUI/custom_nodes/ComfyUI-Manager\n"
    )
    top = explain_text(linux).explanations[0]
    assert top.id == "git-dubious-ownership"
    assert "safe.directory /opt/ComfyUI/custom_nodes/ComfyUI-Manager" in top.fix
    assert "git-dubious-ownership" not in ids("WARNING: the ownership of /tmp/x changed; dubious results may follow")


def test_a_start_script_missing_where_the_launcher_runs_it_is_known_for_any_ui() -> None:
    first = found("ui-entry-missing--comfyui-portable-main-py.txt")[0]
    assert first.id == "ui-entry-script-missing" and "main.py" in first.cause
    a1111 = "python3: can't open file '/home/u/stable-diffusion-webui/launch.py': [Errno 2] No such file or directory"
    top = explain_text(a1111).explanations[0]
    assert top.id == "ui-entry-script-missing" and "launch.py" in top.fix
    # a data file that cannot be opened is not the start script
    assert "ui-entry-script-missing" not in ids("can't open file 'config.json': [Errno 2] No such file or directory")


def test_oom_while_a_script_moves_the_model_to_the_gpu_gets_offloading_not_ui_flags() -> None:
    first = found("oom-load--flux2-dev-pipe-to-a6000.txt")[0]
    assert first.id == "gpu-out-of-memory" and first.facts["while"] == "moving the model to the GPU"
    assert "enable_model_cpu_offload" in first.fix and "--lowvram" not in first.fix
    assert "model" not in first.facts  # FLUX.2 is not FLUX.1 dev
    # the same message in a UI's log (ComfyUI moving a model while generating): the UI's memory flags, as before
    comfy = (
        "got prompt\n"
        "Requested to load BaseModel\n"
        '  File "/home/u/ComfyUI/comfy/model_patcher.py", line 600, in load\n'
        "    self.model.to(device_to)\n"
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB. GPU 0 has a total capacity of "
        "3.94 GiB of which 1.06 MiB is free.\n"
    )
    top = explain_text(comfy).explanations[0]
    assert top.id == "gpu-out-of-memory" and "while" not in top.facts


def test_tritons_run_time_helper_compile_failing_is_known_on_windows_and_linux() -> None:
    first = found("triton-compile--comfyui-stabilitymatrix-cl-exe.txt")[0]
    assert first.id == "triton-runtime-compile-failed" and "triton-windows" in first.fix and "libs" in first.fix
    linux = (
        '  File "/opt/venv/lib/python3.12/site-packages/triton/runtime/build.py", line 32, in _build\n'
        "RuntimeError: Failed to find C compiler. Please specify via CC environment variable or set "
        "triton.knobs.build.impl.\n"
    )
    top = explain_text(linux).explanations[0]
    assert top.id == "triton-runtime-compile-failed" and "build-essential" in top.fix
    # a custom node's own C file failing to build is not Triton's helper
    other = (
        "subprocess.CalledProcessError: Command '['gcc', '/tmp/x/my_ext.c', '-O2']' returned non-zero exit status 1."
    )
    assert "triton-runtime-compile-failed" not in ids(other)
