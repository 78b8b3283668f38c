"""A page's choices kept in the URL, so that a reload or a shared link reopens what is on
screen: widgets start from the query parameters, a link with another value switches them, and
a change made by hand is written back. Only values a page accepts are taken from the URL."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st


def choice(
    widget: Callable[..., Any],
    label: str,
    options: Sequence[str],
    key: str,
    param: str,
    **widget_args: Any,
) -> Any:
    """A selectbox or radio whose choice is the query parameter PARAM: a link or a reload with
    another value switches it (Streamlit keeps a keyed widget's old value otherwise), and a
    choice made by hand goes into the URL (the first option, the default, only to replace
    another value); values not among the options are never taken."""
    wanted = st.query_params.get(param)
    seen = f"{key}@url"
    if wanted in options and (wanted != st.session_state.get(seen) or key not in st.session_state):
        st.session_state[key] = wanted
    st.session_state[seen] = wanted
    if st.session_state.get(key) not in options:
        st.session_state.pop(key, None)
    value = widget(label, options, key=key, **widget_args)
    if value is not None and (wanted is not None or value != options[0]):
        st.query_params[param] = value  # also when unchanged: a link to the same page
        st.session_state[seen] = value  # changes the page but not the browser's URL
    return value


def text(widget: Callable[..., Any], label: str, key: str, **widget_args: Any) -> str:
    """A text input started from the query parameter KEY on the session's first run of the
    page, its stripped value written back (an empty one removes the parameter)."""
    wanted = st.query_params.get(key)
    if key not in st.session_state and wanted is not None:
        st.session_state[key] = wanted
    value = widget(label, key=key, **widget_args).strip()
    if value and st.query_params.get(key) != value:
        st.query_params[key] = value
    elif not value and key in st.query_params:
        del st.query_params[key]
    return value
