"""Plans tried as a new user would (issue 10): each test failed before its fix, on the real machine captures."""

from __future__ import annotations

from rigfit.plan.model import PlanOptions
from rigfit.plan.planner import make_plan
from tests.test_plan_golden import probed


def test_pytorch3d_on_driver_460_takes_the_cu118_line_the_driver_runs() -> None:
    """GTX 950M, driver 460.32.03 (CUDA 11.2): pytorch3d 0.7.5 has wheels for torch 2.1.0 cu118 and cu121; only cu118
    runs on a driver older than 525.60.13."""
    plan = make_plan(probed("gtx950m-laptop"), PlanOptions(ui="a1111", extras=["pytorch3d"]))
    assert (plan.torch.version, plan.torch.variant) == ("2.1.0", "cu118")
    assert any("py310_cu118_pyt210" in step for step in plan.torch.install)
    assert not any("525.60.13" in r.text for d in plan.decisions for r in d.reasons if d.topic == "torch")
