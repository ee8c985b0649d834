"""explain on the twenty-second held-out round of issue 10 (heldx22: 2025-2026 threads of ComfyUI, its video node
packs and the LoRA trainers): the class rules that round led to, each held to real logs and to a real log just
outside the rule (rows in logs/INDEX.yaml; the heldx22 files are marked heldout)."""

from __future__ import annotations

import pytest

from rigfit.explain.match import explain_stream
from rigfit.explain.render import error_looking
from rigfit.kb.app_parts import AppPart
from rigfit.kb.typed import FieldError
from tests.explain_helpers import LOGS, found


def test_an_empty_path_names_the_blank_setting_and_the_call_that_got_it() -> None:
    first = found("empty-path--musubi-cache-latents-vae-torch-load.txt")[0]
    assert first.id == "os-error" and first.facts["error"] == "ENOENT" and first.facts["package"] == "torch"
    assert "load_vae" in first.facts["caller"] and "torch.load(vae_path" in first.facts["caller"]
    assert "EMPTY" in first.cause and "--vae" in first.fix
    # os.makedirs of an empty folder: the program's own frame, not the standard library's os.py
    first = found("empty-path--freki-makedirs-dirname.txt")[0]
    assert first.facts["caller"].startswith("run (./freki.py, line 19)")


def test_a_path_that_is_not_empty_stays_nothing_known() -> None:
    # a wrong path says nothing the error does not already say (os_errors.yaml keeps ENOENT and WinError 3 for '' only)
    assert found("enoent-named-path--gencad-torch-load-checkpoint.txt") == []
    assert found("enoent-named-path--byerecaptcha-winerror-3-folder.txt") == []
    # the empty path as Windows words it
    first = found("empty-path--agent-scheduler-winerror-3.txt")[0]
    assert first.facts["error"] == "WinError-3" and "EMPTY" in first.cause


def test_a_sentencepiece_model_that_does_not_parse_is_a_bad_tokenizer_file() -> None:
    for name in (
        "tokenizer-file-invalid--comfyui-sentencepiece-parsefromarray.txt",
        "tokenizer-file-invalid--llama-parsefromarray-html-escaped.txt",
        "tokenizer-file-invalid--sentencepiece-text-file-as-model.txt",
    ):
        first = found(name)[0]
        assert first.id == "hf-error" and first.facts["error"] == "sentencepiece-model-unreadable", name
        assert "git-lfs" in first.cause and "download it" in first.fix, name
    first = found("tokenizer-file-invalid--sentencepiece-llama3-tokenizer-model.txt")[0]
    assert first.facts["file"] == "./tokenizer.model" and "./tokenizer.model" in first.fix


def test_a_cpp_check_line_is_an_error_line_to_quote() -> None:
    with (LOGS / "tokenizer-file-invalid--comfyui-sentencepiece-parsefromarray.txt").open("rb") as stream:
        scan = explain_stream(stream).scan
    assert [line.number for line in error_looking(scan)] == [1]


@pytest.mark.parametrize(
    ("name", "folder", "command"),
    [
        ("app-part-missing--kohya-ss-zip-sd-scripts-sdxl.txt", "sd-scripts", "git submodule update --init --recursive"),
        ("app-part-missing--kohya-ss-sd3-flux-runpod-empty-sd-scripts.txt", "sd-scripts", "git clone --recursive"),
        ("app-part-missing--lora-scripts-sd-scripts-submodule.txt", "sd-scripts", "git submodule update --init"),
        (
            "app-part-missing--spirit-lora-trainer-musubi-tuner.txt",
            "backend/musubi-tuner",
            "git clone https://github.com/kohya-ss/musubi-tuner",
        ),
    ],
)
def test_a_missing_folder_of_a_known_app_layout_says_how_to_fetch_it(name: str, folder: str, command: str) -> None:
    first = found(name)[0]
    assert first.id == "app-part-missing" and first.facts["folder"] == folder
    assert command in first.fix and first.facts["checkout"] in first.fix


def test_a_missing_folder_of_an_unknown_layout_stays_nothing_known() -> None:
    assert "app-part-missing" not in [
        e.id for e in found("app-part-elsewhere--lora-training-in-comfy-wrong-folder.txt")
    ]


def test_an_app_part_fix_may_name_only_the_facts_the_analyzer_reads() -> None:
    with pytest.raises(FieldError):
        AppPart(
            id="x-y",
            source="a:b",
            app="x",
            repo="https://example.invalid/x",
            checkouts="x",
            folder="y",
            provided_by="submodule",
            part_repo="https://example.invalid/y",
            meaning="m",
            fix="cd {venv}",
        )


def test_a_model_listed_under_another_folder_says_to_pick_that_entry() -> None:
    first = found("comfyui-model-other-folder--wanvideo-vae-subfolder.txt")[0]
    assert first.id == "comfyui-model-listed-in-another-folder"
    assert "Pick 'Wan2_1_VAE_bf16.safetensors' in the node's model_name list" in first.fix
    assert "'wanvideo\\Wan2_1_VAE_bf16.safetensors'" in first.cause
    # the other way round: the workflow's bare name, the file in a subfolder
    first = found("comfyui-model-other-folder--qwen-lightning-lora-in-subfolder.txt")[0]
    assert "Pick 'qwen-image-lightning/Qwen-Image-Lightning-4steps-V1.0.safetensors'" in first.fix
    # a name no entry has, in any folder: the generic answer
    first = found("comfyui-model-not-in-list--stablegen-controlnet-other-name.txt")[0]
    assert first.id == "comfyui-model-not-in-list"
