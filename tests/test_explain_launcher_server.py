"""Invoke's launcher install errors (invoke-ai/launcher pins.ts, install-manager.ts) and the stable-diffusion.cpp REST
server's error-code answers, read as data (rigfit/kb/issues/launch.yaml) on real logs."""

from __future__ import annotations

from rigfit.explain.match import explain_text
from tests.conftest import FIXTURES

LOGS = FIXTURES / "logs"


def _top(name: str):
    explanations = explain_text((LOGS / name).read_text(encoding="utf-8")).explanations
    assert explanations, name
    return explanations[0]


def test_pins_unfetched_names_the_release_its_url_and_the_404_case() -> None:
    top = _top("launcher-pins--invoke-v6100-appimage.txt")
    assert top.id == "invoke-launcher-pins-unfetched"
    assert "raw.githubusercontent.com/invoke-ai/InvokeAI/v6.10.0/pins.json" in top.fix
    assert '"Failed to fetch pins"' in top.cause and "v5.10.0" in top.fix


def test_newer_launcher_wording_and_other_files_read_alike() -> None:
    # pins.ts since fetchInvokeReleaseFile: "Failed to fetch pins.json" (source wording, not a user's log)
    text = "Failed to get pins for version v6.12.0: Failed to fetch pins.json\n"
    top = explain_text(text).explanations[0]
    assert top.id == "invoke-launcher-pins-unfetched" and "v6.12.0/pins.json" in top.fix


def test_install_step_points_at_uv_and_repair_mode() -> None:
    top = _top("launcher-step--invoke-uv-venv-not-found.txt")
    assert top.id == "invoke-launcher-step-failed"
    assert '"install invokeai python package" failed (exit code 2)' in top.cause and "Repair mode" in top.fix


def test_missing_uv_is_the_launcher_install_not_uv() -> None:
    # the line install-manager.ts prints when fs.access fails (Node's ENOENT text), not a user's log
    text = "Failed to access uv executable: ENOENT: no such file or directory, access '/opt/Invoke/resources/bin/uv'\n"
    top = explain_text(text).explanations[0]
    assert top.id == "invoke-launcher-step-failed" and "Reinstall the launcher" in top.fix and "ENOENT" in top.cause


def test_sdcpp_no_checkpoint_loaded_says_load_a_model_first() -> None:
    top = _top("sdcpp-rest--no-checkpoint-loaded.txt")
    assert top.id == "sdcpp-rest-error-code" and "NO_CHECKPOINT_LOADED" in top.cause
    assert "POST /api/models/{hash}/load" in top.fix


def test_any_other_sdcpp_code_is_read_with_its_own_message() -> None:
    text = (LOGS / "sdcpp-rest--no-checkpoint-loaded.txt").read_text(encoding="utf-8")
    text = text.replace("NO_CHECKPOINT_LOADED", "MODEL_NOT_FOUND").replace(
        "No checkpoint model loaded. Please load a checkpoint model first using POST /api/models/{hash}/load",
        "Model not found",
    )
    top = explain_text(text).explanations[0]
    assert top.id == "sdcpp-rest-error-code" and 'error MODEL_NOT_FOUND: "Model not found"' in top.cause


def test_json_without_the_servers_request_id_is_not_this_server() -> None:
    text = '{\n"error_code": "NO_CHECKPOINT_LOADED",\n"message": "x"\n}\n'
    assert all(e.id != "sdcpp-rest-error-code" for e in explain_text(text).explanations)
