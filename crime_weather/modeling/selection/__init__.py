"""Which model serves: the split, folds, backtest, bootstrap CIs, the search, the contest and promotion."""
