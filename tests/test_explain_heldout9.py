"""explain on the ninth held-out round of issue 10 (heldx9: what users typically paste from A1111, Forge, kohya_ss,
OneTrainer, diffusers and Stability Matrix, 2024-2026): the class rules and knowledge that round led to, each held to a
real log and to a text just outside the rule (rows in logs/INDEX.yaml marked heldout, round heldx9)."""

from __future__ import annotations

from rigfit.explain.match import explain_text
from tests.explain_helpers import found, ids


def test_a_missing_module_that_stopped_a_setup_script_is_the_root_not_the_later_one() -> None:
    first = found("no-module-setup-first--kohya-pkg-resources-then-gradio.txt")[0]
    assert first.facts["module"] == "pkg_resources" and first.facts["then_missing"] == "gradio"
    assert "setuptools<81" in first.fix and "run the install/setup script again" in first.fix
    assert "install gradio" not in first.fix
    # an extension's install.py on Linux is a setup script too
    linux = (
        "Traceback (most recent call last):\n"
        '  File "/home/u/sd/extensions/sd-webui-foo/install.py", line 3, in <module>\n'
        "    import launch_helper\n"
        "ModuleNotFoundError: No module named 'launch_helper'\n"
        "Traceback (most recent call last):\n"
        '  File "/home/u/sd/extensions/sd-webui-foo/scripts/foo.py", line 1, in <module>\n'
        "    import onnxruntime\n"
        "ModuleNotFoundError: No module named 'onnxruntime'\n"
    )
    assert explain_text(linux).explanations[0].facts["module"] == "launch_helper"
    # two unrelated failed imports (custom nodes, no setup script): the last one is answered, as before
    nodes = (
        'File "C:\\ComfyUI\\custom_nodes\\a\\__init__.py", line 1, in <module>\n'
        "ModuleNotFoundError: No module named 'cv2'\n"
        'File "C:\\ComfyUI\\custom_nodes\\b\\__init__.py", line 1, in <module>\n'
        "ModuleNotFoundError: No module named 'onnxruntime'\n"
    )
    top = explain_text(nodes).explanations[0]
    assert top.facts["module"] == "onnxruntime" and "then_missing" not in top.facts


def test_launch_flags_that_skip_the_install_are_named_with_the_missing_module() -> None:
    first = found("no-module-skip-install--forgeclassic-psutil.txt")[0]
    assert first.facts["skipped"] == "--skip-install and --skip-prepare-environment"
    assert first.fix.startswith("Start the UI once without --skip-install and --skip-prepare-environment")
    # the same module missing in a launch without those flags: no word about them
    plain = (
        "Launching Web UI with arguments: --xformers --skip-torch-cuda-test\n"
        "Traceback (most recent call last):\n"
        "ModuleNotFoundError: No module named 'psutil'\n"
    )
    top = explain_text(plain).explanations[0]
    assert top.id == "python-module-not-found" and "skipped" not in top.facts


def test_a_module_missing_inside_a_package_build_is_a_failed_build_not_a_pip_install() -> None:
    first = found("build-metadata--stabilitymatrix-kohya-dskernels.txt")[0]
    assert first.id == "pip-build-failed" and first.facts["missing"] == "dskernels"
    assert "would not help" in first.cause and "pip install dskernels" not in first.fix
    assert "python-module-not-found" not in [e.id for e in found("build-metadata--stabilitymatrix-kohya-dskernels.txt")]
    # torch missing from an isolated build's metadata step: build without isolation after installing torch
    no_torch = (
        "Collecting flash-attn\n  Downloading flash_attn-2.8.3.tar.gz (8.4 MB)\n"
        "  Preparing metadata (setup.py): finished with status 'error'\n"
        "  error: subprocess-exited-with-error\n  × python setup.py egg_info did not run successfully.\n"
        "  ╰─> [6 lines of output]\n      Traceback (most recent call last):\n"
        "      ModuleNotFoundError: No module named 'torch'\n      [end of output]\n"
        "  note: This error originates from a subprocess, and is likely not a problem with pip.\n"
        "error: metadata-generation-failed\n"
    )
    top = explain_text(no_torch).explanations[0]
    assert top.id == "pip-build-failed" and top.facts["missing"] == "torch"
    assert "--no-build-isolation" in top.fix
    # uv shows the build's output under [stderr] and ends it with its hint: the same reading, one answer
    uv = (
        "  × Failed to build `flash-attn==2.7.4.post1`\n"
        "  ╰─▶ Call to `setuptools.build_meta:__legacy__.build_wheel` failed (exit status: 1)\n"
        "      [stderr]\n      Traceback (most recent call last):\n"
        "      ModuleNotFoundError: No module named 'torch'\n\n"
        "      hint: This usually indicates a problem with the package or the build environment.\n"
    )
    assert ids(uv) == ["pip-build-failed"]
    # a module missing at run time (no build around it) stays a missing module
    assert ids("Traceback (most recent call last):\nModuleNotFoundError: No module named 'einops'")[:1] == [
        "python-module-not-found"
    ]


def test_pip_backtracking_to_an_sdist_names_the_release_and_the_wheel_to_use() -> None:
    first = found("build-metadata--stabilitymatrix-kohya-xformers-sdist.txt")[0]
    assert first.facts == {"package": "xformers", "version": "0.0.29.post1"}
    assert "xformers wheel built for your torch" in first.fix
    # the same step that succeeds is nothing
    ok = (
        "  Using cached xformers-0.0.29.post1.tar.gz (8.5 MB)\n"
        "  Preparing metadata (setup.py): finished with status 'done'"
    )
    assert ids(ok) == []


