"""explain on the thirteenth held-out round of issue 10 (heldx13: what users paste in 2025-2026 GitHub issue threads of
the tools people use now): the class rules that round led to, each held to a real text and to texts just outside the
rule (rows in logs/INDEX.yaml marked heldout, round heldx13)."""

from __future__ import annotations

from rigfit.explain.match import explain_text
from tests.explain_helpers import found, ids


def test_a_rust_os_error_19_is_a_file_that_cannot_be_memory_mapped() -> None:
    first = found("os-error--safetensors-enodev-ai-toolkit-wsl2.txt")[0]
    assert first.id == "os-error" and first.facts["error"] == "ENODEV" and first.facts["code"] == "19"
    assert "memory-mapped" in first.cause and "FOLDER" in first.cause
    assert ".safetensors FILE" in first.fix and "/mnt/c" in first.fix
    # Python's spelling of the same errno reads the same entry
    top = explain_text("OSError: [Errno 19] No such device: '/mnt/share/model.safetensors'\n").explanations[0]
    assert top.facts["error"] == "ENODEV" and top.facts["path"] == "/mnt/share/model.safetensors"
    # git's "No such device or address" (ENXIO, a missing terminal for a login prompt) is not this error
    assert "os-error" not in ids("fatal: could not read Username for 'https://github.com/': No such device or address")


def test_permission_denied_on_a_file_in_the_root_is_an_empty_folder_setting() -> None:
    first = found("os-error--kohya-gui-eacces-config-in-root.txt")[0]
    assert first.id == "os-error" and first.facts["error"] == "EACCES"
    assert "EMPTY folder setting" in first.cause and "do not chown /" in first.fix
    assert "sudo chown -R" not in first.fix
    # Windows: a file straight in C:\ is the same class
    win = "PermissionError: [WinError 5] Access is denied: 'C:\\\\output.png'\n"
    top = explain_text(win).explanations[0]
    assert top.facts["error"] == "WinError-5" and "EMPTY folder setting" in top.cause
    # a file deeper down keeps the ownership answer
    deep = explain_text("PermissionError: [Errno 13] Permission denied: '/home/u/sd/venv/x.toml'\n").explanations[0]
    assert "sudo chown -R $USER:$USER" in deep.fix and "EMPTY" not in deep.cause


def test_a_missing_program_is_named_in_every_shell_and_language() -> None:
    first = found("required-program-missing--ai-toolkit-installer-winget-german.txt")[0]
    assert first.id == "required-program-missing" and "with winget" in first.cause
    assert "App Installer" in first.cause and "nodejs.org" in first.fix and "git-scm.com" in first.fix
    for line, program in (
        ("bash: accelerate: command not found", "accelerate"),
        ("'python' is not recognized as an internal or external command,", "python"),
        ("npm : The term 'npm' is not recognized as the name of a cmdlet, function, script file", "npm"),
        ("zsh: command not found: ffmpeg", "ffmpeg"),
        ("'git' n'est pas reconnu en tant que commande interne", "git"),
    ):
        top = explain_text(line + "\n").explanations[0]
        assert top.id == "required-program-missing" and f"called `{program}`" in top.cause, line
    assert "git-scm.com" in explain_text("bash: git: command not found\n").explanations[0].fix
    # a path cut at a space is install-path-has-spaces, not a missing program
    cut = "'C:\\Users\\Windows' is not recognized as an internal or external command,\n"
    assert ids(cut)[0] == "install-path-has-spaces" and "required-program-missing" not in ids(cut)
    # a console script missing after pip could not install it is that failure's consequence
    after_pip = "ERROR: No matching distribution found for celery==5.3\n./run.sh: line 27: celery: command not found\n"
    assert "required-program-missing" not in ids(after_pip)


