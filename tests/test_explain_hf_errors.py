"""The Hugging Face loading stack's errors (kb/hf_errors.yaml): each read as its library prints it, with the facts
(repo id, file, folder, status) in the answer, silent where a specific rule answers, and silent on the warnings
the libraries recover from. The real logs are rows of tests/fixtures/logs/INDEX.yaml (expect: hf-error, round
xvocab2); these lines are the libraries' own wordings from their source."""

from __future__ import annotations

import pytest

from rigfit.explain.analyzers import fetch, hf_errors
from rigfit.explain.match import catalogue, explain_text
from rigfit.kb.error_codes import ToolMessage
from rigfit.kb.loader import load_entries

ENTRIES = load_entries("hf_errors.yaml", ToolMessage)
FETCH_FINDINGS = {"hf-gated-model", "hf-repository-not-found", "hf-files-not-cached", "network-unreachable"}


def top(text: str):
    found = explain_text(text).explanations
    return found[0] if found else None


def test_every_signal_is_scanned_and_every_answering_rule_exists() -> None:
    assert {s for e in ENTRIES for s in e.signals} == set(hf_errors.SIGNALS)
    known = {issue.entry.id for issue in catalogue()} | FETCH_FINDINGS
    assert {e.answered_by for e in ENTRIES if e.answered_by} <= known
    assert {s for e in ENTRIES for s in e.supersedes} <= known


@pytest.mark.parametrize(
    ("line", "error", "facts"),
    [
        (
            "requests.exceptions.HTTPError: 500 Server Error: Internal Server Error for url: "
            "https://huggingface.co/api/models/stabilityai/sdxl-turbo",
            "hf-server-error",
            {"status": "500"},
        ),
        (
            "huggingface_hub.errors.HfHubHTTPError: 429 Client Error: Too Many Requests for url: "
            "https://huggingface.co/api/models/black-forest-labs/FLUX.1-dev/revision/main",
            "hf-rate-limited",
            {},
        ),
        (
            "huggingface_hub.utils._errors.EntryNotFoundError: 404 Client Error. (Request ID: Root=1-x) Entry Not "
            "Found for url: https://huggingface.co/runwayml/stable-diffusion-v1-5/resolve/main/unet/model.fp16.safetensors.",
            "hf-entry-not-found",
            {"repo": "runwayml/stable-diffusion-v1-5", "file": "unet/model.fp16.safetensors"},
        ),
        (
            "ValueError: Fast download using 'hf_transfer' is enabled (HF_HUB_ENABLE_HF_TRANSFER=1) but 'hf_transfer' "
            "package is not available in your environment. Try `pip install hf_transfer`.",
            "hf-transfer-missing",
            {},
        ),
        (
            'safetensors_rust.SafetensorError: Error while deserializing header: InvalidOffset("model.diffusion_model'
            '.input_blocks.0.0.weight")',
            "safetensors-tensors-inconsistent",
            {"name": "InvalidOffset"},
        ),
        (
            "OSError: Unrecognized model in ./models/sdxl. Should have a `model_type` key in its config.json, or "
            "contain one of the following strings in its name: albert, bart",
            "hf-config-without-model-type",
            {"path": "./models/sdxl"},
        ),
        (
            "huggingface_hub.errors.LocalTokenNotFoundError: Token is required (`token=True`), but no token found. "
            "You need to provide a token or be logged in to Hugging Face with `hf auth login`.",
            "hf-token-missing",
            {},
        ),
        (
            "OSError: PermissionError at /data/hf/hub/.locks/models--a--b/x.lock when downloading a/b. Check cache "
            "directory permissions. Common causes: 1) another user is downloading the same model (please wait)",
            "hf-cache-permission",
            {"repo": "a/b", "path": "/data/hf/hub/.locks/models--a--b/x.lock"},
        ),
        (
            "safetensors_rust.SafetensorError: File does not contain tensor text_model.embeddings.position_ids",
            "safetensors-tensor-missing",
            {"tensor": "text_model.embeddings.position_ids"},
        ),
        (
            "OSError: Distant resource does not seem to be on huggingface.co. It is possible that a configuration "
            "issue prevents you from downloading resources from https://huggingface.co.",
            "hf-not-the-hub",
            {"host": "huggingface.co"},
        ),
    ],
)
def test_a_library_wording_gets_its_entry_and_facts(line: str, error: str, facts: dict[str, str]) -> None:
    found = top(line)
    assert found is not None and found.id == "hf-error", found
    assert found.facts["error"] == error
    assert facts.items() <= found.facts.items()
    assert "{" not in found.fix and "{" not in found.cause, "every field named in the texts is filled in"


