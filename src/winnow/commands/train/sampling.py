"""`winnow train sample` (best-of-n) and `winnow generate`: answers sampled from a model, with
the same sampling options."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from winnow.commands.options import WorkspaceOption
from winnow.console import console

Temperature = Annotated[float, typer.Option(help="Sampling temperature; 0 is greedy.")]
TopP = Annotated[
    float, typer.Option(help="Nucleus sampling: keep the smallest set of tokens with this mass.")
]
TopK = Annotated[int, typer.Option(help="Keep the k likeliest tokens; 0 keeps all.")]
MaxNewTokens = Annotated[int, typer.Option(help="Tokens generated per answer at most.")]
Seed = Annotated[int, typer.Option(help="Seeds sampling (prompt i uses seed + i).")]


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
    from winnow.workspace import Workspace

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
    from winnow.workspace import Workspace

    sampling = Sampling(temperature, top_p, top_k, max_new_tokens, seed)
    sampling.check()
    _, loaded, tokenizer = load_model(model, Workspace.resolve(workspace))
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    for index, answer in enumerate(sample_answers(loaded, tokenizer, messages, sampling, n)):
        if n > 1:
            console.print(f"[bold]answer {index + 1}[/]")
        console.print(escape(answer), highlight=False)