def test_a_32_bit_python_is_named_whatever_then_fails() -> None:
    first = found("python-32-bit--kohya-torch-cu118.txt")[0]
    assert first.id == "python-32-bit" and "64-bit" in first.fix and "calcsize" in first.fix
    banner = "Python 3.10.6 (tags/v3.10.6:9c7b4bd, Aug  1 2022, 21:38:17) [MSC v.1932 32 bit (Intel)]\n"
    a1111 = banner + "ERROR: Could not find a version that satisfies the requirement torch==2.0.1 (from versions: none)"
    assert ids(a1111)[:1] == ["python-32-bit"]
    # the 64-bit banner is not
    assert "python-32-bit" not in ids(banner.replace("32 bit (Intel)", "64 bit (AMD64)"))


def test_a_path_with_spaces_is_named_from_the_refusal_or_from_a_path_windows_cut() -> None:
    first = found("path-spaces--kohya-gui.txt")[0]
    assert first.id == "install-path-has-spaces" and "without spaces" in first.fix
    cut = "'C:\\Users\\John' is not recognized as an internal or external command,\noperable program or batch file."
    top = explain_text(cut).explanations[0]
    assert top.id == "install-path-has-spaces" and "'C:\\Users\\John' is only the part before the space" in top.cause
    # a program that is not installed, or a full path to a program that is not there, is not a path cut at a space
    assert "install-path-has-spaces" not in ids("'git' is not recognized as an internal or external command,")
    missing_exe = "'C:\\Python310\\python.exe' is not recognized as an internal or external command,"
    assert "install-path-has-spaces" not in ids(missing_exe)


def test_a_broken_downloaded_archive_is_deleted_and_fetched_again() -> None:
    first = found("archive-corrupt--stabilitymatrix-portablegit-7z.txt")[0]
    assert first.id == "downloaded-archive-corrupt" and "Delete D:\\Data\\PortableGit.7z.exe" in first.fix
    # the same class from Python's zipfile and from tar
    assert ids("zipfile.BadZipFile: File is not a zip file")[:1] == ["downloaded-archive-corrupt"]
    assert ids("gzip: stdin: not in gzip format\ntar: Child returned status 1")[:1] == ["downloaded-archive-corrupt"]
    # a text decoder's "unexpected end of data" is not an archive
    assert ids("UnicodeDecodeError: 'utf-8' codec can't decode byte 0xe4 in position 9: unexpected end of data") == []
    # an archive that unpacked is nothing
    assert ids("Extracting archive: D:\\Data\\PortableGit.7z.exe\nEverything is Ok") == []


def test_an_install_script_missing_its_requirements_file_points_at_the_versions() -> None:
    first = found("requirements-missing--stabilitymatrix-kohya.txt")[0]
    assert first.id == "requirements-file-missing" and "requirements_windows_torch2.txt" in first.cause
    deforum = (
        "*** stdout: Traceback (most recent call last):\n"
        "***     with open(req_file) as file:\n"
        "*** FileNotFoundError: [Errno 2] No such file or directory: "
        "'H:\\\\Matrix\\\\Packages\\\\Forge\\\\extensions\\\\sd-webui-deforum\\\\requirements.txt'"
    )
    top = explain_text(deforum).explanations[0]
    assert top.id == "requirements-file-missing" and "requirements.txt, and the folder" in top.cause
    # pip -r run outside the folder that has the file: the current directory, not the versions
    pip_r = "ERROR: Could not open requirements file: [Errno 2] No such file or directory: 'requirements.txt'"
    top = explain_text(pip_r).explanations[0]
    assert top.id == "requirements-file-missing" and top.fix.startswith("`cd` into the UI's")
    # any other missing file is not this
    assert "requirements-file-missing" not in ids(
        "FileNotFoundError: [Errno 2] No such file or directory: 'models/Stable-diffusion/model.safetensors'"
    )


def test_a_transformers_placeholder_names_the_library_the_class_needs() -> None:
    first = found("transformers-placeholder--diffusers-ltx-t5.txt")[0]
    assert first.id == "transformers-placeholder-missing-backend"
    assert "pip install sentencepiece protobuf" in first.fix and "tokenization_t5" in first.cause
    image = (
        "ValueError: The component <class 'transformers.models.siglip.image_processing_siglip._LazyModule."
        "__getattr__.<locals>.Placeholder'> of <class 'diffusers.pipelines.Foo'> cannot be loaded"
    )
    top = explain_text(image).explanations[0]
    assert top.id == "transformers-placeholder-missing-backend" and "pillow torchvision" in top.fix
    assert "image_processing_siglip" in top.cause and "SentencePiece (T5" not in top.cause
    # a real class in the same message is not a Placeholder
    assert "transformers-placeholder-missing-backend" not in ids(
        "ValueError: The component <class 'transformers.models.t5.tokenization_t5.T5Tokenizer'> cannot be loaded"
    )


def test_bitsandbytes_without_the_library_for_the_runtime_names_that_file() -> None:
    first = found("bnb-binary-missing--onetrainer-therock-rocm65.txt")[0]
    assert first.id == "bitsandbytes-no-gpu-build" and "libbitsandbytes_rocm65.dll" in first.cause
    assert "AdamW8bit" in first.fix
    linux = (
        "RuntimeError: Configured CUDA binary not found at "
        "/home/u/venv/lib/python3.12/site-packages/bitsandbytes/libbitsandbytes_cuda130.so"
    )
    top = explain_text(linux).explanations[0]
    assert top.id == "bitsandbytes-no-gpu-build" and "libbitsandbytes_cuda130.so" in top.cause
