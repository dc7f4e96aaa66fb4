"""The paper's claims measured at laptop scale: one change at a time against a base recipe, over seeds.

``protocol`` (the arms and ``run_protocol``), ``measures`` (the definitions: convergence, plateau exit,
Welch interval, kernel chroma, retrieval precision) and ``report`` (the CSVs and the summary table).
``python -m alexnet_keras ablation`` runs it; notebook 05 reads what it wrote.
"""
