"""explain on the twenty-first held-out round of issue 10 (heldx21: 2025-2026 threads of ComfyUI and its custom nodes,
stable-diffusion-webui-amdgpu, SD.Next and OneTrainer): the class rules that round led to, held to real logs and to
texts just outside them, and the round's answers that carried over (rows in logs/INDEX.yaml marked heldout, round
heldx21)."""

from __future__ import annotations

from rigfit.explain.match import explain_stream, explain_text
from rigfit.explain.render import error_looking
from tests.explain_helpers import LOGS, found, ids

FRAME = (
    '  File "C:\\ComfyUI\\venv\\Lib\\site-packages\\transformers\\models\\auto\\auto_factory.py", line 593, '
    "in from_pretrained\n"
)


def test_a_missing_module_that_is_a_models_own_code_is_not_a_pip_package() -> None:
    first = found("python-model-code-missing--layerstyle-florence2-large-remote-code.txt")[0]
    assert first.id == "python-model-code-missing" and first.facts["module"] == "florence2_large"
    assert "Do not pip install" in first.fix and "pip install florence2" not in first.fix
    # transformers' own name for a model's code, with the folder's hyphen kept
    dynamic = explain_text("ModuleNotFoundError: No module named 'transformers_modules.CogFlorence-2'\n").explanations
    assert dynamic[0].id == "python-model-code-missing" and dynamic[0].facts["model"] == "CogFlorence-2"
    # a real package the model's code needs, or a model-like name with no loader near, stays a pip install
    assert ids(f"Traceback (most recent call last):\n{FRAME}ModuleNotFoundError: No module named 'timm'\n")[0] == (
        "python-module-not-found"
    )
    assert ids("ModuleNotFoundError: No module named 'florence2_large'\n")[0] == "python-module-not-found"
    # the traceback's frame before the error (Python's own order) is the same class
    text = f"Traceback (most recent call last):\n{FRAME}ModuleNotFoundError: No module named 'qwen_vl_7b'\n"
    assert ids(text)[0] == "python-model-code-missing"


def test_a_bare_os_error_code_is_read_by_its_number() -> None:
    first = found("os-error--comfyui-debug-logs-bare-os-error-1455.txt")[0]
    assert first.id == "os-error" and first.facts["error"] == "WinError-1455" and "page file" in first.fix
    # a Rust tool's line in another language is read by its code, which only Windows uses; a small bare code is an
    # errno, not a Windows code
    rust = "Error: El archivo de paginacion es demasiado pequeno para completar la operacion. (os error 1455)\n"
    assert explain_text(rust).explanations[0].facts["error"] == "WinError-1455"
    assert "WinError-1455" not in [e.facts.get("error") for e in explain_text("os error 14\n").explanations]


def test_diffusers_generator_on_another_device_is_the_generator_class() -> None:
    first = found("torch-generator-device--sdnext-diffusers-cpu-tensor-cuda-generator.txt")[0]
    assert first.id == "torch-generator-device" and (first.facts["want"], first.facts["got"]) == ("cpu", "cuda")
    assert 'torch.Generator("cpu")' in first.fix
    on_gpu = "ValueError: Cannot generate a cuda:0 tensor from a generator of type mps.\n"
    assert explain_text(on_gpu).explanations[0].facts["want"] == "cuda"


def test_where_nothing_matches_the_exception_message_is_quoted() -> None:
    for name, quoted in (
        ("unrelated/sdwebui-amdgpu-zluda-object-not-subscriptable.txt", "zluda object is not subscriptable"),
        ("unrelated/wanvideowrapper-i2v-encode-unexpected-control-embeds.txt", "unexpected keyword argument"),
        ("unrelated/comfyui-fsampler-wanmodel-no-attribute-dtype.txt", "**Exception Message:** 'WanModel'"),
    ):
        with (LOGS / name).open("rb") as stream:
            result = explain_stream(stream)
        assert not result.explanations
        assert any(quoted in line.text for line in error_looking(result.scan)), name
    # a healthy start-up still has nothing to quote
    with (LOGS / "unrelated/comfyui-florence2-startup-import-times-cut.txt").open("rb") as stream:
        assert not error_looking(explain_stream(stream).scan)


def test_what_carried_over_to_the_round() -> None:
    half = found("torch-conv-input-parameter-type--wanvideowrapper-float-input-cuda-half-weight.txt")[0]
    assert half.id == "torch-conv-input-parameter-type" and "precision" in half.fix
    on_cpu = found("torch-conv-input-parameter-type--comfyui-ksampler-cuda-input-cpu-weight.txt")[0]
    assert on_cpu.id == "torch-conv-input-parameter-type" and "system memory" in on_cpu.cause
    listed = found("comfyui-model-not-in-list--ckpt-name-not-in-empty-list.txt")[0]
    assert listed.id == "comfyui-model-not-in-list" and "checkpoints" in listed.fix
