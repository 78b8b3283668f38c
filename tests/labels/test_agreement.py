"""Agreement statistics against published and reference values, and on real label records."""

import math

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from tests.labels.conftest import keep_drop_store, label, store_of
from winnow.labels.agreement import agreement, cohen_kappa, krippendorff_alpha
from winnow.labels.items import load_items
from winnow.workspace import Workspace

N = None
RELIABILITY_DATA = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    "C": [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
}
"""Four observers, twelve units, missing values: the example of Krippendorff (2011),
"Computing Krippendorff's Alpha-Reliability", section C, also on Wikipedia."""


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_alpha_matches_krippendorffs_worked_example(level: str, published: float):
    units = {u: {coder: values[u] for coder, values in RELIABILITY_DATA.items()} for u in range(12)}
    assert round(krippendorff_alpha(units, level), 3) == published


def test_alpha_reads_string_values_in_the_given_order_and_ignores_lone_values():
    units: dict = {
        u: {c: None if v[u] is None else str(v[u]) for c, v in RELIABILITY_DATA.items()}
        for u in range(12)
    }
    units["lonely"] = {"A": "5"}
    order = ["1", "2", "3", "4", "5"]
    assert round(krippendorff_alpha(units, "ordinal", order), 3) == 0.815
    assert round(krippendorff_alpha(units, "interval", order), 3) == 0.849
    assert math.isnan(krippendorff_alpha({"x": {"A": "1"}}))
    assert math.isnan(krippendorff_alpha({"x": {"A": "1", "B": "1"}})), "no variation at all"


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_kappa_matches_scikit_learn(weights: str | None):
    rng = np.random.default_rng(7)
    first = rng.integers(1, 6, 300)
    second = np.clip(first + rng.integers(-2, 3, 300), 1, 5)
    expected = cohen_kappa_score(first, second, weights=weights)
    assert cohen_kappa(list(first), list(second), weights=weights) == pytest.approx(expected)
    words = ["keep" if v > 2 else "drop" for v in first]
    others = ["keep" if v > 2 else "drop" for v in second]
    assert cohen_kappa(words, others) == pytest.approx(cohen_kappa_score(words, others))


def test_agreement_of_real_keep_drop_labels(ws: Workspace):
    store = keep_drop_store(ws)
    result = agreement(store)
    assert result["annotators"] == {"alice": 14, "bob": 14, "carol": 1}
    assert (result["items_labelled"], result["items_shared"], result["labels"]) == (14, 14, 29)
    alice_bob = result["pairs"][0]
    assert (alice_bob["a"], alice_bob["b"], alice_bob["items"]) == ("alice", "bob", 14)
    current = store.current()
    ids = sorted(item_id for who, item_id in current if who == "alice")
    a = [current[("alice", i)]["label"] for i in ids]
    b = [current[("bob", i)]["label"] for i in ids]
    assert alice_bob["kappa"] == round(cohen_kappa_score(a, b), 4)
    assert alice_bob["agreement"] == round(12 / 14, 4)
    assert "weighted_kappa" not in alice_bob, "keep/drop is nominal"
    assert result["pairs"][1]["items"] == 1 and result["pairs"][1]["kappa"] is None
    units = {i: {w: r["label"] for (w, j), r in current.items() if j == i} for i in ids}
    assert result["alpha"] == round(krippendorff_alpha(units, "nominal"), 4)


def test_pairwise_agreement_compares_preferred_sides_not_positions(ws: Workspace):
    store = store_of(ws, "pairs", "pairwise")
    wanted = ["chosen"] * 6 + ["rejected"] * 3 + ["tie"]
    for annotator in ("alice", "bob"):
        items = load_items(store.version, store.task, annotator)[: len(wanted)]
        label(
            store,
            annotator,
            {
                item.id: "tie" if side == "tie" else "A" if item.order == side else "B"
                for item, side in zip(items, wanted, strict=True)
            },
        )
    as_shown = {(w, i): r["label"] for (w, i), r in store.current().items()}
    assert any(as_shown[("alice", i)] != as_shown[("bob", i)] for _, i in as_shown)
    result = agreement(store)
    assert result["level"] == "nominal"
    assert result["pairs"][0]["kappa"] == 1.0 and result["alpha"] == 1.0


def test_ordinal_tasks_also_report_weighted_kappa(ws: Workspace):
    store = store_of(ws, "instruct", "answer-rating")
    items = load_items(store.version, store.task, "alice")
    first = ["5", "4", "4", "2", "3", "5", "1", "4", "3", "5"]
    second = ["4", "4", "5", "1", "3", "5", "2", "4", "2", "5"]
    label(store, "alice", {i.id: v for i, v in zip(items, first, strict=True)})
    label(store, "bob", {i.id: v for i, v in zip(items, second, strict=True)})
    pair = agreement(store)["pairs"][0]
    assert pair["kappa"] == round(cohen_kappa_score(first, second), 4)
    assert pair["weighted_kappa"] == round(cohen_kappa_score(first, second, weights="quadratic"), 4)
    assert pair["weighted_kappa"] > pair["kappa"], "near misses count as near agreement"
