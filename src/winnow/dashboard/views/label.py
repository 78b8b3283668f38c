"""Label page: an annotator labels a dataset for a catalog task (number keys choose, S skips,
U undoes) with the row's metadata and model suggestions beside it, every decision an
append-only record on disk; agreement between annotators and the items they disagree on; and
export of the labels into a quality training set or a preference dataset, with lineage. Task,
annotator and dataset live in the URL, so a reload resumes the same session."""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from winnow.annotate.agreement import machine_labels
from winnow.dashboard import url_state
from winnow.dashboard.common import pick_dataset, shown_errors, workspace
from winnow.dashboard.item_details import show_details
from winnow.dashboard.keyboard import blur_on_enter
from winnow.dashboard.label_export import export_view
from winnow.errors import WinnowError
from winnow.labels.agreement import agreement
from winnow.labels.details import item_details
from winnow.labels.disagreements import disagreed_items, disagreements, preview
from winnow.labels.items import Item, Message, check_annotator, count_items, load_items
from winnow.labels.store import LabelStore
from winnow.labels.tasks import LabelTask, load_tasks

ITEM_LIMIT = 10_000  # items loaded for a labelling session; a million-row corpus stays light


def conversation(messages: list[Message]) -> None:
    """Chat messages, one block per turn."""
    for message in messages:
        st.markdown(f"**{message['role']}**")
        st.text(message["content"])


def show_item(item: Item, task: LabelTask) -> None:
    """The item as the task needs it: a document, a prompt and answer, or two answers."""
    st.caption(f"item `{item.id}`")
    if task.kind == "quality":
        st.text(item.text or "")
    elif task.kind == "rating":
        conversation(item.prompt)
        st.markdown("**Answer**")
        st.text(item.answer or "")
    else:
        pair_view(item, ("A", "B"))


def pair_view(item: Item, names: tuple[str, str]) -> None:
    """A pair's prompt, then its two answers side by side under the given names."""
    conversation(item.prompt)
    for column, name, side in zip(st.columns(2), names, (item.a, item.b), strict=True):
        with column:
            st.markdown(f"**{name}**")
            conversation(side)


def decide(store: LabelStore, item: Item, annotator: str, value: str | None) -> None:
    """Button callback: write the label (or a skip) for the item that was on screen."""
    if value is None:
        store.skip(item, annotator)
    else:
        store.append(item, annotator, value)


def retract(store: LabelStore, annotator: str) -> None:
    """Button callback: undo the annotator's latest decision."""
    if store.undo(annotator) is None:
        st.session_state["undo-note"] = "Nothing to undo."


def buttons(store: LabelStore, item: Item, annotator: str) -> None:
    """One button per choice with its number key, then skip (S) and undo (U)."""
    choices = store.task.choices
    cols = st.columns(len(choices) + 2)
    for col, choice in zip(cols, choices, strict=False):
        col.button(
            choice.caption,
            key=f"choice-{choice.value}",
            shortcut=choice.key,
            on_click=decide,
            args=(store, item, annotator, choice.value),
        )
    cols[-2].button(
        "Skip", key="skip", shortcut="S", on_click=decide, args=(store, item, annotator, None)
    )
    cols[-1].button("Undo", key="undo", shortcut="U", on_click=retract, args=(store, annotator))


def labelling(store: LabelStore, annotator: str) -> None:
    """Progress, the next item and its buttons."""
    total = count_items(store.version, store.task)
    items = load_items(store.version, store.task, annotator, limit=ITEM_LIMIT)
    progress = store.progress(annotator, total)
    st.progress(
        progress["done"] / max(total, 1),
        text=f"{annotator}: {progress['labelled']} labelled, {progress['skipped']} skipped, "
        f"{progress['left']} left of {total}",
    )
    if note := st.session_state.pop("undo-note", None):
        st.info(note)
    item = store.next_item(items, annotator)
    if item is None:
        st.success(
            "Every item is done. Undo (U) goes back one; the Agreement tab compares annotators."
        )
        st.button("Undo", key="undo", shortcut="U", on_click=retract, args=(store, annotator))
        return
    buttons(store, item, annotator)
    main, side = st.columns([3, 1])
    with main:
        show_item(item, store.task)
    with side, shown_errors("the record's columns"):
        show_details(item_details(store.version, store.task, item.id))


