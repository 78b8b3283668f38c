"""Job configs: defaults, the job YAML, command-line options and --set, in that order."""

from __future__ import annotations

from pathlib import Path

import pytest

from winnow.errors import WinnowError
from winnow.train.config import DpoConfig, SftConfig, load_config
from winnow.train.models import tiny_config


def test_yaml_then_options_then_sets(tmp_path: Path) -> None:
    """A catalog job fills the config; options and --set override it, typed."""
    options = {"data": "prefs", "output": "run", "beta": None, "max_steps": 7}
    job, path = load_config(
        DpoConfig, "dpo-sigmoid", options, ["beta=0.3", "lora_targets=q_proj,k_proj"]
    )
    assert isinstance(job, DpoConfig) and path and path.endswith("dpo-sigmoid.yaml")
    assert (job.max_steps, job.beta, job.batch_size) == (7, 0.3, 4)
    assert job.lora_targets == ["q_proj", "k_proj"] and job.reuse_ref_logps is True


@pytest.mark.parametrize(
    ("config", "sets", "message"),
    [
        ("reward", [], "is a 'reward' job, not 'dpo'"),
        (None, ["max_steps=1.5"], "max_steps is 1.5, expected int"),
        (None, ["packing=true"], "unknown key 'packing' for train dpo"),
        (None, ["beta"], "write KEY=VALUE"),
        ("no-such-job", [], "no such file or job"),
        (None, ["lora=full"], "lora 'full'"),
    ],
)
def test_bad_configs_are_one_line(config: str | None, sets: list[str], message: str) -> None:
    """Wrong method, type, key or file: one line naming it."""
    with pytest.raises(WinnowError, match=message):
        load_config(DpoConfig, config, {"data": "d", "output": "o"}, sets)


def test_missing_yaml_key_file(tmp_path: Path) -> None:
    """A YAML path with an unknown key names the file and the key."""
    job = tmp_path / "job.yaml"
    job.write_text("method: sft\nepoch: 3\n")
    with pytest.raises(WinnowError, match=r"job.yaml: unknown key 'epoch'"):
        load_config(SftConfig, str(job), {"data": "d", "output": "o"}, [])


def test_tiny_model_fits_its_budget() -> None:
    """The chosen Llama is the widest under the parameter budget; too small a budget says so."""
    config, size = tiny_config(2048, 1_000_000, 256)
    assert size <= 1_000_000 and config.hidden_size == 96 and config.tie_word_embeddings
    with pytest.raises(WinnowError, match="tiny_params 1,000: too small"):
        tiny_config(2048, 1_000, 256)
