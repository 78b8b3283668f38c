"""The panel beside an item on the Label page: where the row came from, what models already
said about it, and its other columns, so an annotator decides with the row's context."""

from __future__ import annotations

from typing import Any

import streamlit as st

from winnow.labels.details import Details


def plain(value: Any) -> str:
    """A value as short text: floats to four significant digits, text in code spans."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        return "`" + value.replace("`", "'").replace("\n", " ") + "`"
    return str(value)


def lines(values: dict[str, Any]) -> str:
    """One markdown line per column."""
    return "\n".join(f"- {name}: {plain(value)}" for name, value in values.items())


def show_details(details: Details) -> None:
    """Provenance, model suggestions (when the row has any) and the other columns folded."""
    st.markdown("**Record**\n\n" + lines(details.provenance))
    if details.suggestions:
        st.markdown("**Model suggestions**\n\n" + lines(details.suggestions))
    if details.other:
        with st.expander(f"{len(details.other)} more columns"):
            st.markdown(lines(details.other))