def test_the_fix_names_the_env_pip() -> None:
    log = (
        '  File "/home/u/ComfyUI/venv/lib/python3.11/site-packages/huggingface_hub/file_download.py", line 1, in x\n'
        "ValueError: Fast download using 'hf_transfer' is enabled (HF_HUB_ENABLE_HF_TRANSFER=1) but 'hf_transfer' "
        "package is not available in your environment.\n"
    )
    found = top(log)
    assert found is not None and "/home/u/ComfyUI/venv/bin/python -m pip install hf_transfer" in found.fix


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        (
            "huggingface_hub.errors.GatedRepoError: 403 Client Error.\nCannot access gated repo for url "
            "https://huggingface.co/black-forest-labs/FLUX.1-dev/resolve/main/model_index.json.\nAccess to model "
            "black-forest-labs/FLUX.1-dev is restricted. You must have access to it and be authenticated to access it.",
            "hf-gated-model",
        ),
        (
            "safetensors_rust.SafetensorError: Error while deserializing header: HeaderTooLarge",
            "safetensors-file-broken",
        ),
        (
            "huggingface_hub.errors.LocalEntryNotFoundError: An error happened while trying to locate the file on the "
            "Hub and we cannot find the requested files in the local cache.",
            "hf-files-not-cached",
        ),
        (
            "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='huggingface.co', port=443): Max retries "
            "exceeded with url: /openai/clip-vit-large-patch14/resolve/main/vocab.json\n"
            "OSError: We couldn't connect to 'https://huggingface.co' to load this file, couldn't find it in the "
            "cached files and it looks like openai/clip-vit-large-patch14 is not the path to a directory "
            "containing a file named vocab.json.",
            "network-unreachable",
        ),
    ],
)
def test_what_another_rule_answers_is_not_answered_twice(line: str, answer: str) -> None:
    found = explain_text(line).explanations
    assert found and found[0].id == answer
    assert "hf-error" not in [e.id for e in found]


@pytest.mark.parametrize(
    "line",
    [
        "Some weights of the model checkpoint at openai/clip-vit-large-patch14 were not used when initializing "
        "CLIPTextModel: ['text_model.embeddings.position_ids']",
        "Xet Storage is enabled for this repo, but the 'hf_xet' package is not installed. Falling back to regular HTTP "
        "download. For better performance, install the package with: `pip install huggingface_hub[hf_xet]`",
        "Fetching 16 files: 100%|██████████| 16/16 [00:00<00:00, 2345.12it/s]",
    ],
)
def test_warnings_and_progress_get_nothing(line: str) -> None:
    assert explain_text(line).explanations == []


def test_a_401_for_a_model_that_is_no_repo_is_not_called_gated() -> None:
    log = (
        "requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: "
        "https://huggingface.co/None/resolve/main/tokenizer/vocab.json\n"
        "OSError: None is not a local folder and is not a valid model identifier listed on 'https://huggingface.co/models'"
    )
    found = explain_text(log).explanations
    assert found[0].id == "hf-error" and found[0].facts["repo"] == "None"
    assert all(e.confidence < found[0].confidence for e in found[1:])
    assert fetch.GATED_MODEL.search(log) is None
