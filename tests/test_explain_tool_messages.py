"""The tool vocabularies (kb/torch_errors.yaml, kb/comfyui_errors.yaml): every entry's signals are scanned for, each
message reads its facts from real log lines, the variants pick the reading that fits the facts, and lines that only
look alike (a startup line naming an fp8 dtype, a validation report of widget values) get nothing."""

from __future__ import annotations

import io

import pytest

from rigfit.explain.analyzers import comfyui_errors, torch_errors
from rigfit.explain.match import explain_stream
from rigfit.kb.error_codes import ToolMessage
from rigfit.kb.loader import load_entries
from tests.conftest import FIXTURES

TORCH = load_entries("torch_errors.yaml", ToolMessage)
COMFY = load_entries("comfyui_errors.yaml", ToolMessage)


def explain(text: str) -> list[tuple[str, dict[str, str], str]]:
    result = explain_stream(io.BytesIO(text.encode()), None)
    return [(e.id, e.facts, e.fix) for e in result.explanations]


@pytest.mark.parametrize(("entries", "signals"), [(TORCH, torch_errors.SIGNALS), (COMFY, comfyui_errors.SIGNALS)])
def test_every_entry_signal_is_scanned(entries: tuple[ToolMessage, ...], signals: tuple[str, ...]) -> None:
    for entry in entries:
        assert set(entry.signals) <= set(signals), entry.id


def test_a_cpu_kernel_impl_in_half_is_the_cpu_route() -> None:
    (found, facts, fix), *_ = explain("RuntimeError: \"LayerNormKernelImpl\" not implemented for 'Half'\n")
    assert found == "torch-op-not-implemented-for-dtype" and facts["op"] == "LayerNormKernelImpl"
    assert "--precision full --no-half" in fix


def test_half_on_cpu_gets_the_float32_route_and_fp8_the_weight_dtype() -> None:
    (cpu, facts, fix), *_ = explain("RuntimeError: \"addmm_impl_cpu_\" not implemented for 'Half'\n")
    assert cpu == "torch-op-not-implemented-for-dtype" and facts == {"op": "addmm_impl_cpu_", "dtype": "Half"}
    assert "--no-half" in fix and "--cpu" in fix
    (fp8, facts, fix), *_ = explain("RuntimeError: \"sum_cuda\" not implemented for 'Float8_e4m3fn'\n")
    assert fp8 == "torch-op-not-implemented-for-dtype" and 'weight_dtype "default"' in fix and "--no-half" not in fix


def test_conv_input_on_gpu_and_weight_on_cpu_is_a_device_mix() -> None:
    log = "RuntimeError: Input type (torch.cuda.HalfTensor) and weight type (torch.FloatTensor) should be the same\n"
    (found, facts, fix), *_ = explain(log)
    assert found == "torch-conv-input-parameter-type" and facts["input"] == "torch.cuda.HalfTensor"
    assert "did not move it to the GPU" in fix


def test_the_node_in_the_traceback_is_named_and_told_honestly() -> None:
    text = (FIXTURES / "logs" / "torch-device-mix--comfyui-animatediff-evolved.txt").read_text()
    (found, facts, fix), *_ = explain(text)
    assert found == "torch-tensors-on-two-devices" and facts["node"] == "ComfyUI-AnimateDiff-Evolved"
    assert "only ComfyUI-AnimateDiff-Evolved's author" in fix


def test_weights_only_says_trusted_and_unknown_apart() -> None:
    text = (FIXTURES / "logs" / "torch-weights-only--comfyui-ultralytics-detector.txt").read_text()
    (found, facts, fix), *_ = explain(text)
    assert found == "torch-weights-only-load" and facts["global"] == "builtins.set"
    assert "If you trust" in fix and "do not force weights_only=False" in fix


@pytest.mark.parametrize("gpu", ["Tesla T4", "NVIDIA GeForce RTX 2080 Ti"])
def test_flash_attention_reads_the_compute_capability_from_the_kb(gpu: str) -> None:
    log = f"Device: cuda:0 {gpu} : cudaMallocAsync\nRuntimeError: FlashAttention only supports Ampere GPUs or newer.\n"
    (found, facts, _), *_ = explain(log)
    assert found == "torch-flash-attention-ampere" and facts["cc"] == "7.5"


@pytest.mark.parametrize(
    "line",
    [
        "model weight dtype torch.float8_e4m3fn, manual cast: torch.bfloat16",  # every Flux fp8 load prints it
        "Using pytorch attention in VAE",
        "Requested to load FluxClipModel_",
        "got prompt",
        "Prompt executed in 0.30 seconds",
    ],
)
def test_healthy_lines_match_nothing(line: str) -> None:
    assert explain(line + "\n") == []


def test_the_validation_report_of_widget_values_stays_unanswered() -> None:
    text = (FIXTURES / "logs" / "unrelated" / "comfyui-error-report-validation.txt").read_text()
    assert explain(text) == []


def test_the_message_tables_share_one_schema_and_one_field_syntax() -> None:
    from rigfit.explain.analyzers.messages import fact_name, filled
    from rigfit.kb.registry import schema_for

    assert {schema_for(f"{tool}_errors.yaml") for tool in ("torch", "comfyui", "hf")} == {ToolMessage}
    facts = {"repo": "a/b"}
    text = filled("{repo} in {dict}; a {literal brace}", lambda name: facts.get(name, "?"))
    assert text == "a/b in ?; a {literal brace}"  # what the schema's check calls a field is what gets filled
    assert [fact_name(g) for g in ("dev1", "dev1__2", "repo")] == ["dev1", "dev1", "repo"]
