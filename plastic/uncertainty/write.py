"""A fit's uncertainty on disk: ``uncertainty.json`` and its figures.

`write_uncertainty` writes into a fit's folder:

- ``uncertainty.json``: per fitted scalar its value, unit, standard error, interval (Laplace,
  and the profile's where one was run), data-only standard deviation and whether the data
  constrain it; the correlation matrix; the Fisher information's eigenvalues and its sloppy
  directions; diagnostics (chi-square, degrees of freedom, warnings); settings, wall times and
  provenance;
- ``uncertainty.png``: the intervals and the correlation heatmap (`plot_intervals`);
- ``profiles.png`` with profiles, ``bands.png`` with a prediction band of the data rows,
  ``pairs.png`` and ``posterior.npz`` (the unconstrained and constrained draws) with a NUTS
  posterior, ``curves.png`` with bands along a condition (`plastic.uncertainty.curves`);
- ``draws.npz``: the parameter draws behind the bands (`plastic.uncertainty.draws`), for bands
  of predictions of one's own.
"""

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from plastic.experiment.dataset import DataSet
from plastic.provenance import provenance
from plastic.uncertainty.bands import PredictionBand
from plastic.uncertainty.draws import ParameterDraws
from plastic.uncertainty.laplace import Laplace
from plastic.uncertainty.nuts import Posterior
from plastic.uncertainty.plot import (
    plot_curve_bands,
    plot_intervals,
    plot_pairs,
    plot_prediction_bands,
    plot_profiles,
)
from plastic.uncertainty.profile import Profile

MISFIT = 2.0
"""A reduced chi-square above this is warned about: the model misses the data by more than
their SEMs, and intervals from those SEMs are too narrow."""


NOT_AT_OPTIMUM = 0.3
"""A fitted point from which a Gauss-Newton step moves a value by more standard deviations
than this is warned about: the intervals are centred on a point that is not the optimum."""


def uncertainty_warnings(laplace: Laplace, profiles: Sequence[Profile] = ()) -> list[str]:
    """What a reader of the intervals must know: misfit, too few rows, unconstrained values,
    failed profile points."""
    warnings = []
    dof = laplace.degrees_of_freedom
    if dof < 1:
        warnings.append(
            f"{laplace.n_rows} rows for {laplace.flat.size} fitted values: no degrees of freedom "
            "left; the intervals rest on the prior of the bounds"
        )
    elif laplace.chi_square / dof > MISFIT and laplace.covariance_scale == 1.0:
        warnings.append(
            f"reduced chi-square {laplace.chi_square / dof:.3g} > {MISFIT:g}: the model misses "
            "the data by more than their SEMs; these intervals are too narrow (scale them by "
            "the reduced chi-square with --scale-by-chi-square)"
        )
    away = np.asarray(laplace.distance_to_optimum())
    if np.max(away, initial=0.0) > NOT_AT_OPTIMUM:
        far = np.argsort(-away)[:3]
        warnings.append(
            "the fitted point is not at an optimum of chi-square: a Gauss-Newton step would "
            "move "
            + ", ".join(f"{laplace.names[i]} by {away[i]:.2g}" for i in far if away[i] > 0.1)
            + " standard deviations; fit longer, or polish the fit (--polish-steps)"
        )
    loose = laplace.unconstrained_parameters()
    if loose:
        warnings.append(
            f"not constrained by the data (data-only standard deviation above "
            f"{laplace.sloppy_sd:g} unconstrained units): {', '.join(loose)}"
        )
    for item in profiles:
        failed = int(np.sum(~np.asarray(item.converged)))
        if failed:
            warnings.append(
                f"profile of {item.name}: {failed} of {item.values.size} re-optimisations did "
                "not converge; their chi-square is an upper bound of the profile, so the "
                "interval may be too narrow there (raise --profile-steps)"
            )
    return warnings


