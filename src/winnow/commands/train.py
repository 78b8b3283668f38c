"""`winnow train`: tokenizers (and later models) trained on curated datasets."""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from winnow.commands.options import WorkspaceOption, console, new_table
from winnow.errors import WinnowError
from winnow.train.launch import (
    REQUESTED,
    command_line,
    parse_launch,
    recording_launch,
    relaunch,
)
from winnow.train.tokenizer import TokenizerConfig, train_tokenizer
from winnow.workspace import Workspace

app = typer.Typer(help="Train tokenizers and models on datasets.", no_args_is_help=True)


@app.command()
def tokenizer(
    data: Annotated[
        str,
        typer.Option(
            help="Dataset NAME or NAME@VERSION (its kept rows), or any source 'curate run' "
            "reads: file, folder, glob, catalog name."
        ),
    ],
    algo: Annotated[
        str,
        typer.Option(
            help="bpe (GPT-2 byte-level, any text round-trips), wordpiece (BERT) or unigram "
            "(SentencePiece-like)."
        ),
    ],
    vocab_size: Annotated[int, typer.Option(help="Tokens in the vocabulary, specials included.")],
    output: Annotated[Path, typer.Option(help="New folder for the tokenizer files.")],
    min_frequency: Annotated[
        int,
        typer.Option(help="Fewest occurrences for a merge (bpe, wordpiece; unigram prunes)."),
    ] = 2,
    special_tokens: Annotated[
        list[str] | None,
        typer.Option(
            "--special-tokens",
            help="Extra special tokens after the algorithm's own; repeat the option for more.",
        ),
    ] = None,
    max_docs: Annotated[
        int | None, typer.Option(help="Train on at most the first N documents.")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Train a tokenizer on a dataset's text, streamed shard by shard, and save it so that
    transformers' AutoTokenizer.from_pretrained(OUTPUT) loads it.

    OUTPUT gets tokenizer.json (plus vocab.json and merges.txt for bpe), tokenizer_config.json,
    special_tokens_map.json and winnow.json (data version and fingerprint, settings, time).

    Example: winnow train tokenizer --data demo-web --algo bpe --vocab-size 2000 --output web-bpe
    """
    config = TokenizerConfig(
        algo=algo,
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(special_tokens or []),
        max_docs=max_docs,
    )
    trained = train_tokenizer(data, config, output, Workspace.resolve(workspace))
    record, read = trained.record, trained.record["data"]
    table = new_table(escape(f"{record['algo']} tokenizer in {trained.path}"), "", "")
    table.show_header = False
    fingerprint = f"{read['fingerprint_of']} fingerprint {read['fingerprint']}"
    table.add_row("data", escape(f"{read['ref']} ({fingerprint})"))
    table.add_row("documents", f"{read['documents']:,}")
    table.add_row(
        "characters", f"{read['characters']:,} ({read['distinct_characters']:,} distinct)"
    )
    if read["quarantined"]:
        table.add_row("unreadable rows", f"{read['quarantined']:,} (quarantined, not trained on)")
    table.add_row("vocab size", f"{record['vocab_size']:,} of {record['vocab_size_requested']:,}")
    table.add_row("special tokens", escape(" ".join(record["special_tokens"])))
    table.add_row("train seconds", f"{record['train_seconds']:.2f}")
    table.add_row("files", " ".join(sorted(p.name for p in trained.path.iterdir())))
    console.print(table, highlight=False)


Base = Annotated[
    str | None,
    typer.Option(
        help="tiny (tokenizer + small Llama built on --data), a run name, a model folder, a "
        ".gguf file, or a hub id (online).",
        show_default=False,
    ),
]
Data = Annotated[str | None, typer.Option(help="Dataset NAME or NAME@vN.", show_default=False)]
Output = Annotated[str | None, typer.Option(help="Run name: runs/NAME.", show_default=False)]
Config = Annotated[
    str | None,
    typer.Option(
        "--config", help="Job YAML: a path or a name in catalogs/jobs/.", show_default=False
    ),
]
MaxSteps = Annotated[int | None, typer.Option(help="Optimizer steps.", show_default=False)]
LearningRate = Annotated[float | None, typer.Option(help="Peak learning rate.", show_default=False)]
BatchSize = Annotated[
    int | None,
    typer.Option(
        help="Rows per step in each process (per device under a launcher).", show_default=False
    ),
]
MaxLength = Annotated[
    int | None, typer.Option(help="Tokens per sequence (longer ones are cut).", show_default=False)
]
Lora = Annotated[
    str | None,
    typer.Option(
        help="none, lora (peft adapters, merged at the end) or qlora (4-bit, CUDA).",
        show_default=False,
    ),
]
Sets = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Any config field as KEY=VALUE (e.g. --set warmup_ratio=0.1); repeat for more.",
        show_default=False,
    ),
]
Resume = Annotated[
    bool, typer.Option("--resume", help="Continue run --output from its last checkpoint.")
]


LAUNCH_PANEL = "Several processes"
"""The help panel of the launcher options."""

LAUNCH_OPTIONS: dict[str, tuple[Any, Any]] = {
    "launcher": (
        Annotated[
            str,
            typer.Option(
                help="none (train in this process) or accelerate (the same job under "
                "accelerate launch).",
                rich_help_panel=LAUNCH_PANEL,
            ),
        ],
        "none",
    ),
    "strategy": (
        Annotated[
            str | None,
            typer.Option(
                help="ddp, fsdp or deepspeed (GPUs): the accelerate config written for the launch.",
                show_default="ddp",
                rich_help_panel=LAUNCH_PANEL,
            ),
        ],
        None,
    ),
    "num_processes": (
        Annotated[
            int | None,
            typer.Option(
                help="Processes the written config starts.",
                show_default="the CUDA GPUs, else 1",
                rich_help_panel=LAUNCH_PANEL,
            ),
        ],
        None,
    ),
    "accelerate_config": (
        Annotated[
            str | None,
            typer.Option(
                help="Your own accelerate config YAML, used as is (instead of --strategy and "
                "--num-processes).",
                show_default=False,
                rich_help_panel=LAUNCH_PANEL,
            ),
        ],
        None,
    ),
}
"""The launcher options every training method takes: name -> (annotation, default)."""

LAUNCH_HELP = (
    "Several processes: add --launcher accelerate (--strategy ddp|fsdp|deepspeed, "
    "--num-processes N, or --accelerate-config FILE) to run the job under accelerate launch, "
    "e.g. winnow train sft ... --launcher accelerate --num-processes 2."
)
"""The paragraph added to each training method's help, before its example."""


def launchable(command: Callable[..., None]) -> Callable[..., None]:
    """Give a training method the launcher options, declared once in LAUNCH_OPTIONS, and hand
    run_job the launch they ask for (checked before anything is loaded)."""
    signature = inspect.signature(command, eval_str=True)
    keyword = inspect.Parameter.KEYWORD_ONLY
    added = [
        inspect.Parameter(name, keyword, annotation=kind, default=default)
        for name, (kind, default) in LAUNCH_OPTIONS.items()
    ]
    added.append(inspect.Parameter("launch_context", keyword, annotation=typer.Context))

    @functools.wraps(command)
    def with_launch(launch_context: typer.Context | None = None, **kwargs: Any) -> None:
        """Parse the launcher options, then run the method with the launch set for run_job;
        called from Python (the demo), it trains in this process unless told otherwise."""
        chosen = {name: kwargs.pop(name, default) for name, (_, default) in LAUNCH_OPTIONS.items()}
        args = command_line(launch_context, LAUNCH_OPTIONS) if launch_context else ()
        token = REQUESTED.set(parse_launch(**chosen, args=args))
        try:
            command(**kwargs)
        finally:
            REQUESTED.reset(token)

    with_launch.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), *added]
    )
    with_launch.__annotations__ = {
        **typing.get_type_hints(command, include_extras=True),
        **{name: kind for name, (kind, _) in LAUNCH_OPTIONS.items()},
        "launch_context": typer.Context,
    }
    doc = inspect.getdoc(command) or ""
    head, example, tail = doc.partition("\n\nExample:")
    with_launch.__doc__ = f"{head}\n\n{LAUNCH_HELP}{example}{tail}"
    return with_launch


