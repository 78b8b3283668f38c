"""`winnow train`: tokenizers, and models trained by each registered method on datasets."""

from __future__ import annotations

import typer

from winnow.commands.train.merging import merge
from winnow.commands.train.methods import method_command
from winnow.commands.train.sampling import sample
from winnow.commands.train.tokenizer import tokenizer
from winnow.train.methods import METHODS

app = typer.Typer(help="Train tokenizers and models on datasets.", no_args_is_help=True)
app.command()(tokenizer)
for method in METHODS.values():
    app.command(method.name)(method_command(method))
app.command()(sample)
app.command()(merge)
