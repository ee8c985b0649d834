"""explain on the second held-out round of issue 10 (heldx2): the class rules that round led to, each held to a real
log and to a text just outside the rule (rows in logs/INDEX.yaml marked heldout, round heldx2)."""

from __future__ import annotations

from rigfit.explain.analyzers.context import max_python_for_torch
from rigfit.explain.match import explain_text
from tests.explain_helpers import found, ids


def test_conflict_without_its_caused_by_block_outranks_the_import_error_it_leaves() -> None:
    first, *rest = found("pip-conflict--photoshop-plugin-click-ddgs.txt")
    assert first.id == "pip-resolver-conflict" and "`click==8.1.3`" in first.fix and '"-r"' not in first.fix
    assert "consequence of the failed install" in first.cause
    # the import error it leaves is the first answer's consequence, on the lines it explains: not repeated after it
    assert [e.id for e in rest] == []
    alone = "ERROR: Cannot install a==1.0 and b==2.0 because these package versions have conflicting dependencies."
    assert ids(alone) == ["pip-resolver-conflict"]


def test_python_newer_than_the_requested_torch_is_inferred_only_when_the_log_does_not_name_it() -> None:
    assert max_python_for_torch("1.12.1") == "3.10" and max_python_for_torch("2.1.2") == "3.11"
    inferred = found("pip-no-matching--a1111-torch212-newer-python.txt")[0]
    assert "Python 3.11 or older" in inferred.fix
    line = "ERROR: Could not find a version that satisfies the requirement torch==2.1.2 (from versions: 2.2.0, 2.3.0)"
    named = explain_text(f"Python 3.10.6 (main)\n{line}\n").explanations[0]
    assert "python_above" not in named.facts and named.facts["python"] == "3.10"
    older = explain_text(line.replace("2.2.0, 2.3.0", "2.0.1, 2.3.0")).explanations[0]
    assert "python_above" not in older.facts  # an older release is offered: not a Python too new


def test_a_dead_local_proxy_is_not_read_as_no_network() -> None:
    proxy = found("network-proxy-down--a1111-git-127-7890.txt")[0]
    assert "--unset http.proxy" in proxy.fix and "set HTTPS_PROXY" not in proxy.fix
    own_server = "requests.exceptions.ConnectionError: Failed to connect to 127.0.0.1 port 7860: Connection refused"
    assert "network-proxy-down" not in ids(own_server)


def test_a_module_of_the_applications_own_checkout_is_not_pip_installed() -> None:
    own = found("module-not-in-checkout--fooocus-cuda-malloc.txt")[0]
    assert "git pull" in own.fix and "pip install cuda-malloc" not in own.fix
    # the same shape without a failed update: a requirement that is not installed (Forge importing gguf)
    assert found("ui-env-missing-module--forge-gguf.txt")[0].id == "python-module-not-found"


def test_a_card_at_the_floor_of_every_model_gets_the_lowest_mode_or_the_cpu() -> None:
    floor = found("gpu-out-of-memory--invokeai-2gb.txt")[0]
    assert "--lowvram" in floor.fix and "--medvram" not in floor.fix and "CPU" in floor.fix
    oom = (
        "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 74.00 MiB (GPU 0; 3.95 GiB total capacity)"
    )
    assert "at_floor" not in explain_text(oom).explanations[0].facts


def test_sigill_of_the_bare_interpreter_blames_the_python_build() -> None:
    bare = found("sigill-interpreter--qdiffusion-standalone-python.txt")[0]
    assert "x86_64_v2" in bare.fix and bare.facts["interpreter"] == "python/bin/pip3"
    torch_import = "user@host:~$ python3 -c 'import torch'\nIllegal instruction (core dumped)\n"
    assert "sigill-python-interpreter" not in ids(torch_import)


def test_a_name_the_kb_knows_was_removed_names_the_release() -> None:
    removed = found("name-version--diffusers-cache-constant.txt")[0]
    assert removed.confidence >= 0.9 and '"diffusers<0.25"' in removed.fix


def test_the_missing_module_after_a_failed_install_of_it_is_a_consequence() -> None:
    first, *rest = found("pip-no-matching--comfyui-launcher-mac-torch221.txt")
    assert first.id == "pip-no-matching-distribution" and len(first.evidence) == 2
    assert [e.id for e in rest] == []  # the module error is the first answer's second line: not answered again
    other = "ERROR: No matching distribution found for torch==2.2.1\nModuleNotFoundError: No module named 'gradio'\n"
    assert {e.id: e.confidence for e in explain_text(other).explanations}["python-module-not-found"] == 0.7


def test_a_socks_proxy_that_refuses_is_a_proxy_not_running() -> None:
    socks = found("network-proxy-down--a1111-socks-refused.txt")[0]
    assert socks.id == "network-proxy-down" and "ALL_PROXY" in socks.fix
    plain = "ConnectionRefusedError: [Errno 111] Connection refused\n"
    assert "network-proxy-down" not in ids(plain)
