"""`generate` on the lab's tiny model: greedy is deterministic, a seed reproduces a sample,
and temperature, top-k and top-p change which tokens can be drawn, checked against the
model's own next-token distribution."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cli_helpers import run_cli
from tests.train.conftest import Lab
from winnow.train.generation import Sampling, generate, load_model, render

MESSAGES = [{"role": "user", "content": "Name a colour."}]
"""The conversation every test answers."""

SEEDS = (1, 2, 3)
"""Seeds a sampled answer is drawn with."""


@pytest.fixture(scope="module")
def loaded(lab: Lab) -> tuple[Any, Any]:
    """The lab's base model on the device, and its tokenizer."""
    _, model, tokenizer = load_model(lab.base, lab.ws)
    return model, tokenizer


def answers(loaded: tuple[Any, Any], n: int = 3, **settings: Any) -> list[str]:
    """n answers of at most 16 new tokens to MESSAGES."""
    model, tokenizer = loaded
    return generate(model, tokenizer, MESSAGES, Sampling(max_new_tokens=16, **settings), n)


def first_tokens(loaded: tuple[Any, Any], n: int = 64, **settings: Any) -> list[str]:
    """n one-token answers: draws of the first token."""
    model, tokenizer = loaded
    return generate(model, tokenizer, MESSAGES, Sampling(max_new_tokens=1, **settings), n)


def next_token_probs(loaded: tuple[Any, Any]) -> Any:
    """The model's distribution of the first answer token (the chat template applied)."""
    import torch

    model, tokenizer = loaded
    ids = tokenizer(render(tokenizer, MESSAGES), return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        logits = model(**ids.to(model.device)).logits[0, -1].float().cpu()
    return torch.softmax(logits, dim=-1)


def as_text(tokenizer: Any, token_ids: Any) -> set[str]:
    """Each token as generate() returns a one-token answer."""
    return {tokenizer.decode([int(t)], skip_special_tokens=True).strip() for t in token_ids}


def test_greedy_is_deterministic_and_ignores_the_seed(loaded: tuple[Any, Any]) -> None:
    """Temperature 0: n copies of one answer, the same for every seed, and that answer is the
    argmax continuation the model computes step by step."""
    import torch

    model, tokenizer = loaded
    greedy = answers(loaded, temperature=0)
    assert len(greedy) == 3 and len(set(greedy)) == 1
    assert all(answers(loaded, temperature=0, seed=seed) == greedy for seed in SEEDS)
    ids = tokenizer(render(tokenizer, MESSAGES), return_tensors="pt", add_special_tokens=False)
    sequence = ids["input_ids"].to(model.device)
    with torch.no_grad():
        for _ in range(16):
            token = model(sequence).logits[0, -1].argmax()
            if int(token) == tokenizer.eos_token_id:
                break
            sequence = torch.cat([sequence, token.view(1, 1)], dim=1)
    start = ids["input_ids"].shape[1]
    argmax = tokenizer.decode(sequence[0, start:], skip_special_tokens=True).strip()
    assert greedy[0] == argmax


def test_a_seed_reproduces_a_sample_and_another_seed_does_not(loaded: tuple[Any, Any]) -> None:
    """The same seed gives the same n answers; other seeds give other answers."""
    drawn = {seed: answers(loaded, seed=seed) for seed in SEEDS}
    assert all(answers(loaded, seed=seed) == drawn[seed] for seed in SEEDS)
    assert len({tuple(a) for a in drawn.values()}) == len(SEEDS)
    assert all(len(set(a)) == 3 for a in drawn.values()), drawn


def test_top_k_1_and_a_tiny_top_p_equal_greedy(loaded: tuple[Any, Any]) -> None:
    """Keeping one token (top-k 1, or a nucleus of almost no mass) is greedy at any seed and
    temperature, while plain sampling at those seeds is not."""
    greedy = answers(loaded, temperature=0)
    for seed in SEEDS:
        assert answers(loaded, top_k=1, temperature=2.0, seed=seed) == greedy
        assert answers(loaded, top_p=1e-6, temperature=2.0, seed=seed) == greedy
        assert answers(loaded, temperature=0.01, seed=seed) == greedy
        assert answers(loaded, seed=seed) != greedy


def test_top_k_and_top_p_keep_only_the_likeliest_tokens(loaded: tuple[Any, Any]) -> None:
    """64 draws of the first token: with top-k 5 every draw is one of the model's 5 likeliest
    tokens, with top-p 0.5 one of the smallest set holding half the mass; without either,
    draws at a high temperature fall outside both."""
    import torch

    _, tokenizer = loaded
    probs = next_token_probs(loaded)
    top5 = as_text(tokenizer, torch.topk(probs, 5).indices)
    ordered, order = torch.sort(probs, descending=True)
    nucleus = order[: int((torch.cumsum(ordered, 0) < 0.5).sum()) + 1]
    assert 1 < len(nucleus) < len(probs)
    nucleus_text = as_text(tokenizer, nucleus)
    k_draws = first_tokens(loaded, top_k=5, temperature=3.0)
    assert set(k_draws) <= top5 and len(set(k_draws)) > 1
    p_draws = first_tokens(loaded, top_p=0.5, temperature=1.0)
    assert set(p_draws) <= nucleus_text and len(set(p_draws)) > 1
    free = first_tokens(loaded, temperature=3.0)
    assert set(free) - top5 and set(free) - nucleus_text


def test_temperature_spreads_the_draws(loaded: tuple[Any, Any]) -> None:
    """Same seed, 64 draws of the first token (the tiny model's distribution is flat: its
    likeliest token has under 1% of the mass): a high temperature draws many more distinct
    tokens than a low one, and the low one almost always draws the likeliest token."""
    import torch

    _, tokenizer = loaded
    likeliest = as_text(tokenizer, [torch.argmax(next_token_probs(loaded))]).pop()
    cold = first_tokens(loaded, temperature=0.05, seed=7)
    hot = first_tokens(loaded, temperature=5.0, seed=7)
    assert len(set(hot)) > 4 * len(set(cold))
    assert cold.count(likeliest) > 48 > 8 > hot.count(likeliest)


def test_integer_temperature_is_a_temperature(loaded: tuple[Any, Any]) -> None:
    """Sampling(temperature=2) from Python samples as 2.0 does (transformers refuses ints)."""
    assert answers(loaded, temperature=2, seed=5) == answers(loaded, temperature=2.0, seed=5)


def test_generate_command_prints_the_sampled_answers(
    lab: Lab, loaded: tuple[Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """`winnow generate` prints, numbered, the answers generate() draws with its settings; a
    top-p of 0 is one line."""
    args = ["generate", "--model", lab.base, "--prompt", MESSAGES[0]["content"], "--n", "2"]
    settings = ["--max-new-tokens", "8", "--top-k", "5", "--temperature", "1.5", "--seed", "4"]
    code, out = run_cli(capsys, *args, *settings, "-w", str(lab.root))
    assert code == 0, out
    model, tokenizer = loaded
    sampling = Sampling(temperature=1.5, top_p=0.9, top_k=5, max_new_tokens=8, seed=4)
    first, second = generate(model, tokenizer, MESSAGES, sampling, 2)
    expected = " ".join(f"answer {i} {' '.join(a.split())}" for i, a in ((1, first), (2, second)))
    assert expected in out
    code, out = run_cli(capsys, *args, "--top-p", "0", "-w", str(lab.root))
    assert code == 2 and "--top-p 0.0" in out