def uncertainty_record(
    laplace: Laplace,
    *,
    level: float = 0.95,
    profiles: Sequence[Profile] = (),
    posterior: Posterior | None = None,
    settings: Mapping[str, object] | None = None,
    seconds: Mapping[str, float] | None = None,
) -> dict:
    """The content of ``uncertainty.json`` (JSON values; NaN and infinities as null)."""
    low, high = (np.asarray(x) for x in laplace.interval(level))
    values = np.asarray(laplace.values)
    error = np.asarray(laplace.value_standard_error)
    sd = np.asarray(laplace.standard_error)
    data_sd = np.asarray(laplace.data_standard_error)
    loose = set(laplace.unconstrained_parameters())
    by_name = {item.name: item for item in profiles}
    parameters = {}
    for i, name in enumerate(laplace.names):
        entry = {
            "value": _number(values[i]),
            "unit": laplace.flat.units[i],
            "standard_error": _number(error[i]),
            "interval": [_number(low[i]), _number(high[i])],
            "unconstrained_sd": _number(sd[i]),
            "data_only_unconstrained_sd": _number(data_sd[i]),
            "constrained_by_data": name not in loose,
        }
        if name in by_name:
            item = by_name[name]
            entry["profile_interval"] = [_number(item.low), _number(item.high)]
            entry["profile_open"] = [bool(item.open_low), bool(item.open_high)]
        parameters[name] = entry
    if posterior is not None:
        mean, sd = posterior.mean(), posterior.standard_deviation()
        low, high = posterior.interval(level)
        r_hat = np.asarray(posterior.r_hat)
        ess = np.asarray(posterior.effective_sample_size)
        for i, name in enumerate(laplace.names):
            parameters[name]["nuts"] = {
                "mean": _number(mean[i]),
                "standard_deviation": _number(sd[i]),
                "interval": [_number(low[i]), _number(high[i])],
                "r_hat": _number(r_hat[i]),
                "effective_sample_size": _number(ess[i]),
            }
    eigenvalues = np.asarray(laplace.spectrum()[0])
    dof = laplace.degrees_of_freedom
    methods = ["laplace"] + ["profile"] * bool(profiles) + ["nuts"] * (posterior is not None)
    return {
        "method": "+".join(methods),
        "level": level,
        "chi_square": laplace.chi_square,
        "n_rows": laplace.n_rows,
        "n_fitted_values": laplace.flat.size,
        "degrees_of_freedom": dof,
        "reduced_chi_square": _number(laplace.chi_square / dof) if dof > 0 else None,
        "covariance_scale": float(laplace.covariance_scale),
        "prior": "uniform between two bounds (in log for log parameters); flat otherwise"
        if bool(np.any(np.asarray(laplace.prior_precision) > 0))
        else "none (data only)",
        "sloppy_sd": laplace.sloppy_sd,
        "distance_to_optimum_sd": {
            name: _number(x)
            for name, x in zip(laplace.names, np.asarray(laplace.distance_to_optimum()))
        },
        "parameters": parameters,
        "not_constrained_by_data": sorted(loose, key=laplace.names.index),
        "correlation": {
            "names": list(laplace.names),
            "matrix": [[_number(x) for x in row] for row in np.asarray(laplace.correlation)],
        },
        "fisher_eigenvalues": [_number(x) for x in eigenvalues],
        "sloppy_directions": [{**d, "sd": _number(d["sd"])} for d in laplace.sloppy_directions()],
        "profiles": {
            item.name: {
                "values": [_number(x) for x in item.values],
                "chi_square": [_number(x) for x in item.chi_square],
                "threshold": item.threshold,
            }
            for item in profiles
        },
        "nuts": None
        if posterior is None
        else {
            "n_chains": int(posterior.draws.shape[0]),
            "n_samples": int(posterior.draws.shape[1]),
            "acceptance_rate": np.asarray(posterior.acceptance_rate).tolist(),
            "divergences": np.asarray(posterior.divergences).tolist(),
            "step_size": np.asarray(posterior.step_size).tolist(),
        },
        "warnings": uncertainty_warnings(laplace, profiles)
        + ([] if posterior is None else [f"nuts: {p}" for p in posterior.problems()]),
        "settings": dict(settings or {}),
        "seconds": dict(seconds or {}),
        "provenance": provenance(),
    }


def write_uncertainty(
    laplace: Laplace,
    directory: str | Path,
    *,
    level: float = 0.95,
    profiles: Sequence[Profile] = (),
    band: PredictionBand | None = None,
    data: DataSet | None = None,
    posterior: Posterior | None = None,
    curves: Sequence = (),
    draws: ParameterDraws | None = None,
    settings: Mapping[str, object] | None = None,
    seconds: Mapping[str, float] | None = None,
) -> dict[str, Path]:
    r"""Write ``uncertainty.json`` and ``uncertainty.png`` (and ``profiles.png``, ``bands.png``,
    ``pairs.png`` with ``posterior.npz``, ``curves.png`` when given profiles, a band of the
    predictions of ``data``'s rows, a posterior, `plastic.uncertainty.curves.ConditionCurve`\ s
    with bands, and ``draws.npz`` given the `ParameterDraws` behind the bands) into
    ``directory``.

    Returns:
        The path of each file, by name without extension.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    record = uncertainty_record(
        laplace,
        level=level,
        profiles=profiles,
        posterior=posterior,
        settings=settings,
        seconds=seconds,
    )
    paths = {
        "uncertainty": directory / "uncertainty.json",
        "intervals": directory / "uncertainty.png",
    }
    paths["uncertainty"].write_text(json.dumps(record, indent=2) + "\n")
    plot_intervals(laplace, level, paths["intervals"])
    if profiles:
        paths["profiles"] = directory / "profiles.png"
        plot_profiles(profiles, paths["profiles"])
    if band is not None:
        if data is None or np.shape(band.at_optimum) != (data.n_rows,):
            raise ValueError("a band of the data rows needs data with one row per prediction")
        paths["bands"] = directory / "bands.png"
        plot_prediction_bands(data, band, paths["bands"])
    if curves:
        if data is None:
            raise ValueError("curves need the data they were laid over")
        paths["curves"] = directory / "curves.png"
        plot_curve_bands(data, curves, paths["curves"])
    if draws is not None:
        paths["draws"] = directory / "draws.npz"
        draws.save(paths["draws"])
    if posterior is not None:
        paths["pairs"] = directory / "pairs.png"
        plot_pairs(posterior, paths["pairs"], level)
        paths["posterior"] = directory / "posterior.npz"
        np.savez(
            paths["posterior"],
            names=np.asarray(laplace.names),
            unconstrained=np.asarray(posterior.draws),
            values=np.asarray(posterior.values),
        )
    return paths


def _number(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None
