// S2SCheckpoint: filled in by its issue.
