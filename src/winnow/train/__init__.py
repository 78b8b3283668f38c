"""Training on curated datasets: tokenizers first, then models."""
