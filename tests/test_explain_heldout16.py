"""explain on the sixteenth held-out round of issue 10 (heldx16: 2026 issue threads of image/video tools: ComfyUI and
its custom nodes, Wan2GP and its launcher, Pinokio, ai-toolkit, krita-ai-diffusion): the class rules that round led to,
each held to a real log and to a text just outside the rule (rows in logs/INDEX.yaml marked heldout, round heldx16)."""

from __future__ import annotations

from rigfit.explain.match import explain_text
from tests.explain_helpers import found, ids


def test_a_stray_file_named_like_a_stdlib_module_is_named_with_its_path() -> None:
    first = found("stdlib-module-shadowed--wan2gp-desktop-temp-grp-py.txt")[0]
    assert first.id == "stdlib-module-shadowed" and first.facts["module"] == "grp"
    assert "AppData\\Local\\Temp\\grp.py" in first.fix and first.fix.startswith("Rename or delete")
    assert "torch" not in first.fix
    # the module of an installed package found first (Python started inside its folder): move out, never delete it
    package = found("stdlib-module-shadowed--ptvs-sklearn-utils-random.txt")[0]
    assert package.facts["module"] == "random" and package.fix.startswith("Do not delete the file")
    # Python 3.13 says it in its own words, for the stdlib and for a library the script is named like
    said = explain_text(
        "AttributeError: module 'random' has no attribute 'choice' (consider renaming '/home/u/dice/random.py' since "
        "it has the same name as the standard library module named 'random' and prevents importing that standard "
        "library module)\n"
    ).explanations[0]
    assert said.id == "stdlib-module-shadowed" and said.facts["path"] == "/home/u/dice/random.py"
    numpy = explain_text(
        "AttributeError: module 'numpy' has no attribute 'array' (consider renaming '/home/u/numpy.py' if it has the "
        "same name as a library you intended to import)\n"
    ).explanations[0]
    assert numpy.facts["module"] == "numpy" and "installed `numpy`" in numpy.title


def test_a_stdlib_file_in_its_own_lib_folder_or_without_the_import_is_no_shadow() -> None:
    own = (
        "Traceback (most recent call last):\n"
        '  File "/usr/lib/python3.12/tarfile.py", line 56, in <module>\n'
        "    import grp\n"
        '  File "/usr/lib/python3.12/grp.py", line 3, in <module>\n'
        "ValueError: x\n"
    )
    assert "stdlib-module-shadowed" not in ids(own)
    windows = own.replace("/usr/lib/python3.12/", "C:\\Python311\\Lib\\")
    assert "stdlib-module-shadowed" not in ids(windows)
    # a user's script named like a module, run as the program (no library imported it): not this class
    script = (
        "Traceback (most recent call last):\n"
        '  File "/home/u/code.py", line 3, in <module>\n'
        "    main()\n"
        "NameError: name 'main' is not defined\n"
    )
    assert "stdlib-module-shadowed" not in ids(script)


def test_uv_missing_requirements_file_is_the_requirements_file_class() -> None:
    first = found("requirements-file-missing--pinokio-py-uv-file-not-found.txt")[0]
    assert first.id == "requirements-file-missing"
    assert first.cause.startswith("`uv pip install -r requirements.txt` ran in a folder")
    assert "delete that folder" in first.fix
    # uv's words for another missing file (a pyproject.toml, a setup.py) are not a requirements file
    assert "requirements-file-missing" not in ids("error: File not found: `pyproject.toml`\n")
    # pip's wording keeps its own answer
    pip = explain_text(
        "ERROR: Could not open requirements file: [Errno 2] No such file or directory: 'requirements.txt'\n"
    ).explanations[0]
    assert pip.id == "requirements-file-missing" and pip.cause.startswith("`pip install -r requirements.txt`")


def test_comfyui_zluda_launcher_checks_name_what_is_wrong_with_the_zluda_folder() -> None:
    first = found("comfyui-zluda-launcher-zluda-build--zluda-v6-no-nightly-flag.txt")[0]
    assert first.id == "comfyui-zluda-launcher-zluda-build"
    assert "not an antivirus block" in first.cause and "install-n.bat" in first.fix
    # the same check with a good build and only nccl.dll gone: the antivirus reading
    av = "[ERROR] Detected ZLUDA version: 3.9.5 [nightly build], but nccl.dll is missing. Likely blocked by AV.\n"
    top = explain_text(av).explanations[0]
    assert top.id == "comfyui-zluda-launcher-zluda-build" and "quarantine" in top.fix
    # the launcher's normal line: nothing
    assert ids("[INFO] ZLUDA version: 3.9.5 [nightly build]\n[INFO] Launching application via ZLUDA...\n") == []
