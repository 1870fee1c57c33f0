"""Colours shared by the pictures (:mod:`ililab.viz`) and the DOT format (:mod:`ililab.formats.dot`).

A leaf module, so neither needs the other to agree on a node's colour.
"""

__all__ = ["MODALITY_COLOURS"]

# One colour per modality, in order of first appearance: colour-blind safe (Okabe & Ito).
MODALITY_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
