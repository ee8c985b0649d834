"""Worker scripts run under a target environment's interpreter (never imported by rigfit)."""