def agreement_view(store: LabelStore) -> None:
    """Labels per annotator, Cohen's kappa per pair and Krippendorff's alpha over all (on an
    annotation dataset, its LLM counts as one more annotator)."""
    st.dataframe(
        pl.DataFrame([{"annotator": k, **v} for k, v in store.annotators().items()]),
        hide_index=True,
    )
    machine: dict[str, dict[str, str]] = {}
    with shown_errors("the LLM annotator's scores"):
        machine = machine_labels(store.version, store.task)
    found = agreement(store, machine)
    alpha = found["alpha"]
    st.metric(
        f"Krippendorff's alpha ({found['level']})",
        "n/a" if alpha is None else f"{alpha:.3f}",
        help="Over every item labelled by two annotators or more.",
    )
    st.caption(f"{found['items_shared']} items labelled by two annotators or more")
    if machine:
        st.caption(f"{', '.join(machine)}: the scores of the LLM that made this dataset")
    if found["pairs"]:
        st.markdown("**Cohen's kappa per pair of annotators**")
        st.dataframe(pl.DataFrame(found["pairs"]), hide_index=True)


def who_said(row: dict[str, Any]) -> str:
    """Each annotator's label of a disagreements row, on one line."""
    labels = {who: value for who, value in row.items() if who != "item_id" and value is not None}
    return " · ".join(f"{who}: {value}" for who, value in labels.items())


def judged_item(item: Item, task: LabelTask) -> None:
    """A disagreed item in full; a pair's sides as the dataset names them, as its labels do."""
    if task.kind != "pairwise":
        show_item(item, task)
        return
    st.caption(f"item `{item.id}`")
    pair_view(item, ("chosen", "rejected"))


def disagreement_view(store: LabelStore) -> None:
    """The items annotators labelled differently: each item's text, shortened, beside each
    annotator's label, and one item opened in full with its record, so a reviewer can judge."""
    rows = disagreements(store)
    if not rows:
        st.info("No item has differing labels from two annotators or more.")
        return
    items = disagreed_items(store, rows)
    st.caption(
        f"{len(rows)} items labelled differently by two annotators or more; open one below "
        "to read it in full"
    )
    table = [
        {"item_id": row["item_id"], "text": preview(items.get(row["item_id"]))} | row
        for row in rows
    ]
    st.dataframe(pl.DataFrame(table), hide_index=True)
    said = {row["item_id"]: who_said(row) for row in rows}
    chosen = st.selectbox(
        "Open item", list(said), format_func=lambda i: f"{i} · {said[i]}", key="disagreement-open"
    )
    st.markdown(f"**{said[chosen]}**")
    if chosen not in items:
        st.info(f"Item {chosen} is not among the kept rows of {store.version.ref}.")
        return
    main, side = st.columns([3, 1])
    with main:
        judged_item(items[chosen], store.task)
    with side, shown_errors("the record's columns"):
        show_details(item_details(store.version, store.task, chosen))


def render() -> None:
    """The page."""
    st.title("Label")
    ws = workspace()
    tasks = load_tasks()
    left, right = st.columns(2)
    titles = {name: task.title for name, task in tasks.items()}
    name = url_state.choice(
        left.selectbox, "Task", list(tasks), "task", "task", format_func=titles.get
    )
    task = tasks[name]
    annotator = url_state.text(
        right.text_input,
        "Annotator",
        "annotator",
        help="Press Enter to start: the name is kept in the URL and the keys then label.",
    )
    blur_on_enter("annotator")
    with st.expander("Guidelines"):
        st.markdown(task.guidelines)
    version = pick_dataset(ws, "label-dataset", lambda v: v.manifest.get("kind") in task.applies_to)
    if version is None:
        return
    store = LabelStore(ws, version, task)
    for problem in store.read()[1]:
        st.warning(problem)
    label_tab, agree_tab, differ_tab, export_tab = st.tabs(
        ["Label", "Agreement", "Disagreements", "Export"]
    )
    with label_tab, shown_errors("labelling"):
        if not annotator.strip():
            st.info("Type your name as annotator to start.")
        else:
            labelling(store, check_annotator(annotator.strip()))
    with agree_tab, shown_errors("agreement"):
        agreement_view(store)
    with differ_tab, shown_errors("disagreements"):
        disagreement_view(store)
    with export_tab, shown_errors("export"):
        export_view(ws, store)


if __name__ == "__main__":
    try:
        render()
    except WinnowError as exc:
        st.error(str(exc))
