"""Scoring a problem with families (steps t = 1..T, layers l = 1..L): the targets are the
inputs and parameters as written (`x_t`, `W^{(l)}`, a shared `W`, a boundary `h_0`), and a
target scores only from a final answer right at every member and every count checked."""
from __future__ import annotations

from pathlib import Path

import pytest

from symderiv.read.document import read_text
from symderiv.scoring import PolicyError, check_scored

ROOT = Path(__file__).resolve().parents[1]
RNN = (ROOT / "derivations" / "rnn-bptt" / "problem.md").read_text(encoding="utf-8")
MLP = (ROOT / "derivations" / "mlp-layers-sigmoid" / "problem.md").read_text(encoding="utf-8")

RNN_W = r"$$\bar{W} = \sum_{t=1}^{T} \bar{a}_t h_{t-1}^\top$$"
RNN_X = r"$$\bar{x}_t = U^\top \bar{a}_t$$"
MLP_W = r"$$\frac{\partial \mathcal{E}}{\partial W^{(l)}} = \delta^{(l)} (a^{(l-1)})^\top$$"
MLP_DELTA = r"$$\delta^{(l)} = \frac{\partial \mathcal{E}}{\partial z^{(l)}}$$" "\n"  # the student's name


def score(sheet: str, problem: str):
    return check_scored([read_text(problem, "problem.md"), read_text(sheet, "answers.md")]).score


def test_default_targets_are_the_inputs_as_written() -> None:
    rnn = score("", RNN)
    assert list(rnn.targets) == ["x_t", "y_t", "h_0", "W", "U", "b", "V"] and rnn.max_score == 7.0
    mlp = score("", MLP)
    assert list(mlp.targets) == ["x", "y", "W^{(l)}", "b^{(l)}"] and mlp.max_score == 4.0
    assert rnn.score == mlp.score == 0


def test_generic_final_answers_score_their_family() -> None:
    assert score(RNN_X, RNN).targets == {"x_t": 1.0, "y_t": 0, "h_0": 0, "W": 0, "U": 0, "b": 0, "V": 0}
    assert score(RNN_W, RNN).targets["W"] == 1.0  # a sum over the steps for a shared parameter
    assert score(r"$$\bar{W}_{ij} = \sum_{t=1}^{T} (\bar{a}_t)_i (h_{t-1})_j$$", RNN).targets["W"] == 1.0
    assert score(r"$$\bar{h}_0 = W^\top \bar{a}_1$$", RNN).targets["h_0"] == 1.0
    assert score(MLP_DELTA + MLP_W, MLP).targets["W^{(l)}"] == 1.0
    entry = r"$$\frac{\partial \mathcal{E}}{\partial W^{(l)}_{ij}} = \delta^{(l)}_i a^{(l-1)}_j$$"
    assert score(MLP_DELTA + entry, MLP).targets["W^{(l)}"] == 1.0
    bar = r"$$\bar{W}^{(l)} = \delta^{(l)} (a^{(l-1)})^\top$$"
    assert score(MLP_DELTA + bar, MLP).targets["W^{(l)}"] == 1.0
    no_brackets = r"$$\frac{\partial \mathcal{E}}{\partial W^l} = \delta^l (a^{l-1})^\top$$"
    assert score(MLP_DELTA + no_brackets, MLP).targets["W^{(l)}"] == 1.0
    first = r"$$\frac{\partial \mathcal{E}}{\partial W_{ij}^{(l)}} = \delta^{(l)}_i a^{(l-1)}_j$$"
    assert score(MLP_DELTA + first, MLP).targets["W^{(l)}"] == 1.0
    assert score(MLP_DELTA + first.replace("_i a", "_j a").replace("1)}_j", "1)}_i"), MLP).targets["W^{(l)}"] == 0


@pytest.mark.parametrize("wrong", [
    r"$$\bar{W} = \sum_{t=1}^{T} h_{t-1} \bar{a}_t^\top$$",  # transposed
    r"$$\bar{W} = \sum_{t=2}^{T} \bar{a}_t h_{t-1}^\top$$",  # a dropped step
    r"$$\bar{W} = \sum_{t=1}^{T} \bar{a}_t h_{t}^\top$$",  # a shifted step
    r"$$\bar{W} = -\sum_{t=1}^{T} \bar{a}_t h_{t-1}^\top$$",  # sign
    r"$$\bar{W} = 2 \sum_{t=1}^{T} \bar{a}_t h_{t-1}^\top$$",  # x2
    r"$$\bar{W} = \bar{a}_T h_{T-1}^\top$$",  # the last step only: right at T = 1, wrong after
    r"$$\bar{W} = \bar{a}_t h_{t-1}^\top$$",  # no sum: the step is free on the right only
    RNN_W + "\n" + r"$$\bar{W} = \bar{W}$$",  # the final answer is a tautology
])
def test_a_wrong_shared_answer_earns_nothing(wrong: str) -> None:
    assert score(wrong, RNN).targets["W"] == 0.0


