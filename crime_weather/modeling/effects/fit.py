"""The fit itself: a count GLM with errors clustered by day, Poisson or negative binomial as the
counts' overdispersion decides.

Weather is one value per day for the whole city, so errors are clustered by day (statsmodels'
sandwich estimator): 15 comunas on one rainy day are one observation of rain, not fifteen.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.discrete.discrete_model import NegativeBinomial
from statsmodels.genmod.generalized_linear_model import GLMResults
from statsmodels.tools.sm_exceptions import ConvergenceWarning

OVERDISPERSED = 1.2  # Pearson dispersion of the Poisson fit above which the negative binomial is used


@dataclass
class Family:
    name: str
    family: sm.families.Family
    dispersion: float
    alpha: float | None
    start: pd.Series  # coefficients of the chosen family's fit of the main design


def fit(
    y: pd.Series,
    design: pd.DataFrame,
    family: sm.families.Family,
    groups: np.ndarray,
    start: pd.Series | None = None,
) -> GLMResults:
    """The GLM with day-clustered errors; `start` (a fit of a nested design) saves IRLS iterations."""
    params = None if start is None else start.reindex(design.columns, fill_value=0.0).to_numpy()
    return sm.GLM(y, design, family=family).fit(
        start_params=params, cov_type="cluster", cov_kwds={"groups": groups}
    )


def choose_family(y: pd.Series, design: pd.DataFrame, groups: np.ndarray) -> Family:
    """Poisson, unless its Pearson dispersion says the counts vary more: then a negative binomial
    (NB2) whose alpha is the maximum-likelihood one. Either way errors are clustered by day."""
    poisson = fit(y, design, sm.families.Poisson(), groups)
    dispersion = float(poisson.pearson_chi2 / poisson.df_resid)
    if dispersion <= OVERDISPERSED:
        return Family("Poisson", sm.families.Poisson(), dispersion, None, poisson.params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = np.append(poisson.params.to_numpy(), 0.05)
        try:
            nb = NegativeBinomial(y, design).fit(start_params=start, method="newton", maxiter=50, disp=0)
            alpha = float(nb.params.iloc[-1])
        except (np.linalg.LinAlgError, ValueError):
            alpha = math.nan
    if not (math.isfinite(alpha) and alpha > 0):  # no MLE: Poisson with robust errors is still valid
        return Family(
            "Poisson (NB alpha not estimable)", sm.families.Poisson(), dispersion, None, poisson.params
        )
    family = sm.families.NegativeBinomial(alpha=alpha)
    start = pd.Series(nb.params.to_numpy()[:-1], index=design.columns)
    return Family(f"negative binomial (NB2, alpha {alpha:.4f})", family, dispersion, alpha, start)
