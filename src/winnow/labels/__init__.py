"""Labels: catalog tasks, items to label, append-only records, agreement, and exports."""
