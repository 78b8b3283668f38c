"""Keyboard help for pages driven by shortcut keys: Enter in a name box commits the name and
leaves the box, so the next key is a shortcut (label 1) and not a letter of the name ("bob1");
Streamlit's shortcuts ignore keys typed into inputs, so focus must leave the box."""

from __future__ import annotations

import json

import streamlit as st

SCRIPT = """<script>
(() => {
  const selector = SELECTOR;
  const installed = (window.winnowBlurOnEnter = window.winnowBlurOnEnter || new Set());
  if (installed.has(selector)) return;
  installed.add(selector);
  document.addEventListener("keydown", (event) => {
    const box = event.target;
    if (event.key === "Enter" && box instanceof HTMLInputElement && box.matches(selector)) {
      box.blur();
    }
  });
})();
</script>"""
"""Installed once per browser tab; the listener sits on the document, so it runs after
Streamlit's own Enter handler has committed the value, and then takes the focus away."""


def blur_on_enter(*keys: str) -> None:
    """Make Enter in the text inputs with these widget keys commit the value and let go of the
    focus (Streamlit marks each keyed widget's container with the class st-key-KEY)."""
    selector = ", ".join(f".st-key-{key} input" for key in keys)
    st.html(SCRIPT.replace("SELECTOR", json.dumps(selector)), unsafe_allow_javascript=True)