def test_a_comfyui_loader_with_no_file_is_a_model_not_in_its_folder() -> None:
    first = found("comfyui-model-file-not-found--loadergguf-none-path.txt")[0]
    assert first.id == "comfyui-model-file-not-found" and "get_full_path answers None" in first.cause
    assert "diffusion_models/unet" in first.fix
    core = "FileNotFoundError: Model in folder 'loras' with filename 'wan/lightx2v.safetensors' not found.\n"
    top = explain_text(core).explanations[0]
    assert top.id == "comfyui-model-file-not-found" and "ComfyUI/models/loras" in top.fix
    # a None path outside a loader says nothing about model files
    other = 'File "/app/run.py", line 3, in main\nTypeError: expected str, bytes or os.PathLike object, not NoneType\n'
    assert "comfyui-model-file-not-found" not in ids(other)


def test_transformer_options_tells_which_of_node_and_core_is_older() -> None:
    first = found("comfyui-node-core-skew--kjnodes-sage-transformer-options.txt")[0]
    assert first.id == "comfyui-node-core-skew" and "core is newer than the node" in first.cause
    assert "ComfyUI-KJNodes" in first.fix and "Do not downgrade ComfyUI" in first.fix
    older_core = "TypeError: attention_sage() missing 1 required keyword-only argument: 'transformer_options'\n"
    top = explain_text(older_core).explanations[0]
    assert top.id == "comfyui-node-core-skew" and "ComfyUI is older than the node" in top.cause
    assert top.fix.startswith("Update ComfyUI itself")
    # another unexpected keyword is another API change, not this one
    assert "comfyui-node-core-skew" not in ids("TypeError: forward() got an unexpected keyword argument 'scale'\n")


def test_a_comfy_name_a_custom_node_lacks_means_update_comfyui_first() -> None:
    first = found("ui-name-mismatch--comfyui-hunyuanwrapper-latent-formats.txt")[0]
    assert first.id == "python-ui-name-mismatch" and first.fix.startswith("Update ComfyUI itself first")
    assert "ComfyUI core older than the code" in first.cause and "Forge" not in first.cause
    # an A1111 extension keeps the extension-first answer
    a1111 = (
        '  File "/sd/extensions/sd-webui-x/scripts/x.py", line 3, in <module>\n'
        "    from modules.shared import cmd_opts_x\n"
        "ImportError: cannot import name 'cmd_opts_x' from 'modules.shared' (/sd/modules/shared.py)\n"
    )
    explanations = explain_text(a1111).explanations
    assert explanations and not explanations[0].fix.startswith("Update ComfyUI")


def test_a_name_missing_from_a_wheel_not_on_pypi_points_to_its_releases() -> None:
    first = found("name-version-mismatch--nunchaku-node-to-diffusers.txt")[0]
    assert first.id == "python-name-version-mismatch" and first.facts["package"] == "nunchaku"
    assert "GitHub releases" in first.fix and "torch" in first.fix
    assert "install -U nunchaku` first" not in first.fix
    # a package that is on PyPI keeps the plain version answer
    plain = (
        "ImportError: cannot import name 'Foo' from 'einops' (/venv/lib/python3.11/site-packages/einops/__init__.py)\n"
    )
    assert "install -U einops` first" in explain_text(plain).explanations[0].fix


def test_windows_and_posix_error_vocabulary_added_with_the_round() -> None:
    first = found("os-error--rvc-winerror-4551-app-control.txt")[0]
    assert (
        first.id == "os-error"
        and "Smart App Control" in first.cause
        and "Reinstalling torch does not help" in first.fix
    )
    torch_dll = (
        'OSError: [WinError 4551] An Application Control policy has blocked this file. Error loading "C:\\sd\\venv\\'
        'lib\\site-packages\\torch\\lib\\torch.dll" or one of its dependencies.\n'
    )
    assert explain_text(torch_dll).explanations[0].facts["error"] == "WinError-4551"
    arm = explain_text("OSError: [Errno 8] Exec format error: './ffmpeg'\n").explanations[0]
    assert arm.facts["error"] == "ENOEXEC" and "uname -m" in arm.fix
    virus = (
        "OSError: [WinError 225] Operation did not complete successfully because the file contains a virus or "
        "potentially unwanted software: 'C:\\\\sd\\\\x.exe'\n"
    )
    assert explain_text(virus).explanations[0].facts["error"] == "WinError-225"
