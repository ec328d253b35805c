// S2SMetrics: filled in by its issue.