@pytest.mark.parametrize("wrong", [
    r"$$\bar{x}_t = U \bar{a}_t$$",  # no transpose (U is not square: invalid)
    r"$$\bar{x}_t = U^\top \bar{a}_{t+1}$$",  # a shifted step, checked where it exists only
    r"$$\bar{x}_t = U^\top \bar{h}_t$$",  # the tanh dropped
    r"$$\bar{x}_t = -U^\top \bar{a}_t$$",
    r"$$\bar{x}_1 = U^\top \bar{a}_1$$",  # one member only: not the family's answer
    r"$$\bar{x}_T = U^\top \bar{a}_T$$",
    # right at every step but the last: `\bar{h}_t` wrong at t = T
    r"$$\bar{x}_t = U^\top (((V^\top \bar{o}_t) + W^\top \bar{a}_{t+1}) \odot (\mathbf{1} - h_t \odot h_t))$$",
])
def test_a_family_answer_wrong_or_missing_at_one_step_earns_nothing(wrong: str) -> None:
    assert score(wrong, RNN).targets["x_t"] == 0.0


@pytest.mark.parametrize("wrong", [
    r"$$\frac{\partial \mathcal{E}}{\partial W^{(l)}} = (a^{(l-1)}) (\delta^{(l)})^\top$$",
    r"$$\frac{\partial \mathcal{E}}{\partial W^{(l)}} = \delta^{(l)} (a^{(l)})^\top$$",
    r"$$\frac{\partial \mathcal{E}}{\partial W^{(l)}} = \delta^{(l+1)} (a^{(l-1)})^\top$$",
    r"$$\frac{\partial \mathcal{E}}{\partial W^{(l)}_{ij}} = \delta^{(l)}_j a^{(l-1)}_i$$",
    r"$$\frac{\partial \mathcal{E}}{\partial W^{(L)}} = \delta^{(L)} (a^{(L-1)})^\top$$",  # the last layer only
    r"$$\frac{\partial \mathcal{E}}{\partial W^{(l)}} = \frac{\partial \mathcal{E}}{\partial W^{(l)}}$$",
])
def test_a_wrong_layer_answer_earns_nothing(wrong: str) -> None:
    assert score(MLP_DELTA + wrong, MLP).targets["W^{(l)}"] == 0.0


def test_a_later_answer_replaces_an_earlier_one() -> None:
    assert score(RNN_X + "\n" + r"$$\bar{x}_t = -U^\top \bar{a}_t$$", RNN).targets["x_t"] == 0.0
    assert score(r"$$\bar{x}_t = -U^\top \bar{a}_t$$" + "\n" + RNN_X, RNN).targets["x_t"] == 1.0


def test_a_rubric_names_families_as_written() -> None:
    rubric = "---\nscoring:\n  targets:\n    'W^{(l)}': 3\n    b^l: 1\n---\n" + MLP
    s = score(MLP_DELTA + MLP_W, rubric)
    assert s.max_score == 4.0 and s.targets == {"W^{(l)}": 3.0, "b^{(l)}": 0.0} and s.score == 3.0
    s = score(RNN_X + "\n" + RNN_W, "---\nscoring:\n  targets: [x_t, W, h_0]\n---\n" + RNN)
    assert s.targets == {"x_t": 1.0, "W": 1.0, "h_0": 0.0}
    with pytest.raises(PolicyError, match="member of the family x_t"):
        score("", "---\nscoring:\n  targets: [x_1]\n---\n" + RNN)


def test_steps_are_generic_nodes_too() -> None:
    s = score(r"$$\bar{o}_t = o_t - y_t$$" + "\n" + RNN_W, "---\nscoring:\n  targets: [W]\n  steps: 1\n---\n" + RNN)
    steps = {i.name: i.score for i in s.items if i.step}
    assert steps["o_t"] == 1.0 and steps["a_t"] == 0.0 and "o_1" not in steps
    assert s.score == 2.0 and s.max_score == 1.0 + len(steps)


GAMING = {
    "tautologies": "\n".join(rf"$$\bar{{{n}}} = \bar{{{n}}}$$" for n in ("x_t", "W", "U", "b", "V", "h_0")),
    "restatements": "$$a_t = W h_{t-1} + U x_t + b$$\n$$h_t = \\tanh(a_t)$$\n$$o_t = V h_t$$\n",
    "repeats": (RNN_X + "\n") * 10,
    "partials": "\n".join(rf"$$\bar{{{n}}} = \frac{{\partial \mathcal{{L}}}}{{\partial {n}}}$$"
                          for n in ("x_t", "W", "U", "b", "V", "h_0")),
    "problem-itself": RNN,
    "empty": "",
}


def test_gaming_a_family_sheet_scores_less_than_an_honest_half() -> None:
    honest = score(RNN_X + "\n" + RNN_W + "\n" + r"$$\bar{b} = \sum_{t=1}^{T} \bar{a}_t$$", RNN)
    assert honest.score == 3.0 and honest.max_score == 7.0
    for name, text in GAMING.items():
        s = score(text, RNN)
        assert s.max_score == 7.0, name
        assert s.score < honest.score, (name, s.score)
    assert score(GAMING["repeats"], RNN).score == 1.0  # counted once
