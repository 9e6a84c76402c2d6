"""Electrical and calcium biophysics of the dendrite and its spines."""

from plastic.biophysics.calcium import CalciumHandling as CalciumHandling
from plastic.biophysics.calcium_store import AbstractCalciumStore as AbstractCalciumStore
from plastic.biophysics.calcium_store import SpineCalciumStore as SpineCalciumStore
from plastic.biophysics.channels import SomaticSpike as SomaticSpike
from plastic.biophysics.channels import (
    VoltageGatedCalciumChannel as VoltageGatedCalciumChannel,
)
from plastic.biophysics.indicator import AbstractCalciumIndicator as AbstractCalciumIndicator
from plastic.biophysics.indicator import CalciumIndicator as CalciumIndicator
from plastic.biophysics.receptors import AbstractGlutamateReceptor as AbstractGlutamateReceptor
from plastic.biophysics.receptors import AMPAReceptor as AMPAReceptor
from plastic.biophysics.receptors import NMDAReceptor as NMDAReceptor
