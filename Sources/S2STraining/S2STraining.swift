// S2STraining: filled in by its issue.