def run_job(
    method: str,
    config: str | None,
    options: dict[str, Any],
    sets: list[str] | None,
    resume: bool,
    workspace: str | None,
) -> None:
    """Build the job's config (from the run's own record when resuming), then train and report,
    or start it under accelerate launch when --launcher accelerate asks for it."""
    from winnow.train.config import load_config
    from winnow.train.ranks import is_main

    console.quiet = not is_main()
    ws = Workspace.resolve(workspace)
    start = resumed_config(ws, options.get("output"), method) if resume else None
    job, path = load_config(method, config, options, list(sets or []), start)
    launch = REQUESTED.get()
    if launch is not None:
        raise typer.Exit(relaunch(ws, job, launch, resume))
    from winnow.train import methods
    from winnow.train.jobs import execute

    prepare, finish, head = methods.METHODS[method]
    console.print(escape(f"train {method}: {job.data} on base {job.base} -> runs/{job.output}"))
    run = execute(ws, job, path, resume, recording_launch(prepare), finish, head)
    print_run(run.record)


def resumed_config(ws: Workspace, output: str | None, method: str) -> dict[str, Any]:
    """The stored config of the run --resume continues."""
    from winnow.files import read_json

    record = ws.root / "runs" / str(output) / "run.json"
    if not output or not record.is_file():
        raise WinnowError(f"--resume: no run '{output}' in {ws.root / 'runs'}; check --output.")
    return read_json(record)["config"]


