"""explain on the eighteenth held-out round of issue 10 (heldx18: 2024-2026 threads of the image and video tools a
hobbyist runs: ComfyUI and its custom nodes, Forge, SD.Next, OneTrainer, ai-toolkit, lora-scripts): the class rules
that round led to, each held to a real log and to a text just outside the rule (rows in logs/INDEX.yaml marked
heldout, round heldx18)."""

from __future__ import annotations

from rigfit.explain.match import explain_text
from tests.explain_helpers import found, ids


def test_a_custom_loaders_model_input_not_in_an_empty_list_is_a_missing_model_file() -> None:
    first = found("comfyui-model-not-in-list--wanvideowrapper-empty-list.txt")[0]
    assert first.id == "comfyui-model-not-in-list"
    assert "diffusion_models" in first.fix and "not in []" in first.cause
    # any input name whose value is a model file; a sampler or scheduler value is not a file
    assert ids("Value not in list: vae: 'wan_2.1_vae.safetensors' not in ['a.safetensors']\n")[0] == (
        "comfyui-model-not-in-list"
    )
    assert "comfyui-model-not-in-list" not in ids("Value not in list: scheduler: 'karras2' not in ['normal']\n")


def test_a_hub_blob_still_named_incomplete_is_an_unfinished_download() -> None:
    explanations = found("os-error--ai-toolkit-hf-cache-incomplete-errno95.txt")
    assert explanations[0].facts["error"] == "EOPNOTSUPP" and "local Linux filesystem" in explanations[0].fix
    unfinished = [e for e in explanations if e.facts.get("error") == "hf-download-unfinished"]
    assert unfinished and "hf download" in unfinished[0].fix
    # a 64-hex LFS blob in an error message is the same class; a word ending in .incomplete is not a blob
    lfs = "OSError: [Errno 28] No space left on device: 'blobs/" + "ab12" * 16 + ".incomplete'\n"
    assert any(e.facts.get("error") == "hf-download-unfinished" for e in explain_text(lfs).explanations)
    assert not ids("WARNING: report.incomplete was skipped\n")


def test_from_pretrained_without_weights_is_read_when_the_folder_is_left_out() -> None:
    first = found("hf-error--sdnext-no-file-named-path-elided.txt")[0]
    assert first.facts["error"] == "hf-no-weights-in-folder"
    assert "model.safetensors" in first.facts["file"] and "hf download" in first.fix


def test_a_cut_diffusers_lazy_import_error_asks_for_the_wrapped_error() -> None:
    first = found("hf-error--diffusers-lazy-import-cut-forge-autoencoder.txt")[0]
    assert first.facts["error"] == "hf-lazy-import-failed"
    assert "because of the following error" in first.fix and "requirements" in first.fix
    # with the wrapped error in the text, the import analyzer answers it and this entry stays silent
    full = (
        "RuntimeError: Failed to import diffusers.loaders.peft because of the following error (look up to see its "
        "traceback):\nNo module named 'accelerate'\n"
    )
    assert "hf-error" not in ids(full)


def test_pip_dying_in_its_http_cache_is_told_to_skip_the_cache() -> None:
    first = found("pip-http-cache-entry-failed--forge-msgpack-memoryerror.txt")[0]
    assert first.id == "pip-http-cache-entry-failed"
    assert "--no-cache-dir" in first.fix and "pip cache purge" in first.fix
    # a network error passes through cachecontrol's adapter, not its serializer
    adapter = '  File "/venv/lib/python3.10/site-packages/pip/_vendor/cachecontrol/adapter.py", line 57, in send\n'
    assert "pip-http-cache-entry-failed" not in ids(adapter + "ReadTimeoutError: Read timed out.\n")


def test_a_flux_fill_checkpoint_in_base_flux_training_is_a_variant_mismatch() -> None:
    first = found("model-family-mismatch--lora-scripts-flux-fill-img-in-384.txt")[0]
    assert first.id == "model-family-mismatch" and "Fill" in first.title and "flux1-dev" in first.fix
    # the same widths in another layer are not read as Flux variants
    other = (
        "size mismatch for blocks.0.proj.weight: copying a param with shape torch.Size([3072, 384]) from "
        "checkpoint, the shape in current model is torch.Size([3072, 64]).\n"
    )
    assert "model-family-mismatch" not in ids(other)
