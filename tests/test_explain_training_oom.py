"""An out-of-memory is a training run's only when the training's own lines sit beside it: a trainer's launch line
thousands of lines earlier in the same file (a journal, a shell session) belongs to another run. Found by the speed
benchmark, whose log holds OneTrainer's start among its unrelated lines and A1111's OOM near its end."""

from __future__ import annotations

from rigfit.explain.match import explain_text
from tests.conftest import fixture_text

ONETRAINER = fixture_text("logs/unrelated/onetrainer-uncaught-importerror-initialization-failed.txt")
A1111_OOM = fixture_text("logs/cuda-out-of-memory--a1111-2gb.txt")
KOHYA_OOM = fixture_text("logs/training-oom--sd-scripts-sdxl-12gb.txt")
# real unrelated lines between them: A1111's normal start, repeated (a long session)
BETWEEN = fixture_text("logs/unrelated/a1111-v1-normal-start.txt") * 40


def test_a_trainer_far_before_a_ui_oom_does_not_make_it_a_training_oom() -> None:
    answers = explain_text(ONETRAINER + BETWEEN + A1111_OOM).explanations
    assert len(BETWEEN.splitlines()) > 400
    assert answers[0].id == "gpu-out-of-memory" and "training" not in answers[0].facts


def test_the_trainers_own_oom_stays_a_training_oom_named_by_its_nearest_line() -> None:
    answers = explain_text(KOHYA_OOM).explanations
    assert answers[0].id == "training-out-of-memory" and answers[0].facts["training"] == "kohya_ss"
    # the same OOM after the unrelated session: its own frames are still beside it
    assert explain_text(ONETRAINER + BETWEEN + KOHYA_OOM).explanations[0].id == "training-out-of-memory"
