"""Label page: an annotator labels a dataset for a catalog task (number keys choose, S skips,
U undoes), every decision an append-only record on disk; agreement between annotators; and
export of the labels into a quality training set or a preference dataset, with lineage."""

from __future__ import annotations

import polars as pl
import streamlit as st

from winnow.dashboard.common import link, pick_dataset, shown_errors, workspace
from winnow.errors import WinnowError
from winnow.labels.agreement import agreement
from winnow.labels.export import export_preference, export_quality
from winnow.labels.items import Item, Message, check_annotator, count_items, load_items
from winnow.labels.store import LabelStore
from winnow.labels.tasks import LabelTask, load_tasks
from winnow.workspace import Workspace

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
        conversation(item.prompt)
        left, right = st.columns(2)
        with left:
            st.markdown("**A**")
            conversation(item.a)
        with right:
            st.markdown("**B**")
            conversation(item.b)


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
    show_item(item, store.task)


def agreement_view(store: LabelStore) -> None:
    """Labels per annotator, Cohen's kappa per pair and Krippendorff's alpha over all."""
    st.dataframe(
        pl.DataFrame([{"annotator": k, **v} for k, v in store.annotators().items()]),
        hide_index=True,
    )
    found = agreement(store)
    alpha = found["alpha"]
    st.metric(
        f"Krippendorff's alpha ({found['level']})",
        "n/a" if alpha is None else f"{alpha:.3f}",
        help="Over every item labelled by two annotators or more.",
    )
    st.caption(f"{found['items_shared']} items labelled by two annotators or more")
    if found["pairs"]:
        st.markdown("**Cohen's kappa per pair of annotators**")
        st.dataframe(pl.DataFrame(found["pairs"]), hide_index=True)


def export_view(ws: Workspace, store: LabelStore) -> None:
    """Write the labels as new datasets with the labelled version as parent."""
    default = f"{store.version.name}-{store.task.name}"
    output = st.text_input("Output dataset name", value=default, key="export-name")
    if store.task.kind == "rating":
        st.info("Answer ratings have no export yet; use the Agreement tab or `winnow labels show`.")
        return
    if not st.button("Export", key="export"):
        return
    if store.task.kind == "quality":
        keep, drop = export_quality(ws, store, output)
        st.success(f"wrote {keep.ref} and {drop.ref}")
        train = "winnow curate quality train --output quality.bin"
        st.code(f"{train} --positive {keep.name} --negative {drop.name}")
        link("datasets", keep.ref, dataset=keep.ref)
        link("datasets", drop.ref, dataset=drop.ref)
    else:
        version = export_preference(ws, store, output)
        st.success(f"wrote {version.ref}")
        link("datasets", version.ref, dataset=version.ref)


def render() -> None:
    """The page."""
    st.title("Label")
    ws = workspace()
    tasks = load_tasks()
    left, right = st.columns(2)
    names = list(tasks)
    wanted = st.query_params.get("task")
    name = left.selectbox(
        "Task",
        names,
        index=names.index(wanted) if wanted in names else 0,
        format_func=lambda n: tasks[n].title,
        key="task",
    )
    task = tasks[name]
    annotator = right.text_input(
        "Annotator", value=st.query_params.get("annotator", ""), key="annotator"
    )
    with st.expander("Guidelines"):
        st.markdown(task.guidelines)
    version = pick_dataset(ws, "label-dataset", lambda v: v.manifest.get("kind") in task.applies_to)
    if version is None:
        return
    store = LabelStore(ws, version, task)
    for problem in store.read()[1]:
        st.warning(problem)
    label_tab, agree_tab, export_tab = st.tabs(["Label", "Agreement", "Export"])
    with label_tab, shown_errors("labelling"):
        if not annotator.strip():
            st.info("Type your name as annotator to start.")
        else:
            labelling(store, check_annotator(annotator.strip()))
    with agree_tab, shown_errors("agreement"):
        agreement_view(store)
    with export_tab, shown_errors("export"):
        export_view(ws, store)


if __name__ == "__main__":
    try:
        render()
    except WinnowError as exc:
        st.error(str(exc))