def print_run(record: dict[str, Any]) -> None:
    """The finished run as one table: data, model, results, where things are."""
    table = new_table(
        escape(f"run {record['name']} ({record['method']}): {record['status']}"), "", ""
    )
    table.show_header = False
    for item in record["inputs"]:
        table.add_row(
            "data",
            escape(f"{item['ref']} ({item['rows']:,} rows, fingerprint {item['fingerprint']})"),
        )
    model = record.get("model", {})
    table.add_row(
        "model", escape(f"{model.get('architecture')}: {model.get('parameters', 0):,} parameters")
    )
    device = record["device"]
    processes = device.get("processes", 1)
    launched = f", {processes} processes" if processes > 1 else ""
    table.add_row("device", escape(f"{device['type']} ({device['name']}){launched}"))
    launch = record.get("launch")
    if launch:
        kind = (launch.get("config") or {}).get("distributed_type")
        shown = f"{launch['launcher']} ({kind}), config {record['name']}/{launch['config_file']}"
        table.add_row("launch", escape(shown))
    for key, value in (record.get("data") or {}).items():
        table.add_row(key.replace("_", " "), f"{value:,}" if isinstance(value, int) else str(value))
    for key, value in (record.get("results") or {}).items():
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        table.add_row(key.replace("_", " "), shown)
    console.print(table, highlight=False)


