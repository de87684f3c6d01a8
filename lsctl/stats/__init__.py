"""stats: paired bootstrap, hypothesis tests and Holm, over prediction files.

Light on purpose (no NumPy here): the CLI declares its options from these names.
"""

MCNEMAR_TESTS = ("exact", "chi2")  # binomial, or chi-square with continuity correction
