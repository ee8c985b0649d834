"""Start, watch and stop the installed UI (launch, up, stop, status, logs)."""
