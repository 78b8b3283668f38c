"""lm-eval's HF model, registered as `winnow`, that computes each shared token prefix once.

lm-eval's HF model runs one full row per (context, continuation) request. Here all the
continuations of a context (each choice of a multiple-choice question) ride in one row after
it, and contexts that begin with the same token ids (few-shot examples, a task instruction)
share one copy of that prefix. A tree attention mask lets each token see exactly the tokens
that precede it in its own request, at the positions it has there, so every log-likelihood is
the one lm-eval computes (up to float rounding); lm-eval's request building, tokenization,
metrics and aggregation are untouched, and only the forward passes change."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from lm_eval.api.registry import register_model
from lm_eval.models.huggingface import HFLM
from tqdm import tqdm

Request = tuple[Any, list[int], list[int]]
"""lm-eval's ((context, continuation) strings or None, context ids, continuation ids)."""

Answer = tuple[float, bool]
"""lm-eval's (log-likelihood of the continuation, whether greedy decoding gives it)."""

MASKS = {"sdpa", "eager"}
"""Attention implementations that take a custom 4-D mask as given."""

MIN_SHARED = 16
"""Leading tokens two contexts must share to be joined in one row."""

ROW_TOKENS = 1024
"""Tokens a row of joined contexts may reach (a lone context may be longer)."""

ROW_SCORED = 256
"""Scored positions (logits kept) a row of joined contexts may reach."""

SAVING = 0.8
"""A row is run here only when its tokens are at most this share of what lm-eval would run
for the same requests; else (two long choices after a short question) lm-eval's own path is
as fast."""

STEM, PAD = -1, -2
"""Group marks of a row's shared prefix and of its padding."""


@dataclass
class Group:
    """Requests whose context token ids are the same: scored from one copy of the context."""

    context: tuple[int, ...]
    members: list[int] = field(default_factory=list)

    def packed(self, requests: list[Request]) -> int:
        """Tokens after the context: every continuation but its last token."""
        return sum(len(requests[i][2]) - 1 for i in self.members)


@dataclass
class Family:
    """Groups whose contexts begin with the same `stem`: one row holds them all."""

    stem: tuple[int, ...]
    groups: list[Group]
    tokens: int
    scored: int

    @classmethod
    def of(cls, group: Group, requests: list[Request]) -> Family:
        """A row of one group."""
        packed = group.packed(requests)
        return cls(group.context, [group], len(group.context) + packed, 1 + packed)

    def joined(self, group: Group, requests: list[Request]) -> Family | None:
        """This row with `group` added, or None where they share too little or it gets too
        long."""
        shared = common_prefix(self.stem, group.context)
        if shared < MIN_SHARED:
            return None
        packed = group.packed(requests)
        tokens = self.tokens + len(group.context) + packed - shared
        scored = self.scored + 1 + packed
        if tokens > ROW_TOKENS or scored > ROW_SCORED:
            return None
        return Family(self.stem[:shared], [*self.groups, group], tokens, scored)


def lm_eval_tokens(group: Group, requests: list[Request]) -> int:
    """Tokens lm-eval's HF model runs for a group: one row per continuation, or one row in
    all when every continuation is a single token (its one-token logits cache)."""
    lengths = [len(requests[i][2]) for i in group.members]
    if max(lengths) == 1:
        return len(group.context)
    return sum(len(group.context) + n - 1 for n in lengths)


def pays(family: Family, requests: list[Request]) -> bool:
    """Whether a row runs at most SAVING of the tokens lm-eval would for its requests."""
    return family.tokens <= SAVING * sum(lm_eval_tokens(g, requests) for g in family.groups)


