"""explain on the fifteenth held-out round of issue 10 (heldx15: what hobbyists hit first, install-time and start-up
failures of SD UIs and trainers): the vocabularies that round led to, each held to real texts and to a text just
outside the rule (rows in logs/INDEX.yaml marked heldout, round heldx15)."""

from __future__ import annotations

from rigfit.explain.match import explain_text
from tests.explain_helpers import found, ids


def test_a_python_the_installer_refuses_names_the_supported_range_in_each_tools_words() -> None:
    invoke = found("python-version-unsupported--invokeai-install-sh-python312.txt")[0]
    assert invoke.id == "python-version-unsupported" and "between 3.10.0 and 3.11.100" in invoke.cause
    assert "uv python install 3.11" in invoke.fix and "Delete the venv" in invoke.fix
    kohya = found("python-version-unsupported--kohya-setup-python311-wrapped.txt")[0]
    assert kohya.id == "python-version-unsupported" and "at least 3.10.9 and below 3.11.0" in kohya.cause
    onetrainer = found("python-version-unsupported--onetrainer-start-ui-python313.txt")[0]
    assert "too high" in onetrainer.cause and "below 3.13" in onetrainer.cause
    # A1111/Forge's launcher (modules/launch_utils.py) and pip's own refusal
    a1111 = explain_text(
        "INCOMPATIBLE PYTHON VERSION\n\nThis program is tested with 3.10.6 Python, but you have 3.12.3.\n"
    ).explanations[0]
    assert a1111.id == "python-version-unsupported" and "Python 3.12.3" in a1111.cause and "3.10.6" in a1111.cause
    pip = explain_text("ERROR: Package 'invokeai' requires a different Python: 3.11.0 not in '<3.11,>=3.9'")
    top = pip.explanations[0]
    assert top.id == "python-version-unsupported" and "invokeai" in top.cause and "<3.11,>=3.9" in top.cause
    # uv's refusal (a project's requires-python), on one line or wrapped before "which"
    uv = explain_text(
        "error: The requested interpreter resolved to Python 3.12.3, which is incompatible with the project's "
        "Python requirement: `>=3.13`"
    ).explanations[0]
    assert uv.id == "python-version-unsupported" and "Python 3.12.3" in uv.cause and ">=3.13" in uv.cause
    assert "uv python install" in uv.fix
    # a launcher that just reports its Python is no refusal
    assert "python-version-unsupported" not in ids("INFO     Python version is 3.10.11 (tags/v3.10.11:7d4cc5a)")


def test_pips_ignored_versions_line_alone_says_the_python_is_outside_their_range() -> None:
    first = found("pip-ignored-python-versions--invokeai-requires-lt311-cut.txt")[0]
    assert first.id == "pip-ignored-python-versions" and "<3.11,>=3.9" in first.cause
    assert "3.11 or newer" in first.cause and "uv python install" in first.fix
    # with pip's verdict in the text, the resolver analyzer answers (it names the package)
    full = ids(
        "ERROR: Ignored the following versions that require a different python version: 1.21.2 Requires-Python "
        ">=3.7,<3.11\nERROR: Could not find a version that satisfies the requirement torch==1.12.1 (from versions: "
        "none)\nERROR: No matching distribution found for torch==1.12.1\n"
    )
    assert full[0] == "pip-no-matching-distribution" and "pip-ignored-python-versions" not in full


def test_a_venv_without_ensurepip_is_the_debian_venv_package_of_that_python() -> None:
    webui = found("venv-without-ensurepip--a1111-webui-sh-python311-trace.txt")
    assert webui[0].id == "venv-without-ensurepip" and "sudo apt install python3.11-venv" in webui[0].fix
    assert "rm -rf venv" in webui[0].fix
    # CPython's own message on another tool, and A1111's webui.sh check before it makes the venv
    assert found("venv-without-ensurepip--tinypilot-raspbian-python3-venv.txt")[0].id == "venv-without-ensurepip"
    assert ids("ERROR: python3-venv is not installed, aborting...")[0] == "venv-without-ensurepip"
    assert "venv-without-ensurepip" not in ids("Create and activate python venv\nCreating venv in /opt/sd/venv")


def test_the_launchers_own_git_errors_without_gits_message_are_a_broken_checkout() -> None:
    first = found("launcher-git-step-failed--a1111-couldnt-fetch-assets-128.txt")[0]
    assert first.id == "launcher-git-step-failed" and "exit 128" in first.cause
    assert "Delete the folder D:\\SD\\webui\\repositories\\stable-diffusion-webui-assets" in first.fix
    checkout = explain_text("RuntimeError: Couldn't checkout commit 4f3b1c2 for K-diffusion.\nError code: 128")
    assert checkout.explanations[0].id == "launcher-git-step-failed"
    assert "K-diffusion" in checkout.explanations[0].cause
    # when git says why, that answer stands alone
    dubious = ids(
        "Couldn't determine assets's hash: 6f7db241d2f8ba7457bac5ca9753331f0c266917, attempting autofix...\n"
        "fatal: detected dubious ownership in repository at 'D:/sd/repositories/stable-diffusion-webui-assets'\n"
    )
    assert dubious[0] == "git-dubious-ownership" and "launcher-git-step-failed" not in dubious
    assert "launcher-git-step-failed" not in ids("RuntimeError: Couldn't install torch.\nError code: 1")


def test_a_python_install_folder_run_as_a_command_is_not_a_path_cut_at_a_space() -> None:
    first = found("python-folder-run-as-command--onetrainer-python313-folder.txt")
    assert first[0].id == "python-folder-run-as-command" and "install-path-has-spaces" not in [e.id for e in first]
    assert "Python313\\python.exe" in first[0].fix
    line = "'C:\\Program' is not recognized as an internal or external command,"
    assert ids(line)[0] == "install-path-has-spaces"
    assert ids("'D:\\Tools\\Python310\\' is not recognized as an internal or external command,")[0] == (
        "python-folder-run-as-command"
    )
