"""hf_classifier: batched scores equal the model's own forward pass, for both kinds of head.

The models are built from scratch (a byte-level BPE tokenizer trained on real web text and a
two-layer BERT of about 100k parameters), so nothing touches a hub.
"""

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch
from transformers import BertForSequenceClassification, PreTrainedTokenizerFast

from tests.curate.steps.classifiers import tiny_model
from winnow.curate.steps.hf_classifier import HfClassifier
from winnow.errors import WinnowError


@pytest.fixture(scope="session")
def web_lines(shared_data: Path) -> list[str]:
    """Real web text, a paragraph per row."""
    texts = pl.read_ndjson(shared_data / "web" / "c4_demo.jsonl")["text"].to_list()
    return [line for text in texts for line in text.split("\n") if len(line) > 40][:400]


@pytest.fixture(scope="session")
def regression(tmp_path_factory: pytest.TempPathFactory, web_lines: list[str]) -> Path:
    """A one-output head, like FineWeb-Edu's educational-value scorer."""
    return tiny_model(tmp_path_factory.mktemp("edu"), web_lines, {0: "score"})


@pytest.fixture(scope="session")
def binary(tmp_path_factory: pytest.TempPathFactory, web_lines: list[str]) -> Path:
    """A two-label classifier."""
    return tiny_model(tmp_path_factory.mktemp("bin"), web_lines, {0: "low", 1: "high"})


@pytest.fixture(scope="session")
def padless(tmp_path_factory: pytest.TempPathFactory, web_lines: list[str]) -> Path:
    """A classifier whose tokenizer has no pad token, as decoder-based classifiers often do."""
    return tiny_model(tmp_path_factory.mktemp("padless"), web_lines, {0: "score"}, pad=False)


def direct(folder: Path, texts: list[str]) -> torch.Tensor:
    """The model's logits for each text on its own, without padding or batching."""
    tokenizer = PreTrainedTokenizerFast.from_pretrained(folder)
    model = BertForSequenceClassification.from_pretrained(folder).eval()
    with torch.inference_mode():
        return torch.cat(
            [
                model(**tokenizer(t, truncation=True, max_length=64, return_tensors="pt")).logits
                for t in texts
            ]
        )


def test_regression_scores_equal_the_forward_pass_whatever_the_batch(regression: Path, web_lines):
    texts = web_lines[:20]
    frame = pl.DataFrame({"text": texts})
    one = HfClassifier(model=str(regression), batch_size=1, max_length=64).score(frame)
    eight = HfClassifier(model=str(regression), batch_size=8, max_length=64, int_score=True)
    eight_scores = eight.score(frame)
    expected = direct(regression, texts)[:, 0].numpy()
    np.testing.assert_allclose(one["hf_score"].to_numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(eight_scores["hf_score"].to_numpy(), expected, atol=1e-5)
    rounded = np.clip(np.round(expected), 0, 5).astype(int)
    assert eight_scores["hf_score_int"].to_list() == rounded.tolist()


def test_two_labels_give_the_named_label_probability_and_the_threshold_drops(
    binary: Path, web_lines
):
    texts = web_lines[20:36]
    probs = torch.softmax(direct(binary, texts), dim=-1).numpy()
    frame = pl.DataFrame({"text": texts})
    high = HfClassifier(model=str(binary), max_length=64, column="edu").score(frame)
    np.testing.assert_allclose(high["edu"].to_numpy(), probs[:, 1], atol=1e-5)
    low_step = HfClassifier(model=str(binary), max_length=64, label="low", threshold=0.5)
    low = low_step.score(frame)
    np.testing.assert_allclose(low["hf_score"].to_numpy(), probs[:, 0], atol=1e-5)
    reasons = low.select(low_step.reason()).to_series().to_list()
    assert reasons == ["below_threshold" if p < 0.5 else None for p in probs[:, 0]]


def test_bad_models_and_parameters_get_one_clear_line(binary: Path, tmp_path: Path):
    frame = pl.DataFrame({"text": ["some text"]})
    with pytest.raises(WinnowError, match="cannot load model 'someone/edu-classifier'"):
        HfClassifier(model="someone/edu-classifier").score(frame)
    with pytest.raises(WinnowError, match="cannot load model"):
        HfClassifier(model=str(tmp_path / "nothing")).score(frame)
    with pytest.raises(WinnowError, match="has no label 'medium'; its labels are: low, high"):
        HfClassifier(model=str(binary), label="medium").score(frame)
    with pytest.raises(WinnowError, match="'model' is required"):
        HfClassifier()
    with pytest.raises(WinnowError, match="device must be auto, cpu or cuda"):
        HfClassifier(model=str(binary), device="tpu")


def test_a_tokenizer_without_a_pad_token_pads_with_its_end_token(padless: Path, web_lines):
    texts = web_lines[40:52]
    scored = HfClassifier(model=str(padless), batch_size=4, max_length=64).score(
        pl.DataFrame({"text": texts})
    )
    expected = direct(padless, texts)[:, 0].numpy()
    np.testing.assert_allclose(scored["hf_score"].to_numpy(), expected, atol=1e-5)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_asking_for_cuda_without_a_gpu_gets_one_clear_line(binary: Path):
    with pytest.raises(WinnowError, match="device 'cuda' was asked for but torch sees no CUDA"):
        HfClassifier(model=str(binary), device="cuda").score(pl.DataFrame({"text": ["a"]}))