@app.command()
@launchable
def pretrain(
    base: Base = None,
    data: Data = None,
    output: Output = None,
    config: Config = None,
    max_steps: MaxSteps = None,
    learning_rate: LearningRate = None,
    batch_size: BatchSize = None,
    max_length: MaxLength = None,
    tiny_params: Annotated[
        int | None, typer.Option(help="Parameter budget of a tiny base.", show_default=False)
    ] = None,
    sets: Sets = None,
    resume: Resume = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Pretrain a causal LM on a text dataset (tiny: tokenizer and Llama built from it).

    Documents are packed into --max-length blocks; a held-out split (eval_fraction) gives eval
    loss and perplexity. runs/OUTPUT gets run.json, metrics.jsonl, checkpoints/ and model/.

    Example: winnow train pretrain --base tiny --data demo-web --output tiny-web --max-steps 40
    """
    options = {
        "base": base,
        "data": data,
        "output": output,
        "max_steps": max_steps,
        "learning_rate": learning_rate,
        "batch_size": batch_size,
        "max_length": max_length,
        "tiny_params": tiny_params,
    }
    run_job("pretrain", config, options, sets, resume, workspace)


@app.command()
@launchable
def sft(
    base: Base = None,
    data: Data = None,
    output: Output = None,
    config: Config = None,
    max_steps: MaxSteps = None,
    learning_rate: LearningRate = None,
    batch_size: BatchSize = None,
    max_length: MaxLength = None,
    packing: Annotated[
        bool | None,
        typer.Option(
            "--packing/--no-packing",
            help="Pack rows into max-length bins (best fit); each bin's rows stay masked "
            "from each other.",
            show_default=False,
        ),
    ] = None,
    lora: Lora = None,
    chat_template: Annotated[
        str | None,
        typer.Option(
            help="chatml or a Jinja file; needed when the base's tokenizer has none.",
            show_default=False,
        ),
    ] = None,
    sets: Sets = None,
    resume: Resume = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Fine-tune on an instruction set with loss on answer tokens only (TRL SFTTrainer).

    Prints a token-level preview of the loss mask and counts rows with no trainable token
    before the first step; stops when none is left. Chat template and EOS are pinned and
    recorded in run.json.

    Example: winnow train sft --base demo-base --data demo-instruct --output tiny-sft --max-steps 20
    """
    options = {
        "base": base,
        "data": data,
        "output": output,
        "max_steps": max_steps,
        "learning_rate": learning_rate,
        "batch_size": batch_size,
        "max_length": max_length,
        "packing": packing,
        "lora": lora,
        "chat_template": chat_template,
    }
    run_job("sft", config, options, sets, resume, workspace)


@app.command()
@launchable
def dpo(
    base: Base = None,
    data: Data = None,
    output: Output = None,
    config: Config = None,
    max_steps: MaxSteps = None,
    learning_rate: LearningRate = None,
    batch_size: BatchSize = None,
    max_length: MaxLength = None,
    beta: Annotated[
        float | None,
        typer.Option(help="Strength of the pull to the reference.", show_default=False),
    ] = None,
    loss_type: Annotated[
        str | None,
        typer.Option(
            help="sigmoid (DPO), ipo, hinge, robust, ... any TRL offers.", show_default=False
        ),
    ] = None,
    lora: Lora = None,
    chat_template: Annotated[
        str | None,
        typer.Option(
            help="chatml or a Jinja file; needed when the base's tokenizer has none.",
            show_default=False,
        ),
    ] = None,
    sets: Sets = None,
    resume: Resume = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Preference-tune a model on a chosen/rejected set with TRL's DPOTrainer.

    Logs DPO rewards (chosen, rejected, margins, accuracies) to metrics.jsonl. Reference
    log-probs are computed once per data and base and reused by later runs (reuse_ref_logps).

    Example: winnow train dpo --base demo-sft --data demo-sample-pairs --output tiny-dpo --beta 0.1
    """
    options = {
        "base": base,
        "data": data,
        "output": output,
        "max_steps": max_steps,
        "learning_rate": learning_rate,
        "batch_size": batch_size,
        "max_length": max_length,
        "beta": beta,
        "loss_type": loss_type,
        "lora": lora,
        "chat_template": chat_template,
    }
    run_job("dpo", config, options, sets, resume, workspace)


@app.command()
@launchable
def reward(
    base: Base = None,
    data: Data = None,
    output: Output = None,
    config: Config = None,
    max_steps: MaxSteps = None,
    learning_rate: LearningRate = None,
    batch_size: BatchSize = None,
    max_length: MaxLength = None,
    lora: Lora = None,
    chat_template: Annotated[
        str | None,
        typer.Option(
            help="chatml or a Jinja file; needed when the base's tokenizer has none.",
            show_default=False,
        ),
    ] = None,
    sets: Sets = None,
    resume: Resume = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Train a reward model (one score per conversation) on a chosen/rejected set.

    eval_fraction of the pairs (10% by default) is held out; run.json's results and
    metrics.jsonl get the exact pairwise accuracy on it.

    Example: winnow train reward --base demo-sft --data demo-preference --output tiny-reward
    """
    options = {
        "base": base,
        "data": data,
        "output": output,
        "max_steps": max_steps,
        "learning_rate": learning_rate,
        "batch_size": batch_size,
        "max_length": max_length,
        "lora": lora,
        "chat_template": chat_template,
    }
    run_job("reward", config, options, sets, resume, workspace)


Temperature = Annotated[float, typer.Option(help="Sampling temperature; 0 is greedy.")]
TopP = Annotated[
    float, typer.Option(help="Nucleus sampling: keep the smallest set of tokens with this mass.")
]
TopK = Annotated[int, typer.Option(help="Keep the k likeliest tokens; 0 keeps all.")]
MaxNewTokens = Annotated[int, typer.Option(help="Tokens generated per answer at most.")]
Seed = Annotated[int, typer.Option(help="Seeds sampling (prompt i uses seed + i).")]


@app.command()
def sample(
    policy: Annotated[
        str, typer.Option(help="Policy: a run name, model folder, .gguf file or hub id.")
    ],
    reward: Annotated[str, typer.Option(help="Reward model: a run of 'winnow train reward'.")],
    prompts: Annotated[
        str, typer.Option(help="Instruction set NAME or NAME@vN whose prompts are sampled.")
    ],
    output: Annotated[
        str, typer.Option(help="Run name; datasets OUTPUT-pairs and OUTPUT-best are written.")
    ],
    n: Annotated[int, typer.Option(help="Answers per prompt.")] = 4,
    temperature: Temperature = 1.0,
    top_p: TopP = 1.0,
    top_k: TopK = 0,
    max_new_tokens: MaxNewTokens = 128,
    max_prompts: Annotated[
        int | None, typer.Option(help="Sample only the first N prompts.", show_default=False)
    ] = None,
    seed: Seed = 0,
    workspace: WorkspaceOption = None,
) -> None:
    """Best-of-n: N answers per prompt from POLICY, scored by REWARD, published as two sets.

    OUTPUT-pairs is a preference set (best against worst, margin = score gap; all-equal scores
    are quarantined as ties); OUTPUT-best an instruction set of the best answers. Both name
    the prompts as parent and the policy and reward model in their manifest; every answer and
    score is kept in runs/OUTPUT/samples.jsonl.

    Example: winnow train sample --policy demo-sft --reward demo-reward --prompts demo-instruct \\
        --output tiny-sample --n 4
    """
    from winnow.curate.report import print_report
    from winnow.train.generation import Sampling
    from winnow.train.sample import SampleJob
    from winnow.train.sample import sample as best_of_n

    sampling = Sampling(temperature, top_p, top_k, max_new_tokens, seed)
    job = SampleJob(policy, reward, prompts, output, n, max_prompts, sampling)
    ws = Workspace.resolve(workspace)
    run, pairs, best = best_of_n(ws, job)
    console.print(
        escape(f"run {run.record['name']}: {run.record['results']['answers']:,} answers scored")
    )
    print_report(console, pairs)
    print_report(console, best)


def generate(
    model: Annotated[str, typer.Option(help="A run name, model folder, .gguf file or hub id.")],
    prompt: Annotated[str, typer.Option(help="The user message.")],
    system: Annotated[
        str | None, typer.Option(help="A system message.", show_default=False)
    ] = None,
    n: Annotated[int, typer.Option(help="Answers to sample.")] = 1,
    temperature: Temperature = 0.7,
    top_p: TopP = 0.9,
    top_k: TopK = 50,
    max_new_tokens: MaxNewTokens = 128,
    seed: Seed = 0,
    workspace: WorkspaceOption = None,
) -> None:
    """Answer PROMPT with MODEL, chat template applied, with the usual sampling controls.

    Example: winnow generate --model demo-dpo --prompt "Name three primary colours." --n 2
    """
    from winnow.train.generation import Sampling, load_model
    from winnow.train.generation import generate as sample_answers

    sampling = Sampling(temperature, top_p, top_k, max_new_tokens, seed)
    sampling.check()
    _, loaded, tokenizer = load_model(model, Workspace.resolve(workspace))
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    for index, answer in enumerate(sample_answers(loaded, tokenizer, messages, sampling, n)):
        if n > 1:
            console.print(f"[bold]answer {index + 1}[/]")
        console.print(escape(answer), highlight=False)
