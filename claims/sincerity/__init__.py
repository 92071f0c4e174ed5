"""Sincerity: templated-response detection, insincerity challenges, the association's verdicts
and the sincere on-time rate."""
