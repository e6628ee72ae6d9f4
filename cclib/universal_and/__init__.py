"""The science of paper 004: dense binary weighted circuits for Universal-AND. Imports
only ``cclib.engine``.

``models`` (compute layer with bias, wide readout), ``tasks`` (exactly-s inputs, the
case-balanced loss).
"""
