"""Names the algorithm accepts, as plain tuples: no torch, no project import.

Config validation checks ``adanet.activation`` and ``adanet.complexity`` against
these without loading torch; ``subnetwork`` builds its tables from the same names.
"""

ACTIVATION_NAMES = ("relu", "tanh", "gelu", "elu")
COMPLEXITY_NAMES = ("sqrt_depth", "rademacher")
ENCODING_NAMES = ("plain", "ple")