def common_prefix(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    """How many leading token ids `a` and `b` share."""
    for count, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return count
    return min(len(a), len(b))


def shared_groups(requests: list[Request], window: int) -> tuple[list[Group], list[int]]:
    """Requests grouped by context; the rest go to lm-eval's own path: an empty context or
    continuation (which lm-eval refuses) and one whose context and continuation exceed
    `window` (which lm-eval truncates)."""
    groups: dict[tuple[int, ...], Group] = {}
    rest = []
    for index, (_, context, continuation) in enumerate(requests):
        if not continuation or not context or len(context) + len(continuation) > window:
            rest.append(index)
            continue
        key = tuple(context)
        groups.setdefault(key, Group(key)).members.append(index)
    return list(groups.values()), rest


def families(groups: list[Group], requests: list[Request]) -> list[Family]:
    """Rows: contexts in token order, each joined to the row before where they share at
    least MIN_SHARED leading tokens; longest row first, as lm-eval orders its batches."""
    rows: list[Family] = []
    for group in sorted(groups, key=lambda g: g.context):
        joined = rows[-1].joined(group, requests) if rows else None
        if joined:
            rows[-1] = joined
        else:
            rows.append(Family.of(group, requests))
    rows.sort(key=lambda f: (-f.tokens, f.stem))
    return rows


@dataclass
class Token:
    """One column of a row: its id, position in its request, group and continuation."""

    id: int
    position: int
    group: int
    branch: int


def row_tokens(family: Family, requests: list[Request]) -> tuple[list[Token], list[Token]]:
    """A row's unscored tokens (the stem, each context's own part but its last token) and
    its scored ones (each context's last token and its continuations' tokens but the last)."""
    stem = len(family.stem)
    front = [Token(t, p, STEM, STEM) for p, t in enumerate(family.stem)]
    bare = any(len(g.context) == stem for g in family.groups)
    stem_last = front.pop() if bare else None
    scored: list[Token] = []
    for number, group in enumerate(family.groups):
        own = [Token(t, p, number, STEM) for p, t in enumerate(group.context) if p >= stem]
        front += own[:-1]
        last = own[-1] if own else stem_last
        if last is None:
            raise RuntimeError("a context without tokens was laid out")
        scored.append(last)
        start = len(group.context)
        for index in group.members:
            tail = requests[index][2][:-1]
            scored += [Token(t, start + p, number, index) for p, t in enumerate(tail)]
    return front, scored


@dataclass
class Rows:
    """A batch of rows for one pass: left-padded, each ending with its scored tokens."""

    ids: torch.Tensor
    positions: torch.Tensor
    mask: torch.Tensor
    keep: int
    """Logit columns kept, counted from the end: the longest run of scored tokens."""
    columns: dict[int, list[int]]
    """Per request: the kept columns whose logits predict its continuation's tokens."""


def lay_out(batch: list[Family], requests: list[Request]) -> Rows:
    """Token ids, positions and a boolean (query, key) attention mask for `batch`: a token
    sees the tokens at earlier or equal positions of the stem, of its own context, and of its
    own continuation; nothing else (the order of columns plays no part)."""
    laid = [row_tokens(f, requests) for f in batch]
    size = max(len(front) + len(scored) for front, scored in laid)
    keep = max(len(scored) for _, scored in laid)
    ids = torch.zeros((len(batch), size), dtype=torch.long)
    positions = torch.zeros((len(batch), size), dtype=torch.long)
    groups = torch.full((len(batch), size), PAD, dtype=torch.long)
    branches = torch.full((len(batch), size), PAD, dtype=torch.long)
    columns: dict[int, list[int]] = {}
    for row, ((front, scored), family) in enumerate(zip(laid, batch, strict=True)):
        tokens = front + scored
        pad = size - len(tokens)
        ids[row, pad:] = torch.tensor([t.id for t in tokens])
        positions[row, pad:] = torch.tensor([t.position for t in tokens])
        groups[row, pad:] = torch.tensor([t.group for t in tokens])
        branches[row, pad:] = torch.tensor([t.branch for t in tokens])
        first = keep - len(scored)
        by_branch: dict[int, list[int]] = {}
        for column, token in enumerate(scored, start=first):
            by_branch.setdefault(token.branch, []).append(column)
        for number, group in enumerate(family.groups):
            for index in group.members:
                columns[index] = [by_branch[STEM][number], *by_branch.get(index, [])]
    gq, gk = groups.unsqueeze(2), groups.unsqueeze(1)
    bq, bk = branches.unsqueeze(2), branches.unsqueeze(1)
    earlier = positions.unsqueeze(1) <= positions.unsqueeze(2)
    mask = earlier & ((gk == STEM) | ((gk == gq) & ((bk == STEM) | (bk == bq))))
    return Rows(ids, positions, mask.unsqueeze(1), keep, columns)


@register_model("winnow")
class SharedContextLM(HFLM):
    """HFLM whose log-likelihoods come from one row per distinct context holding all its
    continuations, instead of one full row per (context, continuation) pair."""

    def _loglikelihood_tokens(
        self,
        requests: list[Request],
        disable_tqdm: bool = False,
        override_bs: int | None = None,
    ) -> list[Answer]:
        """lm-eval's answers in lm-eval's order; the cache hook gets each as HFLM gives it."""
        if not self.shares():
            return super()._loglikelihood_tokens(requests, disable_tqdm, override_bs)
        groups, rest = shared_groups(requests, self.window())
        rows = []
        for family in families(groups, requests):
            if pays(family, requests):
                rows.append(family)
            else:
                rest += [i for g in family.groups for i in g.members]
        answers: list[Answer | None] = [None] * len(requests)
        if rest:
            alone = super()._loglikelihood_tokens([requests[i] for i in rest], True, override_bs)
            for index, answer in zip(rest, alone, strict=True):
                answers[index] = answer
        size = self.contexts_per_batch(requests, override_bs)
        bar = tqdm(
            total=len(requests) - len(rest),
            disable=disable_tqdm or self.rank != 0,
            desc="Running loglikelihood requests (shared contexts)",
        )
        for start in range(0, len(rows), size):
            for index, answer in self.score(rows[start : start + size], requests):
                answers[index] = answer
                if requests[index][0] is not None:
                    self.cache_hook.add_partial("loglikelihood", requests[index][0], answer)
                bar.update(1)
        bar.close()
        if any(a is None for a in answers):
            raise RuntimeError("a log-likelihood request was left unscored")
        return answers  # type: ignore[return-value]

    def shares(self) -> bool:
        """Whether this model can take shared rows: a decoder whose attention takes a custom
        mask and whose forward keeps only the logits asked for."""
        forward = inspect.signature(self.model.forward).parameters
        return (
            self.backend == "causal"
            and self.model.config._attn_implementation in MASKS
            and {"position_ids", "logits_to_keep"} <= set(forward)
        )

    def window(self) -> int:
        """The longest context plus continuation lm-eval scores untruncated, and no longer
        than a sliding attention window (which a custom mask would not apply)."""
        sliding = getattr(self.model.config, "sliding_window", None)
        return min(self.max_length + 1, sliding or self.max_length + 1)

    def contexts_per_batch(self, requests: list[Request], override_bs: int | None) -> int:
        """lm-eval's batch size, read as contexts per pass (`auto` sized by lm-eval's own
        search on the longest request)."""
        if isinstance(self.batch_size, int):
            return self.batch_size
        return override_bs or self._detect_batch_size(requests)

    def score(self, batch: list[Family], requests: list[Request]) -> list[tuple[int, Answer]]:
        """One pass over `batch`, keeping the logits of scored columns only."""
        rows = lay_out(batch, requests)
        mask = rows.mask.to(self.device)
        if self.model.config._attn_implementation == "eager":
            low = torch.finfo(self.model.dtype).min
            mask = torch.zeros(mask.shape, dtype=self.model.dtype, device=self.device).masked_fill(
                ~mask, low
            )
        with torch.no_grad(), self.precision():
            logits = self.model(
                input_ids=rows.ids.to(self.device),
                attention_mask=mask,
                position_ids=rows.positions.to(self.device),
                use_cache=False,
                logits_to_keep=rows.keep,
            ).logits
        logprobs = F.log_softmax(logits, dim=-1, dtype=self.softmax_dtype)
        found = []
        for row, family in enumerate(batch):
            for index in (i for g in family.groups for i in g.members):
                tokens = requests[index][2]
                scored = logprobs[row, torch.tensor(rows.columns[index], device=self.device)]
                target = torch.tensor(tokens, dtype=torch.long, device=self.device)
                logprob = scored.gather(1, target.unsqueeze(-1)).sum()
                greedy = bool((scored.argmax(-1) == target).all())
                found.append((index, (float(logprob), greedy)))
        return found

    def precision(self) -> torch.autocast:
        """lm-eval's autocast setting for the model call (off unless mixed precision asked)."""
        return torch.autocast(
            device_type=self.device.type,
            dtype=self.mixed_precision_dtype,
            enabled=self.mixed_precision_dtype is not None,
        )
