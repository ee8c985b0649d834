"""explain on the nineteenth held-out round of issue 10 (heldx19: 2025-2026 threads of ComfyUI and its custom nodes,
SwarmUI's ComfyUI backend, SD.Next and diffusers users): the class rule that round led to, held to real logs and to
texts just outside it, and the round's answers that carried over (rows in logs/INDEX.yaml marked heldout, round
heldx19)."""

from __future__ import annotations

from rigfit.explain.match import explain_text
from tests.explain_helpers import found, ids


def test_a_custom_nodes_folder_without_init_py_is_not_a_node_pack() -> None:
    for name, pack in (
        ("comfyui-node-folder-without-init--fantasy-portrait-clone.txt", "fantasy-portrait"),
        ("comfyui-node-folder-without-init--aki-birefnet-ll.txt", "ComfyUI_BiRefNet_ll"),
    ):
        first = found(name)[0]
        assert first.id == "comfyui-node-folder-without-init"
        assert first.facts["pack"] == pack and f"custom_nodes/{pack}" in first.fix and "__init__.py" in first.cause
    # a Linux path is the same class; another missing file of a pack, or an __init__.py outside custom_nodes, is not
    linux = "FileNotFoundError: [Errno 2] No such file or directory: '/home/me/ComfyUI/custom_nodes/foo/__init__.py'\n"
    assert ids(linux)[0] == "comfyui-node-folder-without-init"
    other_file = "FileNotFoundError: [Errno 2] No such file or directory: '/x/ComfyUI/custom_nodes/foo/config.json'\n"
    assert "comfyui-node-folder-without-init" not in ids(other_file)
    elsewhere = "FileNotFoundError: [Errno 2] No such file or directory: '/srv/app/plugins/foo/__init__.py'\n"
    assert "comfyui-node-folder-without-init" not in ids(elsewhere)


def test_what_carried_over_to_the_round() -> None:
    module = found("python-module-not-found--swarmui-comfy-backend-bitsandbytes-nf4.txt")[0]
    assert module.id == "python-module-not-found" and "bitsandbytes" in module.fix
    entry = found("hf-error--sdnext-pixart-sigma-no-model-index-json.txt")[0]
    assert entry.facts["error"] == "hf-entry-not-found" and "model_index.json" in entry.title


def test_a_name_undefined_inside_a_diffusers_lazy_import_is_a_missing_transformers() -> None:
    first = found("hf-error--dginstyle-diffusers-lazy-import-pretrainedmodel-undefined.txt")[0]
    assert first.facts["error"] == "hf-lazy-import-name-undefined" and first.facts["name"] == "PreTrainedModel"
    assert "install -U transformers" in first.fix
    wrapper = "RuntimeError: Failed to import diffusers.models.unet_2d because of the following error (look up):\n"
    # the wrapper over another error, or the bare NameError without the wrapper, is not this class
    assert "hf-lazy-import-name-undefined" not in _errors(wrapper + "No module named 'accelerate'\n")
    assert "hf-lazy-import-name-undefined" not in _errors("name 'ZImagePipeline' is not defined\n")
    assert "hf-lazy-import-name-undefined" in _errors(wrapper + "name 'PreTrainedTokenizer' is not defined\n")


def _errors(text: str) -> list[str]:
    return [e.facts.get("error", "") for e in explain_text(text).explanations]


def test_a_lazy_modules_unquoted_no_attribute_is_a_release_mismatch() -> None:
    first = found("python-name-version-mismatch--qwen-image-diffusers-lazy-no-attribute.txt")[0]
    assert first.id == "python-name-version-mismatch"
    assert first.facts["name"] == "QwenImagePipeline" and "install -U diffusers" in first.fix
    # transformers' lazy module says it the same way; a sentence about a module is not the error
    assert ids("AttributeError: module transformers has no attribute Qwen3VLForConditionalGeneration\n")[0] == (
        "python-name-version-mismatch"
    )
    assert "python-name-version-mismatch" not in ids("note: the module has no attribute cache here\n")
